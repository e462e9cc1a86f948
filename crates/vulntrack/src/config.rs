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
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use vulntrack_domain::{duration::parse_duration, rate::RateRule};
use vulntrack_store::{DatabaseUrl, database::redact_password};

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

/// The effective, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// A more privileged role's URL for migrations (the server's own role
    /// then needs no right to change the schema).
    pub migrate_database_url: Option<DatabaseUrl>,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before it
    /// answers 503 (also the bound on noticing an outage).
    pub db_acquire_timeout: Duration,
    /// The longest lifetime an API token may be given.
    pub token_max_ttl: Duration,
    pub environment: Environment,
    pub secret: SecretSource,
    pub public_url: Url,
    pub auto_migrate: bool,
    pub log_format: LogFormat,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// The secret in force before a rotation: still verifies old sessions.
    pub secret_previous: Option<SecretString>,
    pub registration: Registration,
    /// How long an invitation link stays valid.
    pub invite_ttl: Duration,
    /// `smtp://` or `smtps://` URL for sending mail; without it, reset links
    /// are written to the server log.
    pub smtp_url: Option<SecretString>,
    /// The From address of mail.
    pub smtp_from: String,
    /// The `Strict-Transport-Security` value; `None` sends none.
    pub hsts: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub rate_limits: RateLimits,
    /// Shared rate limits across instances; in memory without it.
    pub redis_url: Option<SecretString>,
    /// PEM certificate(s) to trust for a `rediss://` Redis instead of the
    /// system's roots (a private CA).
    pub redis_ca_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// A plain-HTTP address that only redirects to the HTTPS public URL.
    pub redirect_http: Option<SocketAddr>,
    /// A separate listener serving only `/metrics`, without a token.
    pub metrics_bind: Option<SocketAddr>,
    /// With it, `/metrics` on the main listener answers this bearer token.
    pub metrics_token: Option<SecretString>,
    /// Security alerts are POSTed here as JSON.
    pub alert_webhook_url: Option<Url>,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
}

/// PEM files for HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The rate limits, each `N/WINDOW` (see README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Sign-in attempts per (client, email).
    pub login: RateRule,
    /// Sign-in attempts per client, whatever the email.
    pub login_client: RateRule,
    /// Password reset and registration requests per client.
    pub reset: RateRule,
    /// Authenticated API requests per user or token.
    pub api: RateRule,
    /// Vulnerability creation per user.
    pub create: RateRule,
    /// Unauthenticated requests per client (other than the above).
    pub anon: RateRule,
}

impl Default for RateLimits {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self {
            login: RateRule::new(5, minutes(15)),
            login_client: RateRule::new(30, minutes(15)),
            reset: RateRule::new(5, minutes(60)),
            api: RateRule::new(100, minutes(1)),
            create: RateRule::new(10, minutes(1)),
            anon: RateRule::new(300, minutes(1)),
        }
    }
}

/// The HSTS value production sends unless configured otherwise.
pub const DEFAULT_HSTS: &str = "max-age=63072000; includeSubDomains; preload";
/// 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The non-secret settings as figment merges them; field names are the
/// `VULNTRACK_`-less variable names in lower case.
#[derive(Debug, Serialize, Deserialize)]
struct Layered {
    bind: String,
    data_dir: PathBuf,
    database_url: Option<String>,
    db_max_connections: u32,
    db_acquire_timeout: String,
    token_max_ttl: String,
    env: Environment,
    public_url: Option<String>,
    auto_migrate: bool,
    log_format: Option<LogFormat>,
    session_ttl: String,
    registration: Registration,
    invite_ttl: String,
    smtp_from: String,
    hsts: Option<String>,
    trusted_proxies: String,
    rate_limit_login: Option<String>,
    rate_limit_login_client: Option<String>,
    rate_limit_reset: Option<String>,
    rate_limit_api: Option<String>,
    rate_limit_create: Option<String>,
    rate_limit_anon: Option<String>,
    body_limit: usize,
    request_timeout: String,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    redirect_http: Option<String>,
    metrics_bind: Option<String>,
}

impl Default for Layered {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:3000".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            db_max_connections: 10,
            db_acquire_timeout: "3s".into(),
            token_max_ttl: "365d".into(),
            env: Environment::Development,
            public_url: None,
            auto_migrate: true,
            log_format: None,
            session_ttl: "24h".into(),
            registration: Registration::InviteOnly,
            invite_ttl: "72h".into(),
            smtp_from: "VulnTrack <vulntrack@localhost>".into(),
            hsts: None,
            trusted_proxies: String::new(),
            rate_limit_login: None,
            rate_limit_login_client: None,
            rate_limit_reset: None,
            rate_limit_api: None,
            rate_limit_create: None,
            rate_limit_anon: None,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: "30s".into(),
            tls_cert: None,
            tls_key: None,
            redirect_http: None,
            metrics_bind: None,
        }
    }
}

/// Keys the environment provider must not pick up: secrets are read by
/// [`read_secret`] so that `_FILE` works and they never pass through figment.
const SECRET_KEYS: &[&str] = &[
    "secret",
    "secret_file",
    "secret_previous",
    "secret_previous_file",
    "migrate_database_url",
    "migrate_database_url_file",
    "config",
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
        let mut figment = Figment::from(Serialized::defaults(Layered::default()));
        if let Some(path) = &config_file {
            figment = figment.merge(Toml::file_exact(path));
        }
        let figment =
            figment.merge(Env::prefixed("VULNTRACK_").ignore(SECRET_KEYS)).merge(Env::raw().only(&["DATABASE_URL"]));
        let layered: Layered = figment.extract().map_err(|e| figment_error(&e, config_file.as_deref()))?;

        let bind: SocketAddr = layered.bind.parse().map_err(|_| {
            ConfigError::new("VULNTRACK_BIND", format!("not a socket address (host:port): {:?}", layered.bind))
        })?;
        if layered.db_max_connections == 0 {
            return Err(ConfigError::new("VULNTRACK_DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        let database_url = match read_secret(&var, "DATABASE_URL")?.or(layered.database_url.map(SecretString::from)) {
            Some(raw) => {
                DatabaseUrl::parse(raw.expose_secret()).map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?
            }
            None => DatabaseUrl::sqlite_file(&layered.data_dir.join("vulntrack.db")),
        };
        let migrate_database_url = match read_secret(&var, "VULNTRACK_MIGRATE_DATABASE_URL")? {
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
        let production = layered.env == Environment::Production;
        let secret = match read_secret(&var, "VULNTRACK_SECRET")? {
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
            None => SecretSource::DataDirFile(layered.data_dir.join(SECRET_FILE_NAME)),
        };
        let public_url = match layered.public_url {
            // Production cookies are `Secure` with the `__Host-` prefix: a
            // browser keeps none over plain http, so nobody could sign in.
            Some(raw) if production && parse_public_url(&raw)?.scheme() == "http" => {
                return Err(ConfigError::new(
                    "VULNTRACK_PUBLIC_URL",
                    "must be an https:// URL in production (session cookies are Secure); when TLS ends at a proxy, give the https:// address people type",
                ));
            }
            Some(raw) => parse_public_url(&raw)?,
            None if production => {
                return Err(ConfigError::new(
                    "VULNTRACK_PUBLIC_URL",
                    "is required in production (e.g. https://vulntrack.example.com)",
                ));
            }
            None => Url::parse(&format!("http://{bind}/"))
                .map_err(|e| ConfigError::new("VULNTRACK_BIND", format!("cannot form a URL: {e}")))?,
        };
        let duration = |variable: &str, raw: &str| {
            parse_duration(raw).map_err(|e| ConfigError::new(variable, format!("{e}, got {raw:?}")))
        };
        let session_ttl = duration("VULNTRACK_SESSION_TTL", &layered.session_ttl)?;
        let db_acquire_timeout = duration("VULNTRACK_DB_ACQUIRE_TIMEOUT", &layered.db_acquire_timeout)?;
        if db_acquire_timeout.is_zero() || db_acquire_timeout > Duration::from_secs(60) {
            return Err(ConfigError::new("VULNTRACK_DB_ACQUIRE_TIMEOUT", "must be between 1s and 60s"));
        }
        let token_max_ttl = duration("VULNTRACK_TOKEN_MAX_TTL", &layered.token_max_ttl)?;
        if token_max_ttl < Duration::from_secs(86_400) {
            return Err(ConfigError::new("VULNTRACK_TOKEN_MAX_TTL", "must be at least 1d"));
        }
        let invite_ttl = duration("VULNTRACK_INVITE_TTL", &layered.invite_ttl)?;
        let secret_previous = read_secret(&var, "VULNTRACK_SECRET_PREVIOUS")?;
        if secret_previous.as_ref().is_some_and(|s| s.expose_secret().len() < MIN_SECRET_BYTES) {
            return Err(ConfigError::new(
                "VULNTRACK_SECRET_PREVIOUS",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        let smtp_url = read_secret(&var, "VULNTRACK_SMTP_URL")?;
        if let Some(smtp) = &smtp_url {
            let parsed =
                Url::parse(smtp.expose_secret()).map_err(|_| ConfigError::new("VULNTRACK_SMTP_URL", "is not a URL"))?;
            if !matches!(parsed.scheme(), "smtp" | "smtps") {
                return Err(ConfigError::new("VULNTRACK_SMTP_URL", "must start with smtp:// or smtps://"));
            }
        }
        if layered.smtp_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "VULNTRACK_SMTP_FROM",
                format!("is not a mailbox such as \"VulnTrack <vt@example.com>\": {:?}", layered.smtp_from),
            ));
        }
        let hsts = match layered.hsts.as_deref().map(str::trim) {
            Some("off") | Some("") => None,
            Some(value) => {
                axum::http::HeaderValue::from_str(value)
                    .map_err(|_| ConfigError::new("VULNTRACK_HSTS", "is not a valid header value"))?;
                Some(value.to_string())
            }
            None if production => Some(DEFAULT_HSTS.to_string()),
            None => None,
        };
        let trusted_proxies = layered
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>().or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(
                    |_| ConfigError::new("VULNTRACK_TRUSTED_PROXIES", format!("not an address or CIDR: {p:?}")),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let defaults = RateLimits::default();
        let rule = |variable: &str, raw: &Option<String>, default: RateRule| match raw {
            None => Ok(default),
            Some(text) => RateRule::parse(text).map_err(|e| ConfigError::new(variable, format!("{e}, got {text:?}"))),
        };
        let rate_limits = RateLimits {
            login: rule("VULNTRACK_RATE_LIMIT_LOGIN", &layered.rate_limit_login, defaults.login)?,
            login_client: rule(
                "VULNTRACK_RATE_LIMIT_LOGIN_CLIENT",
                &layered.rate_limit_login_client,
                defaults.login_client,
            )?,
            reset: rule("VULNTRACK_RATE_LIMIT_RESET", &layered.rate_limit_reset, defaults.reset)?,
            api: rule("VULNTRACK_RATE_LIMIT_API", &layered.rate_limit_api, defaults.api)?,
            create: rule("VULNTRACK_RATE_LIMIT_CREATE", &layered.rate_limit_create, defaults.create)?,
            anon: rule("VULNTRACK_RATE_LIMIT_ANON", &layered.rate_limit_anon, defaults.anon)?,
        };
        let redis_url = read_secret(&var, "REDIS_URL")?;
        let redis_ca_file = var("VULNTRACK_REDIS_CA_FILE").filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(path) = &redis_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                ConfigError::new("VULNTRACK_REDIS_CA_FILE", format!("cannot read {}: {e}", path.display()))
            })?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(ConfigError::new("VULNTRACK_REDIS_CA_FILE", "holds no PEM certificate"));
            }
            if !redis_url.as_ref().is_some_and(|u| u.expose_secret().starts_with("rediss://")) {
                return Err(ConfigError::new("VULNTRACK_REDIS_CA_FILE", "applies only to a rediss:// REDIS_URL"));
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
        if layered.body_limit < 1024 {
            return Err(ConfigError::new("VULNTRACK_BODY_LIMIT", "must be at least 1024 bytes"));
        }
        let request_timeout = duration("VULNTRACK_REQUEST_TIMEOUT", &layered.request_timeout)?;
        let tls = match (layered.tls_cert, layered.tls_key) {
            (Some(cert), Some(key)) => {
                for (variable, path) in [("VULNTRACK_TLS_CERT", &cert), ("VULNTRACK_TLS_KEY", &key)] {
                    if !path.is_file() {
                        return Err(ConfigError::new(variable, format!("no such file: {}", path.display())));
                    }
                }
                Some(TlsFiles { cert, key })
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new("VULNTRACK_TLS_KEY", "is required with VULNTRACK_TLS_CERT"));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new("VULNTRACK_TLS_CERT", "is required with VULNTRACK_TLS_KEY"));
            }
        };
        let redirect_http = match layered.redirect_http.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(raw) => {
                if tls.is_none() {
                    return Err(ConfigError::new(
                        "VULNTRACK_REDIRECT_HTTP",
                        "needs VULNTRACK_TLS_CERT and VULNTRACK_TLS_KEY",
                    ));
                }
                Some(raw.parse::<SocketAddr>().map_err(|_| {
                    ConfigError::new("VULNTRACK_REDIRECT_HTTP", format!("not a socket address (host:port): {raw:?}"))
                })?)
            }
        };
        let metrics_bind = match layered.metrics_bind.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                ConfigError::new("VULNTRACK_METRICS_BIND", format!("not a socket address (host:port): {raw:?}"))
            })?),
        };
        let metrics_token = read_secret(&var, "VULNTRACK_METRICS_TOKEN")?;
        if metrics_token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            return Err(ConfigError::new("VULNTRACK_METRICS_TOKEN", "must be at least 16 characters"));
        }
        let alert_webhook_url = match read_secret(&var, "VULNTRACK_ALERT_WEBHOOK_URL")? {
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
        Ok(Self {
            bind,
            data_dir: layered.data_dir,
            database_url,
            migrate_database_url,
            db_max_connections: layered.db_max_connections,
            db_acquire_timeout,
            token_max_ttl,
            environment: layered.env,
            secret,
            public_url,
            auto_migrate: layered.auto_migrate,
            // Production logs go to collectors: JSON unless asked otherwise.
            log_format: layered.log_format.unwrap_or(if production { LogFormat::Json } else { LogFormat::Text }),
            session_ttl,
            secret_previous,
            registration: layered.registration,
            invite_ttl,
            smtp_url,
            smtp_from: layered.smtp_from,
            hsts,
            trusted_proxies,
            rate_limits,
            redis_url,
            redis_ca_file,
            body_limit: layered.body_limit,
            request_timeout,
            tls,
            redirect_http,
            metrics_bind,
            metrics_token,
            alert_webhook_url,
            config_file,
        })
    }

    /// The development defaults around a given database, data directory and
    /// secret: what tests and benchmarks run with.
    pub fn development(database_url: DatabaseUrl, data_dir: PathBuf, secret: SecretString) -> Self {
        let defaults = Layered::default();
        let bind: SocketAddr = ([127, 0, 0, 1], 3000).into();
        Self {
            bind,
            data_dir,
            database_url,
            migrate_database_url: None,
            db_max_connections: defaults.db_max_connections,
            db_acquire_timeout: parse_duration(&defaults.db_acquire_timeout).expect("default timeout parses"),
            token_max_ttl: parse_duration(&defaults.token_max_ttl).expect("default TTL parses"),
            environment: Environment::Development,
            secret: SecretSource::Provided(secret),
            public_url: Url::parse(&format!("http://{bind}/")).expect("a socket address makes a URL"),
            auto_migrate: true,
            log_format: LogFormat::Text,
            session_ttl: parse_duration(&defaults.session_ttl).expect("default TTL parses"),
            secret_previous: None,
            registration: defaults.registration,
            invite_ttl: parse_duration(&defaults.invite_ttl).expect("default TTL parses"),
            smtp_url: None,
            smtp_from: defaults.smtp_from,
            hsts: None,
            trusted_proxies: Vec::new(),
            rate_limits: RateLimits::default(),
            redis_url: None,
            redis_ca_file: None,
            body_limit: defaults.body_limit,
            request_timeout: parse_duration(&defaults.request_timeout).expect("default timeout parses"),
            tls: None,
            redirect_http: None,
            metrics_bind: None,
            metrics_token: None,
            alert_webhook_url: None,
            config_file: None,
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
        self.environment == Environment::Production
    }

    /// The effective configuration, secrets redacted, one `KEY = value` a line.
    pub fn describe(&self) -> String {
        let lines = [
            ("config file", self.config_file.as_ref().map_or("(none)".into(), |p| p.display().to_string())),
            ("VULNTRACK_ENV", format!("{:?}", self.environment).to_lowercase()),
            ("VULNTRACK_BIND", self.bind.to_string()),
            ("VULNTRACK_DATA_DIR", self.data_dir.display().to_string()),
            ("DATABASE_URL", self.database_url.redacted()),
            (
                "VULNTRACK_MIGRATE_DATABASE_URL",
                self.migrate_database_url.as_ref().map_or_else(|| "(DATABASE_URL)".into(), DatabaseUrl::redacted),
            ),
            ("VULNTRACK_DB_MAX_CONNECTIONS", self.db_max_connections.to_string()),
            ("VULNTRACK_DB_ACQUIRE_TIMEOUT", format!("{}s", self.db_acquire_timeout.as_secs())),
            ("VULNTRACK_TOKEN_MAX_TTL", format!("{}s", self.token_max_ttl.as_secs())),
            ("VULNTRACK_SECRET", format!("{:?}", self.secret)),
            ("VULNTRACK_PUBLIC_URL", self.public_url.to_string()),
            ("VULNTRACK_AUTO_MIGRATE", self.auto_migrate.to_string()),
            ("VULNTRACK_LOG_FORMAT", format!("{:?}", self.log_format).to_lowercase()),
            ("VULNTRACK_SESSION_TTL", format!("{}s", self.session_ttl.as_secs())),
            ("VULNTRACK_SECRET_PREVIOUS", if self.secret_previous.is_some() { "[redacted]" } else { "(none)" }.into()),
            (
                "VULNTRACK_REGISTRATION",
                match self.registration {
                    Registration::InviteOnly => "invite-only",
                    Registration::Open => "open",
                }
                .into(),
            ),
            ("VULNTRACK_INVITE_TTL", format!("{}s", self.invite_ttl.as_secs())),
            (
                "VULNTRACK_SMTP_URL",
                match &self.smtp_url {
                    Some(url) => redact_password(url.expose_secret()),
                    None => "(none: reset links go to the server log)".into(),
                },
            ),
            ("VULNTRACK_SMTP_FROM", self.smtp_from.clone()),
            ("VULNTRACK_HSTS", self.hsts.clone().unwrap_or_else(|| "(off)".into())),
            (
                "VULNTRACK_TRUSTED_PROXIES",
                self.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            ),
            ("VULNTRACK_RATE_LIMIT_LOGIN", self.rate_limits.login.to_string()),
            ("VULNTRACK_RATE_LIMIT_LOGIN_CLIENT", self.rate_limits.login_client.to_string()),
            ("VULNTRACK_RATE_LIMIT_RESET", self.rate_limits.reset.to_string()),
            ("VULNTRACK_RATE_LIMIT_API", self.rate_limits.api.to_string()),
            ("VULNTRACK_RATE_LIMIT_CREATE", self.rate_limits.create.to_string()),
            ("VULNTRACK_RATE_LIMIT_ANON", self.rate_limits.anon.to_string()),
            (
                "REDIS_URL",
                match &self.redis_url {
                    Some(url) => redact_password(url.expose_secret()),
                    None => "(none: rate limits kept in memory)".into(),
                },
            ),
            ("VULNTRACK_BODY_LIMIT", self.body_limit.to_string()),
            ("VULNTRACK_REQUEST_TIMEOUT", format!("{}s", self.request_timeout.as_secs())),
            (
                "VULNTRACK_TLS_CERT",
                self.tls.as_ref().map_or("(none: plain HTTP)".into(), |t| t.cert.display().to_string()),
            ),
            ("VULNTRACK_REDIRECT_HTTP", self.redirect_http.map_or("(off)".into(), |a| a.to_string())),
            ("VULNTRACK_METRICS_BIND", self.metrics_bind.map_or("(off)".into(), |a| a.to_string())),
            (
                "VULNTRACK_ALERT_WEBHOOK_URL",
                self.alert_webhook_url.as_ref().map_or("(none)".into(), |u| {
                    format!("{}://{}/[redacted]", u.scheme(), u.host_str().unwrap_or_default())
                }),
            ),
            (
                "VULNTRACK_METRICS_TOKEN",
                if self.metrics_token.is_some() { "[redacted]" } else { "(none: /metrics off on the main listener)" }
                    .into(),
            ),
        ];
        lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

/// Writes a new file readable only by its owner; refuses to overwrite.
fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(raw).map_err(|e| ConfigError::new("VULNTRACK_PUBLIC_URL", format!("not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new("VULNTRACK_PUBLIC_URL", "must be an http:// or https:// URL with a host"));
    }
    Ok(url)
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

/// Names the variable (or config file key) behind a figment error.
fn figment_error(error: &figment::Error, config_file: Option<&Path>) -> ConfigError {
    let key = error.path.join(".");
    let from_file = error.metadata.as_ref().is_some_and(|m| m.name.contains("TOML"));
    let variable = match (from_file, config_file) {
        (true, Some(file)) if key.is_empty() => file.display().to_string(),
        (true, Some(file)) => format!("{} key `{key}`", file.display()),
        _ if key == "database_url" => "DATABASE_URL".to_string(),
        _ if key.is_empty() => "configuration".to_string(),
        _ => format!("VULNTRACK_{}", key.to_uppercase()),
    };
    ConfigError::new(variable, error.kind.to_string())
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
        assert_eq!(config.rate_limits.login, RateRule::new(3, std::time::Duration::from_secs(600)));
        assert_eq!(config.rate_limits.api, RateLimits::default().api);
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
