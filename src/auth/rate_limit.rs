//! Per-client-IP limits on the unauthenticated account endpoints: a fixed one-minute window
//! per address, in memory (each instance limits its own traffic; the per-account login
//! lockout is in the database). IPv6 clients are counted per /64, the block one subscriber
//! usually holds, so rotating addresses inside it buys nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::config::{AuthSettings, Switch};
use crate::error::{AppError, AppResult};

/// The endpoints that are limited per client IP, each with its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Login,
    Register,
    PasswordReset,
    PasswordResetConfirm,
    VerifyEmail,
}

/// One limiter per [`Limited`] endpoint, or none at all when `auth.rate_limits = off`.
pub struct AuthLimits {
    enabled: bool,
    login: IpLimiter,
    register: IpLimiter,
    reset: IpLimiter,
    reset_confirm: IpLimiter,
    verify_email: IpLimiter,
}

impl AuthLimits {
    pub fn new(auth: &AuthSettings) -> Self {
        Self {
            enabled: auth.rate_limits == Switch::On,
            login: IpLimiter::new(auth.login_per_ip_per_minute),
            register: IpLimiter::new(auth.register_per_ip_per_minute),
            reset: IpLimiter::new(auth.password_reset_per_ip_per_minute),
            reset_confirm: IpLimiter::new(auth.password_reset_confirm_per_ip_per_minute),
            verify_email: IpLimiter::new(auth.verify_email_per_ip_per_minute),
        }
    }

    /// Counts one request to `endpoint` from `ip`: 429 `rate_limited` with `Retry-After` once
    /// the address has spent its minute's budget.
    pub fn check(&self, endpoint: Limited, ip: Option<IpAddr>, now: DateTime<Utc>) -> AppResult<()> {
        let Some(ip) = ip.filter(|_| self.enabled) else { return Ok(()) };
        let limiter = match endpoint {
            Limited::Login => &self.login,
            Limited::Register => &self.register,
            Limited::PasswordReset => &self.reset,
            Limited::PasswordResetConfirm => &self.reset_confirm,
            Limited::VerifyEmail => &self.verify_email,
        };
        limiter.check(ip, now).map_err(|retry_after_secs| AppError::RateLimited {
            retry_after_secs,
            detail: crate::domain::error::Rule::AddressRateLimited.into(),
        })
    }
}

/// The key an address is counted under: itself for IPv4, its /64 block for IPv6.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// Fixed one-minute windows per address. The windows live in two generations, by the minute
/// of the clock in which they were touched: when the minute turns, the older generation is
/// dropped whole, so forgetting expired addresses costs nothing per request however many
/// addresses there are (a window opened late in one minute is still found in the previous
/// generation during the next). Memory holds at most two minutes of addresses.
pub struct IpLimiter {
    per_minute: u32,
    windows: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    /// The clock minute (`timestamp / 60`) of `current`.
    minute: i64,
    current: HashMap<IpAddr, (DateTime<Utc>, u32)>,
    previous: HashMap<IpAddr, (DateTime<Utc>, u32)>,
}

impl Generations {
    /// Moves to `minute`, returning the generation that aged out (dropped by the caller,
    /// outside the lock).
    fn turn(&mut self, minute: i64) -> Option<HashMap<IpAddr, (DateTime<Utc>, u32)>> {
        if minute <= self.minute {
            return None;
        }
        let aged = if minute == self.minute + 1 {
            std::mem::replace(&mut self.previous, std::mem::take(&mut self.current))
        } else {
            self.previous.clear();
            std::mem::take(&mut self.current)
        };
        self.minute = minute;
        Some(aged)
    }
}

impl IpLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, windows: Mutex::new(Generations::default()) }
    }

    /// Counts one attempt from `ip`; `Err(retry_after_secs)` once the minute's budget is spent.
    pub fn check(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let minute = chrono::Duration::minutes(1);
        let key = bucket(ip);
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        let aged = windows.turn(now.timestamp().div_euclid(60));
        let carried = windows.previous.remove(&key).filter(|(start, _)| now - *start < minute);
        let entry = windows.current.entry(key).or_insert_with(|| carried.unwrap_or((now, 0)));
        if now - entry.0 >= minute {
            *entry = (now, 0);
        }
        let outcome = if entry.1 >= self.per_minute {
            let reset = entry.0 + minute;
            Err((reset - now).num_seconds().max(1) as u64)
        } else {
            entry.1 += 1;
            Ok(())
        };
        drop(windows);
        drop(aged);
        outcome
    }

    /// Addresses with a window (both generations), for tests.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        windows.current.len() + windows.previous.len()
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

    #[test]
    fn a_window_spans_the_turn_of_the_clock_minute_and_old_addresses_are_forgotten() {
        let limiter = IpLimiter::new(2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        // 10 s before a clock minute turns.
        let t0 = DateTime::from_timestamp(60 * 1_000_000 - 10, 0).unwrap_or_default();
        assert!(limiter.check(ip, t0).is_ok());
        assert!(limiter.check(ip, t0).is_ok());
        // 20 s later the clock minute has turned but the address's window has not.
        assert!(limiter.check(ip, t0 + chrono::Duration::seconds(20)).is_err(), "the window carries over");
        assert!(limiter.check(ip, t0 + chrono::Duration::seconds(61)).is_ok(), "its own minute is over");
        for i in 0..1000_u32 {
            limiter.check(IpAddr::from(i.to_be_bytes()), t0).ok();
        }
        assert!(limiter.tracked() >= 1000);
        // Two clock minutes later nothing of the burst is kept.
        limiter.check(ip, t0 + chrono::Duration::seconds(190)).ok();
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn ipv6_is_counted_per_64_block() {
        let limiter = IpLimiter::new(1);
        let t0 = Utc::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap_or(IpAddr::from([0u8; 16]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(b, t0).is_err(), "same /64");
        assert!(limiter.check(c, t0).is_ok(), "another /64");
    }
}
