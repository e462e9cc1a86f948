//! The operator's settings that are not secrets, each declared once below:
//! its name (the config-file key; the variable is `VULNTRACK_` and the name
//! in capitals), its type, its default in the same text an operator would
//! write, and what it is for. Reading, defaults, `vulntrack config check` and
//! the README check all come from that one table.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use lettre::message::Mailbox;
use url::Url;
use vulntrack_domain::{duration::parse_duration, rate::RateRule};

use super::{ConfigError, Environment, LogFormat, Registration};

/// How a setting's text (from the environment, the config file or its
/// default) becomes its value, and how `vulntrack config check` shows it.
pub trait SettingValue: Sized {
    fn parse(text: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

/// Where a setting's text came from, to name it in an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File(PathBuf),
    Default,
}

/// The environment variable of a setting.
pub fn variable_of(name: &str) -> String {
    format!("VULNTRACK_{}", name.to_uppercase())
}

fn named(name: &str, origin: &Origin) -> String {
    match origin {
        Origin::File(file) => format!("{} key `{name}`", file.display()),
        Origin::Environment | Origin::Default => variable_of(name),
    }
}

macro_rules! settings {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ty = $default:literal; )+) => {
        /// The non-secret settings, typed and validated one by one (rules
        /// that tie several together are in [`super::Config::load`]).
        #[derive(Debug, Clone)]
        pub struct Settings {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
        }

        impl Settings {
            /// Every setting's name, in the order of the table.
            pub const NAMES: &[&str] = &[$(stringify!($name)),+];

            /// Each setting from `text` (its text and where that came
            /// from, or `None` when unset), or from its default.
            pub fn read(
                text: impl Fn(&'static str) -> Option<(String, Origin)>,
            ) -> Result<Self, ConfigError> {
                Ok(Self {
                    $( $name: {
                        let (raw, origin) = text(stringify!($name))
                            .unwrap_or_else(|| ($default.to_string(), Origin::Default));
                        <$ty as SettingValue>::parse(raw.trim()).map_err(|message| {
                            ConfigError::new(named(stringify!($name), &origin), format!("{message}, got {raw:?}"))
                        })?
                    }, )+
                })
            }

            /// Each setting as its variable and its value's text.
            pub fn shown(&self) -> Vec<(String, String)> {
                vec![$( (variable_of(stringify!($name)), SettingValue::show(&self.$name)) ),+]
            }
        }
    };
}

settings! {
    /// Address and port to listen on.
    bind: SocketAddr = "127.0.0.1:3000";
    /// Directory for the SQLite file and the generated development secret.
    data_dir: PathBuf = "./data";
    /// Connections in the database pool.
    db_max_connections: u32 = "10";
    /// How long a request waits for a database connection before it
    /// answers 503 (also the bound on noticing an outage).
    db_acquire_timeout: Duration = "3s";
    /// The longest lifetime an API token may be given.
    token_max_ttl: Duration = "365d";
    /// `development` or `production` (production demands a secret, an
    /// https public URL, secure cookies and HSTS).
    env: Environment = "development";
    /// The address people type, for links in mail; defaults to
    /// `http://` and the bind address in development.
    public_url: Option<Url> = "";
    /// Run migrations at start-up.
    auto_migrate: bool = "true";
    /// `text` or `json`; JSON by default in production.
    log_format: Option<LogFormat> = "";
    /// How long a sign-in lasts.
    session_ttl: Duration = "24h";
    /// `invite-only` or `open`.
    registration: Registration = "invite-only";
    /// How long an invitation link stays valid.
    invite_ttl: Duration = "72h";
    /// The From address of mail.
    smtp_from: Mailbox = "VulnTrack <vulntrack@localhost>";
    /// Let teams' webhooks call private, loopback and link-local addresses
    /// (refused by default: a webhook must not reach inside the network).
    webhook_allow_private: bool = "false";
    /// How often a node sends the mail and webhook calls that are due.
    outbox_interval: Duration = "5s";
    /// Sync the CVE catalogue's NVD records from this CVE API 2.0 URL (the
    /// NVD's own is https://services.nvd.nist.gov/rest/json/cves/2.0, or a
    /// mirror); no sync without it.
    nvd_url: Option<Url> = "";
    /// Sync CISA's KEV catalogue from this URL (CISA's own is
    /// https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json).
    kev_url: Option<Url> = "";
    /// Sync FIRST's EPSS scores from this CSV (or .csv.gz) URL (FIRST's own
    /// is https://epss.empiricalsecurity.com/epss_scores-current.csv.gz).
    epss_url: Option<Url> = "";
    /// How often the catalogue syncs from the URLs set.
    intel_sync: Duration = "24h";
    /// Days a team keeps its audit log unless it chooses (at least 365);
    /// unset keeps it for ever.
    retention_audit_days: Option<usize> = "";
    /// Days expired or ended sessions and used or expired reset and
    /// invitation links are kept unless a team chooses.
    retention_sessions_days: usize = "30";
    /// Days read notifications are kept unless a team chooses.
    retention_notifications_days: usize = "90";
    /// Days acknowledged security alerts are kept unless a team chooses.
    retention_alerts_days: usize = "365";
    /// Days resolved and closed findings are kept unless a team chooses;
    /// unset keeps them for ever.
    retention_closed_findings_days: Option<usize> = "";
    /// The pause between two NVD API requests; by default 6 s, or 0.6 s
    /// with `VULNTRACK_NVD_API_KEY` (the NVD's published limits).
    nvd_request_interval: Option<Duration> = "";
    /// The `Strict-Transport-Security` value, or `off`; production sends
    /// a two-year preload value unless told otherwise.
    hsts: Option<String> = "";
    /// Peers whose `X-Forwarded-For` is believed: addresses or CIDRs,
    /// comma-separated.
    trusted_proxies: Vec<ipnet::IpNet> = "";
    /// Sign-in attempts per (client, email).
    rate_limit_login: RateRule = "5/15m";
    /// Sign-in attempts per client, whatever the email.
    rate_limit_login_client: RateRule = "30/15m";
    /// Password reset and registration requests per client.
    rate_limit_reset: RateRule = "5/60m";
    /// Authenticated API requests per user or token.
    rate_limit_api: RateRule = "100/1m";
    /// Vulnerability creation per user.
    rate_limit_create: RateRule = "10/1m";
    /// Unauthenticated requests per client (other than the above).
    rate_limit_anon: RateRule = "300/1m";
    /// Largest request body accepted, in bytes.
    body_limit: usize = "1048576";
    /// Largest scanner report upload (`POST /api/v1/imports`, `/imports`),
    /// and largest report a compressed upload may unpack to, in bytes.
    import_max_bytes: usize = "104857600";
    /// How long a request may take before it is answered 408.
    request_timeout: Duration = "30s";
    /// Serve HTTPS with this certificate chain (PEM).
    tls_cert: Option<PathBuf> = "";
    /// The key of that certificate (PEM).
    tls_key: Option<PathBuf> = "";
    /// A plain-HTTP address that only redirects to the HTTPS public URL.
    redirect_http: Option<SocketAddr> = "";
    /// A separate listener serving only `/metrics`, without a token.
    metrics_bind: Option<SocketAddr> = "";
    /// PEM certificate(s) to trust for a `rediss://` Redis instead of the
    /// system's roots (a private CA).
    redis_ca_file: Option<PathBuf> = "";
}

impl Default for Settings {
    fn default() -> Self {
        Self::read(|_| None).expect("the defaults in the table parse (tested)")
    }
}

impl SettingValue for String {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text.to_string())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl SettingValue for bool {
    fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err("must be true or false".into()),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

macro_rules! from_str_setting {
    ($($ty:ty => $what:literal),+ $(,)?) => {$(
        impl SettingValue for $ty {
            fn parse(text: &str) -> Result<Self, String> {
                text.parse().map_err(|_| $what.to_string())
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )+};
}

from_str_setting! {
    u32 => "not a whole number",
    usize => "not a whole number",
    SocketAddr => "not a socket address (host:port)",
    Mailbox => "is not a mailbox such as \"VulnTrack <vt@example.com>\"",
}

impl SettingValue for PathBuf {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl SettingValue for Duration {
    fn parse(text: &str) -> Result<Self, String> {
        parse_duration(text).map_err(|e| e.to_string())
    }
    fn show(&self) -> String {
        format!("{}s", self.as_secs())
    }
}

impl SettingValue for RateRule {
    fn parse(text: &str) -> Result<Self, String> {
        RateRule::parse(text).map_err(|e| e.to_string())
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl SettingValue for Url {
    fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http:// or https:// URL with a host".into());
        }
        Ok(url)
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl SettingValue for Vec<ipnet::IpNet> {
    fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("not an address or CIDR: {p:?}"))
            })
            .collect()
    }
    fn show(&self) -> String {
        self.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }
}

/// The enums take the spellings their serde names give.
macro_rules! enum_setting {
    ($($ty:ty),+) => {$(
        impl SettingValue for $ty {
            fn parse(text: &str) -> Result<Self, String> {
                use serde::de::{IntoDeserializer, value::{Error, StrDeserializer}};
                let text: StrDeserializer<'_, Error> = text.into_deserializer();
                serde::Deserialize::deserialize(text).map_err(|e: Error| e.to_string())
            }
            fn show(&self) -> String {
                serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
            }
        }
    )+};
}

enum_setting!(Environment, Registration, LogFormat);

/// Unset when empty.
impl<T: SettingValue> SettingValue for Option<T> {
    fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() { Ok(None) } else { T::parse(text).map(Some) }
    }
    fn show(&self) -> String {
        self.as_ref().map_or_else(|| "(none)".into(), SettingValue::show)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_and_shows_as_it_reads() {
        let defaults = Settings::default();
        assert_eq!(defaults.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(defaults.rate_limit_reset, RateRule::new(5, Duration::from_secs(3600)));
        let shown = defaults.shown();
        assert_eq!(shown.len(), Settings::NAMES.len());
        // What `vulntrack config check` prints reads back as the same settings.
        let again = Settings::read(|name| {
            shown
                .iter()
                .find(|(v, _)| *v == variable_of(name))
                .map(|(_, text)| (if text == "(none)" { String::new() } else { text.clone() }, Origin::Environment))
        })
        .expect("shown values read back");
        assert_eq!(format!("{again:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn a_bad_value_names_where_it_came_from() {
        let error = Settings::read(|name| (name == "bind").then(|| ("nowhere".into(), Origin::Environment)))
            .expect_err("refused");
        assert_eq!(error.variable, "VULNTRACK_BIND");
        let file = PathBuf::from("vulntrack.toml");
        let error = Settings::read(|name| (name == "session_ttl").then(|| ("ever".into(), Origin::File(file.clone()))))
            .expect_err("refused");
        assert_eq!(error.variable, "vulntrack.toml key `session_ttl`");
    }
}
