//! The shared sliding-window log in Redis: one atomic Lua script per check,
//! timed by the Redis server's clock so every instance agrees.

use std::time::Duration;

use redis::{Script, aio::ConnectionManager};
use vulntrack_domain::rate::RateRule;

use super::Decision;

/// KEYS[1]: the sorted set of event times; ARGV: window ms, limit, a unique
/// member prefix, how many events (all or none). Returns {allowed, count,
/// ms until a slot frees}.
const SCRIPT: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local n = tonumber(ARGV[4])
local allowed = 0
if count + n <= limit then
  for i = 1, n do
    redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. i)
  end
  count = count + n
  allowed = 1
end
local reset = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + window - now
end
redis.call('PEXPIRE', KEYS[1], window)
return {allowed, count, reset}
";

/// How long one check may wait for Redis before the local limiter answers.
pub const TIMEOUT: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct RedisWindow {
    connection: ConnectionManager,
    script: Script,
    prefix: String,
}

impl std::fmt::Debug for RedisWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisWindow").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisWindow {
    pub fn new(connection: ConnectionManager, prefix: &str) -> Self {
        Self { connection, script: Script::new(SCRIPT), prefix: prefix.to_string() }
    }

    /// Removes the newest event of `key`.
    pub async fn refund(&self, key: &str) -> redis::RedisResult<()> {
        let mut connection = self.connection.clone();
        redis::cmd("ZPOPMAX").arg(format!("{}{key}", self.prefix)).exec_async(&mut connection).await
    }

    pub async fn check(&self, key: &str, rule: RateRule, n: u32) -> redis::RedisResult<Decision> {
        let window_ms = u64::try_from(rule.window.as_millis()).unwrap_or(u64::MAX);
        let member = uuid::Uuid::now_v7().to_string();
        let mut connection = self.connection.clone();
        let (allowed, count, reset): (i64, i64, i64) = self
            .script
            .key(format!("{}{key}", self.prefix))
            .arg(window_ms)
            .arg(rule.limit)
            .arg(member)
            .arg(n)
            .invoke_async(&mut connection)
            .await?;
        Ok(Decision {
            allowed: allowed == 1,
            limit: rule.limit,
            remaining: rule.limit.saturating_sub(u32::try_from(count).unwrap_or(u32::MAX)),
            reset: Duration::from_millis(u64::try_from(reset.max(0)).unwrap_or(0)),
        })
    }
}
