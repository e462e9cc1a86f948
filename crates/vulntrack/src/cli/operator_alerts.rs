//! `vulntrack alerts list|ack`: the instance-wide security alerts, which
//! belong to the operator rather than to any team's ADMINs.

use vulntrack_store::{Database, operator};

use super::Failure;

pub async fn list(db: &Database, only_open: bool) -> Result<(), Failure> {
    let alerts = operator::instance_alerts(db.conn(), 500)
        .await
        .map_err(|e| Failure::runtime(format!("cannot read the alerts: {e}")))?;
    let shown: Vec<_> = alerts.into_iter().filter(|a| !only_open || a.acknowledged_at.is_none()).collect();
    if shown.is_empty() {
        println!("no instance-wide alerts{}", if only_open { " open" } else { "" });
    }
    for alert in shown {
        let state = alert
            .acknowledged_at
            .map_or_else(|| "open".to_string(), |at| format!("acknowledged {}", at.format("%Y-%m-%d %H:%M")));
        println!(
            "{}  {}  {:<8}  {:<30}  {}  [{}]  {}",
            alert.id,
            alert.created_at.format("%Y-%m-%d %H:%M:%S"),
            alert.severity,
            alert.rule,
            alert.subject,
            state,
            alert.evidence
        );
    }
    Ok(())
}

pub async fn acknowledge(db: &Database, id: &str) -> Result<(), Failure> {
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| Failure::input(format!("{id:?} is not an alert id")))?;
    crate::services::operator::acknowledge_alert(db, id).await.map_err(|error| match error {
        crate::services::operator::OperatorError::NoSuchAlert(_) => Failure::input(error.to_string()),
        other => Failure::runtime(format!("cannot acknowledge the alert: {other}")),
    })?;
    println!("acknowledged {id}");
    Ok(())
}
