//! Per-client-IP login limiter: a fixed one-minute window per address, in memory (each
//! instance limits its own traffic; per-account locking is in the database).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

pub struct IpLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (DateTime<Utc>, u32)>>,
}

impl IpLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt from `ip`; `Err(retry_after_secs)` once the minute's budget is spent.
    pub fn check(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now - *start < chrono::Duration::minutes(1));
        }
        let entry = windows.entry(ip).or_insert((now, 0));
        if now - entry.0 >= chrono::Duration::minutes(1) {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let reset = entry.0 + chrono::Duration::minutes(1);
            return Err((reset - now).num_seconds().max(1) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_per_minute() {
        let limiter = IpLimiter::new(3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let t0 = Utc::now();
        for _ in 0..3 {
            assert!(limiter.check(ip, t0).is_ok());
        }
        let retry = limiter.check(ip, t0).err();
        assert!(matches!(retry, Some(s) if (1..=60).contains(&s)));
        assert!(limiter.check(other, t0).is_ok(), "other addresses are independent");
        assert!(limiter.check(ip, t0 + chrono::Duration::seconds(61)).is_ok(), "a new minute resets");
    }
}
