//! Brute-force protection: each client address may fail authentication only so many times a
//! minute; past that every request from it answers 429 with `Retry-After` until the minute is
//! over, valid credentials included (otherwise a lucky guess would still get through).

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use moka::sync::Cache;

/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Failed attempts of one address in the current window.
struct Window {
    started: Instant,
    failures: u32,
}

pub struct AuthThrottle {
    limit: u32,
    windows: Cache<IpAddr, Arc<Mutex<Window>>>,
}

impl AuthThrottle {
    /// `limit` failures per address per minute; `0` turns the throttle off.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            // Entries outlive their window a little; an address that stops failing is
            // forgotten, and the cache is bounded whatever an attacker's address range.
            windows: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(WINDOW * 2)
                .build(),
        }
    }

    /// How long this address must wait, if it has used up its failures.
    pub fn blocked_for(&self, address: IpAddr) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let window = self.windows.get(&address)?;
        let window = window.lock().ok()?;
        let elapsed = window.started.elapsed();
        (window.failures >= self.limit && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    /// Counts a failed authentication.
    pub fn failed(&self, address: IpAddr) {
        if self.limit == 0 {
            return;
        }
        let window = self.windows.get_with(address, || {
            Arc::new(Mutex::new(Window {
                started: Instant::now(),
                failures: 0,
            }))
        });
        if let Ok(mut window) = window.lock() {
            if window.started.elapsed() >= WINDOW {
                *window = Window {
                    started: Instant::now(),
                    failures: 0,
                };
            }
            window.failures += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_and_others_are_not() {
        let throttle = AuthThrottle::new(3);
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..2 {
            throttle.failed(attacker);
        }
        assert!(throttle.blocked_for(attacker).is_none());
        throttle.failed(attacker);
        let wait = throttle.blocked_for(attacker).expect("blocked");
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(5));
        assert!(throttle.blocked_for(bystander).is_none());
        assert!(AuthThrottle::new(0).blocked_for(attacker).is_none());
    }
}
