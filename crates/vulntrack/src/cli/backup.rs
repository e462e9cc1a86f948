//! `vulntrack backup FILE`: a consistent copy of a live database.
//! SQLite: `VACUUM INTO`, a transactionally consistent snapshot taken while
//! the server keeps serving (copying the file with `cp` is not safe: it can
//! catch a half-written page or miss the WAL). PostgreSQL: `pg_dump -Fc`,
//! when the tool is installed; otherwise the command to run is printed.

use std::path::Path;

use sea_orm::{ConnectionTrait, Statement};
use vulntrack_store::{Backend, Database, DatabaseUrl};

use super::Failure;

pub async fn backup(db: &Database, url: &DatabaseUrl, file: &Path) -> Result<(), Failure> {
    if file.exists() {
        return Err(Failure::input(format!("{} already exists; choose a new file", file.display())));
    }
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(Failure::input(format!("{} is not a directory", parent.display())));
    }
    match url.backend() {
        Backend::Sqlite => sqlite(db, file).await,
        Backend::Postgres => postgres(url, file).await,
    }?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("backup written to {} ({} KiB)", file.display(), bytes.div_ceil(1024));
    Ok(())
}

async fn sqlite(db: &Database, file: &Path) -> Result<(), Failure> {
    let target = file.to_str().ok_or_else(|| Failure::input("the backup file name must be valid UTF-8"))?;
    let statement = Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]);
    db.conn().execute_raw(statement).await.map_err(|e| Failure::runtime(format!("backup failed: {e}")))?;
    Ok(())
}

/// `pg_dump` gets the password through `PGPASSWORD`, never on its command
/// line, which other users of the machine can read.
async fn postgres(url: &DatabaseUrl, file: &Path) -> Result<(), Failure> {
    let mut parsed = url::Url::parse(url.expose()).map_err(|e| Failure::input(format!("DATABASE_URL: {e}")))?;
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={p}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    });
    let _ = parsed.set_password(None);
    let command = format!("pg_dump --format=custom --file={} --dbname='{}'", file.display(), parsed);
    let mut pg_dump = tokio::process::Command::new("pg_dump");
    pg_dump.arg("--format=custom").arg(format!("--file={}", file.display())).arg(format!("--dbname={parsed}"));
    if let Some(password) = password {
        pg_dump.env("PGPASSWORD", password);
    }
    let output = match pg_dump.output().await {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::runtime(format!(
                "pg_dump is not installed here; install the PostgreSQL client of your server's major version and run: {command} (with PGPASSWORD set)"
            )));
        }
        Err(error) => return Err(Failure::runtime(format!("cannot run pg_dump: {error}"))),
    };
    if !output.status.success() {
        let _ = std::fs::remove_file(file);
        let reason = String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("no output").to_string();
        return Err(Failure::runtime(format!("pg_dump failed: {reason}")));
    }
    Ok(())
}
