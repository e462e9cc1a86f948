//! The command line: `serve` (the default), `migrate`, `backup`, `admin …`
//! (accounts and incident response), `audit verify|head`, `import` (scanner
//! reports) and `config check`.
//!
//! Every failure ends as one line on stderr and a non-zero exit: 2 for bad
//! configuration or input, 1 when something that should work does not
//! (the database is unreachable, a migration fails).

mod backup;
mod cve;
mod import;
mod incident;
mod operator_alerts;

use std::{io::Read, path::PathBuf, process::ExitCode, str::FromStr};

use clap::{Parser, Subcommand};
use vulntrack_domain::{AccountInput, Role};
use vulntrack_store::{Database, PoolSettings};

use crate::{
    app::{self, AppState},
    config::{Config, ConfigError},
    services::accounts::{self, AccountError},
    telemetry,
};

#[derive(Debug, Parser)]
#[command(name = "vulntrack", version, about = "Self-hosted vulnerability management")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the live database to FILE (SQLite: VACUUM
    /// INTO; PostgreSQL: pg_dump -Fc).
    Backup {
        /// Where to write it; must not exist yet.
        file: PathBuf,
    },
    /// Operator tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Configuration tasks.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Audit log tasks.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The instance-wide security alerts (teams see only their own).
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// The CVE catalogue (NVD, CISA KEV, FIRST EPSS).
    #[command(subcommand)]
    Cve(CveCommand),
    /// Import scanner reports onto one of a team's assets.
    Import {
        /// The team: its id, or its name.
        #[arg(long)]
        team: String,
        /// The asset scanned: its id, or its name (created if new).
        #[arg(long)]
        asset: String,
        /// The report format (default: detected from each file).
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// Keep open findings the report no longer lists (for a partial scan).
        #[arg(long)]
        no_close_missing: bool,
        /// Leave out findings below this severity (INFO, LOW, MEDIUM, HIGH, CRITICAL).
        #[arg(long, value_name = "SEVERITY")]
        minimum_severity: Option<String>,
        /// Tags for the records created, comma-separated.
        #[arg(long)]
        tags: Option<String>,
        /// Print one JSON object per file (the import as the API returns it).
        #[arg(long)]
        json: bool,
        /// The reports (JSON, XML or CSV; .gz, or a .zip of one report).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum CveCommand {
    /// Load NVD CVE API 2.0 JSON, CISA KEV JSON or FIRST EPSS CSV files
    /// (plain or .gz), in any order; loading a file again changes only what
    /// changed. Each file loads whole or not at all.
    Import {
        /// The feed of every file: nvd, kev or epss (default: detected from each file).
        #[arg(long, value_name = "FEED")]
        feed: Option<String>,
        /// Print one JSON object per file (the counts of what it changed).
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// List instance-wide alerts, newest first.
    List {
        /// Only those not acknowledged yet.
        #[arg(long)]
        open: bool,
    },
    /// Acknowledge an instance-wide alert by its id.
    Ack { id: String },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chains; exit non-zero at the first broken row.
    Verify {
        /// Only this team's chain (default: every team and the instance-wide chain).
        #[arg(long)]
        team: Option<String>,
        /// Also fail if a chain is behind or diverges from the heads saved in
        /// FILE by `vulntrack audit head` (rows missing from the end).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Print each chain's newest seq and hash as JSON (save it as a
    /// checkpoint for `audit verify --checkpoint`).
    Head,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user, and the team if it does not exist yet.
    CreateUser {
        /// The team's name; created if no team has it.
        #[arg(long)]
        team: String,
        #[arg(long)]
        email: String,
        /// The person's display name.
        #[arg(long)]
        name: String,
        /// ADMIN, ANALYST or VIEWER.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: passwords are
        /// never taken as arguments, which other users can see).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Block sign-in until unlocked, and end the account's sessions.
    Lock {
        #[arg(long)]
        email: String,
    },
    /// Lift a lock (the operator's, or one from failed sign-ins).
    Unlock {
        #[arg(long)]
        email: String,
    },
    /// Deactivate an account; its sessions and API tokens end for good.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Reactivate a deactivated account (revoked credentials stay revoked).
    Reactivate {
        #[arg(long)]
        email: String,
    },
    /// End the sessions of one account (--email) or of everyone (--all).
    RevokeSessions {
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        email: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Revoke the API tokens of one account (--email) or of everyone (--all).
    RevokeTokens {
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        email: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Print a one-time password reset link for the account.
    ResetLink {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration, then print it with secrets redacted.
    Check,
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::from_str(&value.to_uppercase()).map_err(|e| e.to_string())
}

/// A failure to report on one line, with the exit status to end with.
#[derive(Debug)]
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self { status: 2, message: message.into() }
    }

    fn runtime(message: impl Into<String>) -> Self {
        Self { status: 1, message: message.into() }
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::input(error.to_string())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            return report(&Failure::runtime(format!("cannot start the async runtime: {error}")));
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

fn report(failure: &Failure) -> ExitCode {
    // One line, whatever the underlying error text held.
    let line = failure.message.replace(['\n', '\r'], " ");
    eprintln!("error: {line}");
    ExitCode::from(failure.status)
}

async fn run(command: Command) -> Result<(), Failure> {
    let config = Config::load()?;
    if let Command::Config(ConfigCommand::Check) = command {
        print!("{}", config.describe());
        return Ok(());
    }
    // Every command may write or check audit rows: the chain keys come from
    // the signing secret, as in the server (which installs them itself, and
    // is the one to warn about a generated development secret).
    if !matches!(command, Command::Serve) {
        let secret = config.resolve_secret()?;
        vulntrack_store::audit::install_chain_keys(crate::audit_heads::chain_keys(
            &secret,
            config.secret_previous.as_ref(),
        ))
        .map_err(Failure::runtime)?;
    }
    telemetry::init(config.log_format);
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = connect(&config).await?;
            migrate(&config, &db).await?;
            println!("database schema is up to date");
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser { team, email, name, role, password_stdin: _ }) => {
            let password = read_password_from_stdin()?;
            let account = AccountInput { team_name: team, email, name, role, password }
                .validate_all()
                .map_err(|errors| Failure::input(format!("cannot create user: {errors}")))?;
            let db = connect(&config).await?;
            if config.auto_migrate {
                migrate(&config, &db).await?;
            }
            let (team, user) = accounts::create_user_in_team(&db, &crate::auth::PasswordHasher::default(), account)
                .await
                .map_err(|error| match error {
                    AccountError::Invalid(errors) => Failure::input(format!("cannot create user: {errors}")),
                    other => Failure::runtime(format!("cannot create user: {other}")),
                })?;
            println!("created {} {} ({}) in team {:?}", user.role, user.email, user.id, team.name);
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { team, checkpoint }) => {
            let saved = checkpoint.as_deref().map(read_checkpoint).transpose()?;
            let db = connect(&config).await?;
            verify_audit(&db, team.as_deref()).await?;
            match saved {
                Some(saved) => verify_against(&db, &saved).await,
                None => Ok(()),
            }
        }
        Command::Audit(AuditCommand::Head) => {
            let db = connect(&config).await?;
            let checkpoint = crate::audit_heads::checkpoint(&db)
                .await
                .map_err(|e| Failure::runtime(format!("cannot read the audit log: {e}")))?;
            let json = serde_json::to_string_pretty(&checkpoint).map_err(|e| Failure::runtime(e.to_string()))?;
            println!("{json}");
            Ok(())
        }
        Command::Alerts(command) => {
            let db = connect(&config).await?;
            match command {
                AlertsCommand::List { open } => operator_alerts::list(&db, open).await,
                AlertsCommand::Ack { id } => operator_alerts::acknowledge(&db, &id).await,
            }
        }
        Command::Cve(CveCommand::Import { feed, json, files }) => {
            let db = connect(&config).await?;
            if config.auto_migrate {
                migrate(&config, &db).await?;
            }
            cve::import(&db, cve::CveImportArgs { feed, json, files }).await
        }
        Command::Import { team, asset, format, no_close_missing, minimum_severity, tags, json, files } => {
            let db = connect(&config).await?;
            if config.auto_migrate {
                migrate(&config, &db).await?;
            }
            let limit = u64::try_from(config.import_max_bytes).unwrap_or(u64::MAX);
            let args = import::ImportArgs {
                team,
                asset,
                format,
                close_missing: !no_close_missing,
                minimum_severity,
                tags,
                json,
                files,
            };
            import::run(&db, limit, args).await
        }
        Command::Backup { file } => {
            let db = connect(&config).await?;
            backup::backup(&db, &config.database_url, &file).await
        }
        Command::Admin(command) => {
            let db = connect(&config).await?;
            match command {
                AdminCommand::CreateUser { .. } => Ok(()),
                AdminCommand::Lock { email } => incident::lock(&db, &email).await,
                AdminCommand::Unlock { email } => incident::unlock(&db, &email).await,
                AdminCommand::Deactivate { email } => incident::deactivate(&db, &email).await,
                AdminCommand::Reactivate { email } => incident::reactivate(&db, &email).await,
                AdminCommand::RevokeSessions { email, all } => {
                    incident::revoke_sessions(&db, &incident::target(email, all)?).await
                }
                AdminCommand::RevokeTokens { email, all } => {
                    incident::revoke_tokens(&db, &incident::target(email, all)?).await
                }
                AdminCommand::ResetLink { email } => incident::reset_link(&db, &config.public_url, &email).await,
            }
        }
        Command::Config(_) => Ok(()),
    }
}

fn read_checkpoint(path: &std::path::Path) -> Result<crate::audit_heads::Checkpoint, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("cannot read the checkpoint {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::input(format!("{} is not a checkpoint written by `vulntrack audit head`: {e}", path.display()))
    })
}

/// Fails when a chain is behind or diverges from the saved heads.
async fn verify_against(db: &Database, saved: &crate::audit_heads::Checkpoint) -> Result<(), Failure> {
    let problems = crate::audit_heads::compare(db, saved)
        .await
        .map_err(|e| Failure::runtime(format!("cannot read the audit log: {e}")))?;
    match problems.first() {
        None => {
            println!("checkpoint of {}: every chain is at or past it", saved.taken_at.format("%Y-%m-%d %H:%M:%S UTC"));
            Ok(())
        }
        Some(first) if problems.len() == 1 => Err(Failure::runtime(first.clone())),
        Some(first) => Err(Failure::runtime(format!("{first} (and {} more)", problems.len() - 1))),
    }
}

/// Walks the chosen chains and reports each; the first break is an error.
async fn verify_audit(db: &Database, team: Option<&str>) -> Result<(), Failure> {
    let failed = |e: vulntrack_store::StoreError| Failure::runtime(format!("cannot read the audit log: {e}"));
    let chains: Vec<(String, Option<vulntrack_domain::TeamId>)> = match team {
        Some(name) => {
            let team = vulntrack_store::operator::team_by_name(db.conn(), name)
                .await
                .map_err(failed)?
                .ok_or_else(|| Failure::input(format!("no team is named {name:?}")))?;
            vec![(format!("team {:?}", team.name), Some(team.id))]
        }
        None => crate::audit_heads::chains(db).await.map_err(failed)?,
    };
    for (label, team) in chains {
        match vulntrack_store::operator::verify_audit_chain(db.conn(), team).await.map_err(failed)? {
            Ok(rows) => println!("{label}: {rows} rows, chain intact"),
            Err(broken) => {
                return Err(Failure::runtime(format!(
                    "audit chain of {label} is broken at row {} (seq {}): {}",
                    broken.id, broken.seq, broken.reason
                )));
            }
        }
    }
    Ok(())
}

async fn connect(config: &Config) -> Result<Database, Failure> {
    connect_to(config, &config.database_url).await
}

async fn connect_to(config: &Config, url: &vulntrack_store::DatabaseUrl) -> Result<Database, Failure> {
    if url.backend() == vulntrack_store::Backend::Sqlite {
        config.ensure_data_dir()?;
    }
    let settings = PoolSettings {
        max_connections: config.db_max_connections,
        acquire_timeout: config.db_acquire_timeout,
        ..PoolSettings::default()
    };
    Database::connect(url, settings)
        .await
        .map_err(|error| Failure::runtime(format!("cannot connect to the database at {}: {error}", url.redacted())))
}

/// Applies pending migrations, as `VULNTRACK_MIGRATE_DATABASE_URL`'s role
/// when one is configured.
async fn migrate(config: &Config, db: &Database) -> Result<(), Failure> {
    let failed = |e: sea_orm::DbErr| Failure::runtime(format!("migration failed: {e}"));
    match &config.migrate_database_url {
        None => db.migrate().await.map(|_| ()).map_err(failed),
        Some(url) => {
            let owner = connect_to(config, url).await?;
            let outcome = owner.migrate().await.map(|_| ()).map_err(failed);
            let _ = owner.close().await;
            outcome
        }
    }
}

/// How often a node looks for due background jobs.
const JOBS_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// How often the audit chain heads are logged (INFO) for log shipping.
const AUDIT_HEAD_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

async fn serve(config: Config) -> Result<(), Failure> {
    let secret = config.resolve_secret()?;
    // Before migrating: a migration may hash audit chains again.
    vulntrack_store::audit::install_chain_keys(crate::audit_heads::chain_keys(
        &secret,
        config.secret_previous.as_ref(),
    ))
    .map_err(Failure::runtime)?;
    let db = connect(&config).await?;
    if config.auto_migrate {
        migrate(&config, &db).await?;
    }
    let transport = match &config.tls {
        Some(files) => app::Transport::Tls(app::tls_config(files).map_err(|e| Failure::input(e.to_string()))?),
        None => app::Transport::Plain,
    };
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| Failure::runtime(format!("cannot listen on {} (VULNTRACK_BIND): {e}", config.bind)))?;
    let address = listener.local_addr().map_err(|e| Failure::runtime(e.to_string()))?;
    let scheme = if matches!(transport, app::Transport::Tls(_)) { "https" } else { "http" };
    let redirect = match config.redirect_http {
        Some(bind) => Some(
            std::net::TcpListener::bind(bind)
                .map_err(|e| Failure::runtime(format!("cannot listen on {bind} (VULNTRACK_REDIRECT_HTTP): {e}")))?,
        ),
        None => None,
    };
    tracing::info!(
        backend = %db.backend(),
        environment = ?config.env,
        "VulnTrack listening on {scheme}://{address}"
    );
    let state =
        AppState::new(db.clone(), config, secret).map_err(|e| Failure::runtime(format!("cannot start: {e}")))?;
    if let Some(listener) = redirect {
        let redirects = app::redirect_router(state.clone());
        tracing::info!(
            "redirecting plain HTTP on {} to HTTPS",
            listener.local_addr().map_or_else(|e| e.to_string(), |a| a.to_string())
        );
        tokio::spawn(app::serve(listener, redirects, app::Transport::Plain, app::shutdown_signal()));
    }
    if let Some(bind) = state.config().metrics_bind {
        let listener = std::net::TcpListener::bind(bind)
            .map_err(|e| Failure::runtime(format!("cannot listen on {bind} (VULNTRACK_METRICS_BIND): {e}")))?;
        tracing::info!("metrics on http://{bind}/metrics");
        tokio::spawn(app::serve(
            listener,
            app::metrics_router(state.clone()),
            app::Transport::Plain,
            app::shutdown_signal(),
        ));
    }
    tokio::spawn(crate::alerts::monitor(state.clone(), std::time::Duration::from_secs(15)));
    tokio::spawn(crate::audit_heads::log_periodically(db.clone(), AUDIT_HEAD_LOG_EVERY));
    tokio::spawn(crate::jobs::run_periodically(state.clone(), JOBS_TICK));
    let outbox_interval = state.config().outbox_interval;
    tokio::spawn(crate::delivery::run_periodically(state.clone(), outbox_interval));
    let router = app::build_router(state);
    app::serve(listener, router, transport, app::shutdown_signal())
        .await
        .map_err(|e| Failure::runtime(format!("server error: {e}")))?;
    db.close().await.map_err(|e| Failure::runtime(format!("closing the database: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// The whole of standard input, minus one trailing newline (as `echo` or a
/// here-string adds).
fn read_password_from_stdin() -> Result<String, Failure> {
    let mut password = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut password)
        .map_err(|e| Failure::input(format!("cannot read the password from standard input: {e}")))?;
    let trimmed = password.strip_suffix('\n').unwrap_or(&password);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(Failure::input("no password on standard input (--password-stdin)"));
    }
    Ok(trimmed.to_string())
}
