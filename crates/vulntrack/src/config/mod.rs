//! Typed configuration: defaults, then an optional `vulntrack.toml`, then the
//! environment. Secrets come only from the environment or a `NAME_FILE` file,
//! never from the config file, and `Debug` never shows them.
//!
//! Every malformed value is reported as one error naming the variable, so
//! `main` can print it on one line and exit with status 2.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment,
    providers::{Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use vulntrack_store::{DatabaseUrl, database::redact_password};

mod settings;

use settings::{Origin, variable_of};
pub use settings::{SettingValue, Settings};

/// The shortest secret accepted: 256 bits, the HS256 key size.
pub const MIN_SECRET_BYTES: usize = 32;
const SECRET_FILE_NAME: &str = "secret";
const CONFIG_FILE_VARIABLE: &str = "VULNTRACK_CONFIG";
const DEFAULT_CONFIG_FILE: &str = "vulntrack.toml";

/// A configuration value that cannot be used, named as the operator set it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Self { variable: variable.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// Who may create an account without being invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registration {
    /// Only people holding an invitation (the default).
    InviteOnly,
    /// Anyone; each self-registered person gets a new team and is its ADMIN.
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the signing secret comes from.
#[derive(Clone)]
pub enum SecretSource {
    /// Set by the operator through `VULNTRACK_SECRET` or `VULNTRACK_SECRET_FILE`.
    Provided(SecretString),
    /// Development only: read from, or generated into, this file.
    DataDirFile(PathBuf),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Provided(_) => f.write_str("[redacted]"),
            SecretSource::DataDirFile(path) => write!(f, "generated, kept in {}", path.display()),
        }
    }
}

/// The effective, validated configuration: the settings, the secrets, and
/// the values that follow from several settings together.
#[derive(Debug, Clone)]
pub struct Config {
    /// Every non-secret setting as the operator gave it (or its default);
    /// `config.bind` and the like reach them directly.
    pub settings: Settings,
    pub database_url: DatabaseUrl,
    /// A more privileged role's URL for migrations (the server's own role
    /// then needs no right to change the schema).
    pub migrate_database_url: Option<DatabaseUrl>,
    pub secret: SecretSource,
    /// The secret in force before a rotation: still verifies old sessions.
    pub secret_previous: Option<SecretString>,
    /// `smtp://` or `smtps://` URL for sending mail; without it, reset links
    /// are written to the server log.
    pub smtp_url: Option<SecretString>,
    /// Shared rate limits across instances; in memory without it.
    pub redis_url: Option<SecretString>,
    /// With it, `/metrics` on the main listener answers this bearer token.
    pub metrics_token: Option<SecretString>,
    /// Security alerts are POSTed here as JSON.
    pub alert_webhook_url: Option<Url>,
    /// Sent as the NVD API's `apiKey` header by the catalogue sync.
    pub nvd_api_key: Option<SecretString>,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// The public URL in force: the setting, or `http://` and the bind
    /// address in development.
    pub public_url: Url,
    /// The log format in force: the setting, or JSON in production.
    pub log_format: LogFormat,
    /// The `Strict-Transport-Security` value sent, if any.
    pub hsts: Option<String>,
    /// Serve HTTPS with these PEM files (both settings given).
    pub tls: Option<TlsFiles>,
}

/// Settings are read as `config.bind`: the configuration *is* its settings
/// plus what follows from them.
impl std::ops::Deref for Config {
    type Target = Settings;
    fn deref(&self) -> &Settings {
        &self.settings
    }
}

impl std::ops::DerefMut for Config {
    fn deref_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }
}

/// PEM files for HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The HSTS value production sends unless configured otherwise.
pub const DEFAULT_HSTS: &str = "max-age=63072000; includeSubDomains; preload";

/// Secrets are read by [`read_secret`] so that `_FILE` works; they are not
/// settings and a config file may not hold them.
const SECRET_VARIABLES: &[&str] = &[
    "VULNTRACK_SECRET",
    "VULNTRACK_SECRET_PREVIOUS",
    "VULNTRACK_MIGRATE_DATABASE_URL",
    "VULNTRACK_SMTP_URL",
    "VULNTRACK_METRICS_TOKEN",
    "VULNTRACK_ALERT_WEBHOOK_URL",
    "VULNTRACK_NVD_API_KEY",
    "DATABASE_URL",
    "REDIS_URL",
];

impl Config {
    /// Loads from the process environment and the optional config file.
    pub fn load() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok();
        let config_file = match var(CONFIG_FILE_VARIABLE) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(ConfigError::new(CONFIG_FILE_VARIABLE, format!("no such file: {}", path.display())));
                }
                Some(path)
            }
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let file = match &config_file {
            Some(path) => file_settings(path)?,
            None => Dict::new(),
        };
        let settings = Settings::read(|name| match var(&variable_of(name)) {
            Some(text) => Some((text, Origin::Environment)),
            None => file.get(name).map(|text| (text.clone(), Origin::File(config_file.clone().unwrap_or_default()))),
        })?;
        let file_database_url = file.get("database_url").cloned().map(SecretString::from);
        Self::assemble(settings, &var, file_database_url, config_file)
    }

    /// The rules that tie settings together, and the secrets.
    fn assemble(
        settings: Settings,
        var: &impl Fn(&str) -> Option<String>,
        file_database_url: Option<SecretString>,
        config_file: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let production = settings.env == Environment::Production;
        let setting_error = |name: &str, message: &str| ConfigError::new(variable_of(name), message);
        if settings.db_max_connections == 0 {
            return Err(setting_error("db_max_connections", "must be at least 1"));
        }
        if settings.db_acquire_timeout.is_zero() || settings.db_acquire_timeout > Duration::from_secs(60) {
            return Err(setting_error("db_acquire_timeout", "must be between 1s and 60s"));
        }
        if settings.token_max_ttl < Duration::from_secs(86_400) {
            return Err(setting_error("token_max_ttl", "must be at least 1d"));
        }
        if settings.retention_audit_days.is_some_and(|days| days < 365) {
            return Err(setting_error("retention_audit_days", "must be at least 365 (or unset: keep for ever)"));
        }
        for (name, days) in [
            ("retention_sessions_days", settings.retention_sessions_days),
            ("retention_notifications_days", settings.retention_notifications_days),
            ("retention_alerts_days", settings.retention_alerts_days),
            ("retention_closed_findings_days", settings.retention_closed_findings_days.unwrap_or(1)),
        ] {
            if !(1..=36_500).contains(&days) {
                return Err(setting_error(name, "must be from 1 to 36500 days"));
            }
        }
        if settings.body_limit < 1024 {
            return Err(setting_error("body_limit", "must be at least 1024 bytes"));
        }
        if settings.import_max_bytes < 1024 {
            return Err(setting_error("import_max_bytes", "must be at least 1024 bytes"));
        }
        let database_url = match read_secret(var, "DATABASE_URL")?.or(file_database_url) {
            Some(raw) => {
                DatabaseUrl::parse(raw.expose_secret()).map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?
            }
            None => DatabaseUrl::sqlite_file(&settings.data_dir.join("vulntrack.db")),
        };
        let migrate_database_url = match read_secret(var, "VULNTRACK_MIGRATE_DATABASE_URL")? {
            Some(raw) => Some(
                DatabaseUrl::parse(raw.expose_secret())
                    .map_err(|e| ConfigError::new("VULNTRACK_MIGRATE_DATABASE_URL", e.to_string()))?,
            ),
            None => None,
        };
        if migrate_database_url.as_ref().is_some_and(|m| m.backend() != database_url.backend()) {
            return Err(ConfigError::new(
                "VULNTRACK_MIGRATE_DATABASE_URL",
                "must name the same kind of database as DATABASE_URL",
            ));
        }
        let secret = match read_secret(var, "VULNTRACK_SECRET")? {
            Some(secret) if secret.expose_secret().len() < MIN_SECRET_BYTES => {
                return Err(ConfigError::new(
                    "VULNTRACK_SECRET",
                    format!("must be at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"),
                ));
            }
            Some(secret) => SecretSource::Provided(secret),
            None if production => {
                return Err(ConfigError::new(
                    "VULNTRACK_SECRET",
                    "is required in production (at least 32 bytes; set it or VULNTRACK_SECRET_FILE)",
                ));
            }
            None => SecretSource::DataDirFile(settings.data_dir.join(SECRET_FILE_NAME)),
        };
        let public_url = match &settings.public_url {
            // Production cookies are `Secure` with the `__Host-` prefix: a
            // browser keeps none over plain http, so nobody could sign in.
            Some(url) if production && url.scheme() == "http" => {
                return Err(setting_error(
                    "public_url",
                    "must be an https:// URL in production (session cookies are Secure); when TLS ends at a proxy, give the https:// address people type",
                ));
            }
            Some(url) => url.clone(),
            None if production => {
                return Err(setting_error(
                    "public_url",
                    "is required in production (e.g. https://vulntrack.example.com)",
                ));
            }
            None => development_url(settings.bind),
        };
        let secret_previous = read_secret(var, "VULNTRACK_SECRET_PREVIOUS")?;
        if secret_previous.as_ref().is_some_and(|s| s.expose_secret().len() < MIN_SECRET_BYTES) {
            return Err(ConfigError::new(
                "VULNTRACK_SECRET_PREVIOUS",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        let smtp_url = read_secret(var, "VULNTRACK_SMTP_URL")?;
        if let Some(smtp) = &smtp_url {
            let parsed =
                Url::parse(smtp.expose_secret()).map_err(|_| ConfigError::new("VULNTRACK_SMTP_URL", "is not a URL"))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(ConfigError::new("VULNTRACK_SMTP_URL", "must start with smtp:// or smtps://"));
            }
        }
        let hsts = match settings.hsts.as_deref().map(str::trim) {
            Some("off") | Some("") => None,
            Some(value) => {
                axum::http::HeaderValue::from_str(value)
                    .map_err(|_| setting_error("hsts", "is not a valid header value"))?;
                Some(value.to_string())
            }
            None if production => Some(DEFAULT_HSTS.to_string()),
            None => None,
        };
        let redis_url = read_secret(var, "REDIS_URL")?;
        if let Some(path) = &settings.redis_ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| setting_error("redis_ca_file", &format!("cannot read {}: {e}", path.display())))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(setting_error("redis_ca_file", "holds no PEM certificate"));
            }
            if !redis_url.as_ref().is_some_and(|u| u.expose_secret().starts_with("rediss://")) {
                return Err(setting_error("redis_ca_file", "applies only to a rediss:// REDIS_URL"));
            }
        }
        if redis_url.as_ref().is_some_and(|u| u.expose_secret().contains("#insecure")) {
            return Err(ConfigError::new(
                "REDIS_URL",
                "#insecure (no certificate check) is not supported; trust a private CA with VULNTRACK_REDIS_CA_FILE",
            ));
        }
        if let Some(redis) = &redis_url
            && redis::Client::open(redis.expose_secret()).is_err()
        {
            return Err(ConfigError::new("REDIS_URL", "is not a redis:// or rediss:// URL"));
        }
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => {
                for (name, path) in [("tls_cert", cert), ("tls_key", key)] {
                    if !path.is_file() {
                        return Err(setting_error(name, &format!("no such file: {}", path.display())));
                    }
                }
                Some(TlsFiles { cert: cert.clone(), key: key.clone() })
            }
            (None, None) => None,
            (Some(_), None) => return Err(setting_error("tls_key", "is required with VULNTRACK_TLS_CERT")),
            (None, Some(_)) => return Err(setting_error("tls_cert", "is required with VULNTRACK_TLS_KEY")),
        };
        if settings.redirect_http.is_some() && tls.is_none() {
            return Err(setting_error("redirect_http", "needs VULNTRACK_TLS_CERT and VULNTRACK_TLS_KEY"));
        }
        let metrics_token = read_secret(var, "VULNTRACK_METRICS_TOKEN")?;
        if metrics_token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            return Err(ConfigError::new("VULNTRACK_METRICS_TOKEN", "must be at least 16 characters"));
        }
        let alert_webhook_url = match read_secret(var, "VULNTRACK_ALERT_WEBHOOK_URL")? {
            None => None,
            Some(raw) => {
                let url = Url::parse(raw.expose_secret())
                    .map_err(|_| ConfigError::new("VULNTRACK_ALERT_WEBHOOK_URL", "is not a URL"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(ConfigError::new("VULNTRACK_ALERT_WEBHOOK_URL", "must be an http:// or https:// URL"));
                }
                Some(url)
            }
        };
        let nvd_api_key = read_secret(var, "VULNTRACK_NVD_API_KEY")?;
        Ok(Self {
            nvd_api_key,
            // Production logs go to collectors: JSON unless asked otherwise.
            log_format: settings.log_format.unwrap_or(if production { LogFormat::Json } else { LogFormat::Text }),
            settings,
            database_url,
            migrate_database_url,
            secret,
            secret_previous,
            smtp_url,
            redis_url,
            metrics_token,
            alert_webhook_url,
            config_file,
            public_url,
            hsts,
            tls,
        })
    }

    /// The development defaults around a given database, data directory and
    /// secret: what tests and benchmarks run with.
    pub fn development(database_url: DatabaseUrl, data_dir: PathBuf, secret: SecretString) -> Self {
        let settings = Settings { data_dir, ..Settings::default() };
        Self {
            public_url: development_url(settings.bind),
            settings,
            database_url,
            migrate_database_url: None,
            secret: SecretSource::Provided(secret),
            secret_previous: None,
            smtp_url: None,
            redis_url: None,
            metrics_token: None,
            alert_webhook_url: None,
            nvd_api_key: None,
            config_file: None,
            log_format: LogFormat::Text,
            hsts: None,
            tls: None,
        }
    }

    /// Creates the data directory if it is missing, readable only by its
    /// owner: it holds the database file and the development secret.
    pub fn ensure_data_dir(&self) -> Result<(), ConfigError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.data_dir).map_err(|e| {
            ConfigError::new("VULNTRACK_DATA_DIR", format!("cannot create {}: {e}", self.data_dir.display()))
        })
    }

    /// The signing secret. In development without one, a random secret is
    /// generated once into the data directory (mode 0600) and reused, so
    /// sessions survive restarts; a warning says so.
    pub fn resolve_secret(&self) -> Result<SecretString, ConfigError> {
        let path = match &self.secret {
            SecretSource::Provided(secret) => return Ok(secret.clone()),
            SecretSource::DataDirFile(path) => path,
        };
        let variable = "VULNTRACK_SECRET";
        let read = |path: &Path| {
            let secret = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::new(variable, format!("cannot read {}: {e}", path.display())))?;
            let secret = secret.trim_end().to_string();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::new(
                    variable,
                    format!("{} holds a secret shorter than {MIN_SECRET_BYTES} bytes", path.display()),
                ));
            }
            Ok(SecretString::from(secret))
        };
        if path.exists() {
            return read(path);
        }
        self.ensure_data_dir()?;
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // Written whole to a private temporary file, then linked into place
        // only if no other process (a concurrent first start) got there
        // first; in that case, its secret is the one.
        let temporary = path.with_extension(format!("new-{}", std::process::id()));
        write_private_file(&temporary, &secret)
            .map_err(|e| ConfigError::new(variable, format!("cannot write {}: {e}", temporary.display())))?;
        let linked = std::fs::hard_link(&temporary, path);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                tracing::warn!(
                    path = %path.display(),
                    "VULNTRACK_SECRET is not set: generated a development secret; set VULNTRACK_SECRET in production"
                );
                Ok(SecretString::from(secret))
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(path),
            Err(error) => Err(ConfigError::new(variable, format!("cannot write {}: {error}", path.display()))),
        }
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    /// The effective configuration, secrets redacted, one `KEY = value` a line.
    pub fn describe(&self) -> String {
        let redacted = |set: bool, unset: &str| if set { "[redacted]".to_string() } else { unset.to_string() };
        let mut lines = vec![
            ("config file".to_string(), self.config_file.as_ref().map_or("(none)".into(), |p| p.display().to_string())),
            ("DATABASE_URL".into(), self.database_url.redacted()),
            (
                "VULNTRACK_MIGRATE_DATABASE_URL".into(),
                self.migrate_database_url.as_ref().map_or_else(|| "(DATABASE_URL)".into(), DatabaseUrl::redacted),
            ),
            ("VULNTRACK_SECRET".into(), format!("{:?}", self.secret)),
            ("VULNTRACK_SECRET_PREVIOUS".into(), redacted(self.secret_previous.is_some(), "(none)")),
            (
                "VULNTRACK_SMTP_URL".into(),
                self.smtp_url.as_ref().map_or_else(
                    || "(none: reset links go to the server log)".into(),
                    |url| redact_password(url.expose_secret()),
                ),
            ),
            (
                "REDIS_URL".into(),
                self.redis_url.as_ref().map_or_else(
                    || "(none: rate limits kept in memory)".into(),
                    |url| redact_password(url.expose_secret()),
                ),
            ),
            (
                "VULNTRACK_METRICS_TOKEN".into(),
                redacted(self.metrics_token.is_some(), "(none: /metrics off on the main listener)"),
            ),
            ("VULNTRACK_NVD_API_KEY".into(), redacted(self.nvd_api_key.is_some(), "(none)")),
            (
                "VULNTRACK_ALERT_WEBHOOK_URL".into(),
                self.alert_webhook_url.as_ref().map_or("(none)".into(), |u| {
                    format!("{}://{}/[redacted]", u.scheme(), u.host_str().unwrap_or_default())
                }),
            ),
        ];
        // Settings whose value in force differs from what was set show the
        // value in force.
        let in_force = [
            ("VULNTRACK_PUBLIC_URL", self.public_url.to_string()),
            ("VULNTRACK_LOG_FORMAT", LogFormat::show(&self.log_format)),
            ("VULNTRACK_HSTS", self.hsts.clone().unwrap_or_else(|| "(off)".into())),
        ];
        lines.extend(self.settings.shown().into_iter().map(|(variable, value)| {
            match in_force.iter().find(|(v, _)| *v == variable) {
                Some((_, effective)) => (variable, effective.clone()),
                None => (variable, value),
            }
        }));
        lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

fn development_url(bind: SocketAddr) -> Url {
    Url::parse(&format!("http://{bind}/")).expect("a socket address makes a URL")
}

/// The config file's settings as text, by name. Secrets are refused there
/// (they belong in the environment or `_FILE`s), and so is an unknown key,
/// which is most often a misspelt one.
fn file_settings(path: &Path) -> Result<Dict, ConfigError> {
    let figment = Figment::from(Toml::file_exact(path));
    let values: figment::value::Dict =
        figment.extract().map_err(|e| ConfigError::new(path.display().to_string(), e.kind.to_string()))?;
    let mut out = Dict::new();
    for (key, value) in values {
        let named = || format!("{} key `{key}`", path.display());
        if SECRET_VARIABLES.iter().any(|v| v.trim_start_matches("VULNTRACK_").eq_ignore_ascii_case(&key))
            && key != "database_url"
        {
            return Err(ConfigError::new(named(), "is a secret: give it in the environment or a _FILE"));
        }
        if key != "database_url" && !Settings::NAMES.contains(&key.as_str()) {
            return Err(ConfigError::new(named(), "is not a setting (see the README's configuration table)"));
        }
        let text = text_of(&value).ok_or_else(|| ConfigError::new(named(), "must be text, a number or true/false"))?;
        out.insert(key, text);
    }
    Ok(out)
}

type Dict = std::collections::BTreeMap<String, String>;

fn text_of(value: &figment::value::Value) -> Option<String> {
    use figment::value::Value;
    match value {
        Value::String(_, text) => Some(text.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        Value::Bool(_, b) => Some(b.to_string()),
        Value::Num(_, n) => n.to_i128().map(|n| n.to_string()).or_else(|| n.to_f64().map(|f| f.to_string())),
        Value::Array(_, items) => items.iter().map(text_of).collect::<Option<Vec<_>>>().map(|all| all.join(",")),
        Value::Empty(..) | Value::Dict(..) => None,
    }
}

/// Writes a new file readable only by its owner; refuses to overwrite.
fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (trailing
/// newline removed). Setting both is an error rather than a silent choice.
fn read_secret(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<SecretString>, ConfigError> {
    let file_var = format!("{name}_FILE");
    match (var(name), var(&file_var)) {
        (Some(_), Some(_)) => Err(ConfigError::new(name, format!("set either {name} or {file_var}, not both"))),
        (Some(value), None) => Ok(Some(SecretString::from(value))),
        (None, Some(path)) => {
            let content = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::new(&file_var, format!("cannot read {path}: {e}")))?;
            Ok(Some(SecretString::from(content.trim_end_matches(['\r', '\n']).to_string())))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
// figment::Jail's closures return its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;

    /// Loads with exactly these variables set, in figment's serialised jail
    /// (a scratch directory and a restored environment).
    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut result = None;
        Jail::expect_with(|jail| {
            for (name, value) in vars {
                jail.set_env(name, value);
            }
            result = Some(Config::load());
            Ok(())
        });
        result.expect("jail ran")
    }

    #[test]
    fn development_defaults_need_no_setup() {
        let config = load(&[]).expect("defaults are valid");
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url.backend(), vulntrack_store::Backend::Sqlite);
        assert!(matches!(config.secret, SecretSource::DataDirFile(_)));
        assert!(config.auto_migrate);
    }

    #[test]
    fn production_requires_a_long_secret_and_public_url() {
        let err = load(&[("VULNTRACK_ENV", "production")]).unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_SECRET");
        let short = "x".repeat(MIN_SECRET_BYTES - 1);
        let err = load(&[("VULNTRACK_SECRET", &short)]).unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_SECRET");
        let secret = "s".repeat(MIN_SECRET_BYTES);
        let err = load(&[("VULNTRACK_ENV", "production"), ("VULNTRACK_SECRET", &secret)]).unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_PUBLIC_URL");
    }

    #[test]
    fn secret_never_appears_in_debug_or_describe() {
        let secret = "super-secret-value-that-is-long-enough!";
        let config = load(&[("VULNTRACK_SECRET", secret)]).expect("valid");
        assert!(!format!("{config:?}").contains(secret));
        assert!(!config.describe().contains(secret));
    }

    #[test]
    fn secret_and_secret_file_together_are_refused() {
        let err = load(&[("VULNTRACK_SECRET", "a"), ("VULNTRACK_SECRET_FILE", "/x")]).unwrap_err();
        assert!(err.message.contains("not both"));
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (name, value) in [
            ("VULNTRACK_BIND", "localhost"),
            ("VULNTRACK_ENV", "staging"),
            ("VULNTRACK_DB_MAX_CONNECTIONS", "many"),
            ("VULNTRACK_AUTO_MIGRATE", "perhaps"),
            ("VULNTRACK_LOG_FORMAT", "xml"),
            ("VULNTRACK_SESSION_TTL", "forever"),
            ("VULNTRACK_INVITE_TTL", "0h"),
            ("VULNTRACK_REGISTRATION", "anyone"),
            ("VULNTRACK_SMTP_URL", "http://mail"),
            ("VULNTRACK_SMTP_FROM", "not a mailbox"),
            ("VULNTRACK_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("VULNTRACK_RATE_LIMIT_LOGIN", "5 per minute"),
            ("VULNTRACK_RATE_LIMIT_API", "0/1m"),
            ("REDIS_URL", "http://cache"),
            ("REDIS_URL", "rediss://cache:6380/#insecure"),
            ("VULNTRACK_REDIS_CA_FILE", "/nonexistent/ca.pem"),
            ("VULNTRACK_REQUEST_TIMEOUT", "soon"),
            ("VULNTRACK_DB_ACQUIRE_TIMEOUT", "0s"),
            ("VULNTRACK_DB_ACQUIRE_TIMEOUT", "5m"),
            ("VULNTRACK_TOKEN_MAX_TTL", "1h"),
            ("VULNTRACK_MIGRATE_DATABASE_URL", "postgres://owner@db/vt"),
            ("DATABASE_URL", "nonsense"),
        ] {
            let err = load(&[(name, value)]).unwrap_err();
            assert_eq!(err.variable, name, "{err}");
        }
    }

    #[test]
    fn config_file_is_read_and_the_environment_overrides_it() {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.create_file("vulntrack.toml", "bind = \"127.0.0.1:4000\"\ndb_max_connections = 3\n")?;
            jail.set_env("VULNTRACK_DB_MAX_CONNECTIONS", "7");
            result = Some(Config::load());
            Ok(())
        });
        let config = result.expect("jail ran").expect("valid");
        assert_eq!(config.bind.port(), 4000);
        assert_eq!(config.db_max_connections, 7);
    }

    #[test]
    fn the_config_file_refuses_secrets_and_misspelt_keys() {
        for (content, variable) in [
            ("secret = \"0123456789abcdef0123456789abcdef\"\n", "vulntrack.toml key `secret`"),
            ("session_tll = \"8h\"\n", "vulntrack.toml key `session_tll`"),
            ("session_ttl = \"forever\"\n", "vulntrack.toml key `session_ttl`"),
        ] {
            let mut result = None;
            Jail::expect_with(|jail| {
                jail.create_file("vulntrack.toml", content)?;
                result = Some(Config::load());
                Ok(())
            });
            assert_eq!(result.expect("jail ran").expect_err("refused").variable, variable, "{content}");
        }
    }

    #[test]
    fn the_readme_documents_every_setting() {
        let readme = include_str!("../../../../README.md");
        for name in Settings::NAMES {
            let variable = variable_of(name);
            assert!(readme.contains(&format!("`{variable}`")), "README's configuration table lacks {variable}");
        }
        for variable in SECRET_VARIABLES {
            assert!(readme.contains(variable), "README lacks {variable}");
        }
    }

    #[test]
    fn secrets_are_read_from_files() {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.create_file("secret.txt", &format!("{}\n", "f".repeat(40)))?;
            jail.set_env("VULNTRACK_SECRET_FILE", "secret.txt");
            result = Some(Config::load());
            Ok(())
        });
        match result.expect("jail ran").expect("valid").secret {
            SecretSource::Provided(secret) => assert_eq!(secret.expose_secret(), "f".repeat(40)),
            other => panic!("expected a provided secret, got {other:?}"),
        }
    }

    #[test]
    fn development_secret_is_generated_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        Jail::expect_with(|jail| {
            jail.set_env("VULNTRACK_DATA_DIR", "state");
            let config = Config::load().expect("valid");
            let first = config.resolve_secret().expect("generated");
            let path = jail.directory().join("state/secret");
            let mode = std::fs::metadata(&path).expect("secret file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let second = config.resolve_secret().expect("reused");
            assert_eq!(first.expose_secret(), second.expose_secret());
            assert!(first.expose_secret().len() >= MIN_SECRET_BYTES);
            Ok(())
        });
    }

    #[test]
    fn tls_needs_both_files_and_they_must_exist() {
        assert_eq!(load(&[("VULNTRACK_TLS_CERT", "/no/cert.pem")]).unwrap_err().variable, "VULNTRACK_TLS_KEY");
        let err = load(&[("VULNTRACK_TLS_CERT", "/no/cert.pem"), ("VULNTRACK_TLS_KEY", "/no/key.pem")]).unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_TLS_CERT");
        assert_eq!(
            load(&[("VULNTRACK_REDIRECT_HTTP", "127.0.0.1:8080")]).unwrap_err().variable,
            "VULNTRACK_REDIRECT_HTTP"
        );
    }

    #[test]
    fn production_sends_hsts_unless_turned_off() {
        let secret = "s".repeat(MIN_SECRET_BYTES);
        let production = [
            ("VULNTRACK_ENV", "production"),
            ("VULNTRACK_SECRET", secret.as_str()),
            ("VULNTRACK_PUBLIC_URL", "https://vt.example.com"),
        ];
        assert_eq!(load(&production).expect("valid").hsts.as_deref(), Some(DEFAULT_HSTS));
        let mut off = production.to_vec();
        off.push(("VULNTRACK_HSTS", "off"));
        assert_eq!(load(&off).expect("valid").hsts, None);
        assert_eq!(load(&[]).expect("valid").hsts, None, "development is often plain http");
    }

    #[test]
    fn trusted_proxies_and_rate_limits_parse() {
        let config =
            load(&[("VULNTRACK_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7"), ("VULNTRACK_RATE_LIMIT_LOGIN", "3/10m")])
                .expect("valid");
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(config.rate_limit_login, vulntrack_domain::rate::RateRule::new(3, Duration::from_secs(600)));
        assert_eq!(config.rate_limit_api, Settings::default().rate_limit_api);
    }

    #[test]
    fn production_refuses_a_plain_http_public_url() {
        let secret = "s".repeat(MIN_SECRET_BYTES);
        let err = load(&[
            ("VULNTRACK_ENV", "production"),
            ("VULNTRACK_SECRET", secret.as_str()),
            ("VULNTRACK_PUBLIC_URL", "http://vt.example.com"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_PUBLIC_URL");
        assert!(err.message.contains("https://"), "{err}");
        assert!(load(&[("VULNTRACK_PUBLIC_URL", "http://127.0.0.1:3000")]).is_ok(), "development may use http");
    }

    #[test]
    fn bad_public_url_schemes_are_refused() {
        let err = load(&[("VULNTRACK_PUBLIC_URL", "javascript:alert(1)")]).unwrap_err();
        assert_eq!(err.variable, "VULNTRACK_PUBLIC_URL");
    }
}
