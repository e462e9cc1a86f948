//! Shared by the benchmarks that run `vulntrack` in its own process: the
//! process's peak resident memory.

use std::{
    process::{Child, Output},
    time::Duration,
};

/// Waits for `child` to exit, reading its peak resident set (`VmHWM`)
/// every 2 ms; the peak in MiB, and what it wrote.
pub async fn until_exit(mut child: Child) -> (f64, Output) {
    let pid = child.id();
    let mut peak_kb = 0.0_f64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (peak_kb / 1024.0, child.wait_with_output().expect("output"))
}
