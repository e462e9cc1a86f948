//! The in-memory sliding-window log: each key keeps the times of its
//! recent events; an event is allowed while fewer than `limit` fall inside
//! the window. Keys whose events have all aged out are dropped, so memory
//! stays bounded by the traffic of the last window.
//!
//! Not `governor`: its GCRA spaces events evenly (one every window/limit
//! after a burst), whereas these limits are "N in any window", the same
//! rule the Redis script enforces, so a fallback changes nothing visible.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use vulntrack_domain::rate::RateRule;

use super::Decision;

const SHARDS: usize = 16;
/// Every this many checks, one shard (in turn) drops its idle keys, so
/// every shard is swept whichever keys the traffic hits.
const SWEEP_EVERY: u64 = 256;

type Shard = HashMap<String, (Duration, VecDeque<u64>)>;

#[derive(Debug)]
pub struct MemoryWindow {
    shards: Vec<Mutex<Shard>>,
    checks: AtomicU64,
}

impl Default for MemoryWindow {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(), checks: AtomicU64::new(0) }
    }
}

fn shard_of(key: &str) -> usize {
    // FNV-1a: cheap and stable; the shard only spreads lock contention.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash % SHARDS as u64) as usize
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl MemoryWindow {
    fn lock(&self, index: usize) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one event for `key` at `now_ms` if the rule allows it.
    pub fn check(&self, key: &str, rule: RateRule, now_ms: u64) -> Decision {
        self.check_n(key, rule, now_ms, 1)
    }

    /// Counts `n` events at once (a bulk change of `n` records), all or
    /// none: allowed only if the window has room for every one.
    pub fn check_n(&self, key: &str, rule: RateRule, now_ms: u64, n: u32) -> Decision {
        let count = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if count.is_multiple_of(SWEEP_EVERY) {
            let index = usize::try_from((count / SWEEP_EVERY) % SHARDS as u64).unwrap_or(0);
            self.lock(index).retain(|_, (window, events)| {
                events.back().is_some_and(|last| last.saturating_add(millis(*window)) > now_ms)
            });
        }
        let window = millis(rule.window);
        let mut shard = self.lock(shard_of(key));
        let (_, events) = shard.entry(key.to_string()).or_insert_with(|| (rule.window, VecDeque::new()));
        while events.front().is_some_and(|t| t.saturating_add(window) <= now_ms) {
            events.pop_front();
        }
        let limit = rule.limit as usize;
        let allowed = events.len() + n as usize <= limit;
        if allowed {
            events.extend(std::iter::repeat_n(now_ms, n as usize));
        }
        let reset_ms = events.front().map_or(window, |oldest| oldest.saturating_add(window).saturating_sub(now_ms));
        Decision {
            allowed,
            limit: rule.limit,
            remaining: u32::try_from(limit.saturating_sub(events.len())).unwrap_or(0),
            reset: Duration::from_millis(reset_ms),
        }
    }

    /// Takes back the newest event of `key`, for limits that count only
    /// some outcomes (a successful sign-in is not a failure).
    pub fn refund(&self, key: &str) {
        if let Some((_, events)) = self.lock(shard_of(key)).get_mut(key) {
            events.pop_back();
        }
    }

    /// Keys currently held (for tests of the memory bound).
    pub fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.lock(i).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: RateRule = RateRule::new(3, Duration::from_secs(60));

    #[test]
    fn n_events_in_any_window() {
        let window = MemoryWindow::default();
        for (i, at) in [0u64, 10_000, 20_000].iter().enumerate() {
            let decision = window.check("k", RULE, *at);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, 2 - i as u32);
        }
        let refused = window.check("k", RULE, 30_000);
        assert!(!refused.allowed);
        assert_eq!(refused.reset, Duration::from_secs(30), "the first event leaves the window at 60 s");
        assert!(window.check("k", RULE, 60_000).allowed, "a slot frees when the oldest event ages out");
        assert!(!window.check("k", RULE, 60_001).allowed);
        assert!(window.check("other", RULE, 60_001).allowed, "keys are independent");
    }

    #[test]
    fn weighted_checks_take_all_or_nothing() {
        let window = MemoryWindow::default();
        assert!(window.check_n("k", RULE, 0, 2).allowed);
        assert!(!window.check_n("k", RULE, 1, 2).allowed, "two more would make four of three");
        assert_eq!(window.check_n("k", RULE, 2, 1).remaining, 0, "the refused batch took nothing");
    }

    #[test]
    fn a_refunded_event_frees_its_slot() {
        let window = MemoryWindow::default();
        for at in [0u64, 1, 2] {
            assert!(window.check("k", RULE, at).allowed);
            window.refund("k");
        }
        assert_eq!(window.check("k", RULE, 3).remaining, 2, "refunded events do not count");
        window.refund("absent");
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let window = MemoryWindow::default();
        for i in 0..5_000 {
            window.check(&format!("client-{i}"), RULE, 0);
        }
        for i in 0..(SWEEP_EVERY as usize * SHARDS * 2) {
            window.check(&format!("later-{}", i % 7), RULE, 120_000);
        }
        assert!(window.len() < 100, "old keys were swept: {}", window.len());
    }
}
