//! Counting events per key per minute: failed authentications per client address, requests
//! sent by hand per organization.
//!
//! Brute-force protection throttles guessing, not users: each client address may fail
//! authentication only so many times a minute; past that its failures answer 429 with
//! `Retry-After` until the minute is over. A valid credential is never refused: many customers
//! share an address (a load balancer, a no-code cloud's egress), and one of them sending bad or
//! expired credentials must not lock the others out. Guessing a 256-bit key is hopeless anyway;
//! what the throttle bounds is the load and noise of trying.

use std::{
    hash::Hash,
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

/// So many events per key per minute.
pub struct Throttle<K> {
    limit: u32,
    windows: Cache<K, Arc<Mutex<Window>>>,
}

/// Failed authentications per client address.
pub type AuthThrottle = Throttle<IpAddr>;

impl<K: Hash + Eq + Send + Sync + 'static> Throttle<K> {
    /// `limit` events per key per minute; `0` turns the throttle off.
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

    /// Counts an event; once the key has had its `limit` this minute, returns how long until
    /// the minute is over.
    pub fn hit(&self, key: K) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let window = self.windows.get_with(key, || {
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
            let elapsed = window.started.elapsed();
            return (window.failures > self.limit).then(|| WINDOW.saturating_sub(elapsed));
        }
        None
    }

    /// Whether the key has had its `limit` this minute (counting nothing).
    pub fn is_over(&self, key: &K) -> bool {
        self.limit > 0
            && self.windows.get(key).is_some_and(|window| {
                window.lock().is_ok_and(|window| {
                    window.started.elapsed() < WINDOW && window.failures > self.limit
                })
            })
    }
}

/// One lookup at a time per key, `spacing` apart: how credentials from an address over its
/// failure limit still reach the database, so guessing from it costs the database a bounded
/// trickle while a valid credential from it (a shared address) is delayed, never refused.
pub struct Pace<K> {
    spacing: Duration,
    next: Cache<K, Arc<Mutex<Instant>>>,
}

impl<K: Hash + Eq + Send + Sync + 'static> Pace<K> {
    pub fn new(spacing: Duration) -> Self {
        Self {
            spacing,
            next: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(WINDOW * 2)
                .build(),
        }
    }

    /// How long the caller must wait for its turn; the turn after it is booked at once.
    pub fn wait(&self, key: K) -> Duration {
        let next = self
            .next
            .get_with(key, || Arc::new(Mutex::new(Instant::now())));
        let Ok(mut next) = next.lock() else {
            return Duration::ZERO;
        };
        let now = Instant::now();
        let turn = (*next).max(now);
        *next = turn + self.spacing;
        turn - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_throttled_after_its_failures_and_others_are_not() {
        let throttle = AuthThrottle::new(3);
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(throttle.hit(attacker).is_none());
        }
        let wait = throttle.hit(attacker).expect("throttled");
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(5));
        assert!(throttle.hit(bystander).is_none());
        assert!(AuthThrottle::new(0).hit(attacker).is_none());
        assert!(throttle.is_over(&attacker) && !throttle.is_over(&bystander));
    }

    #[test]
    fn paced_turns_are_spaced_per_key() {
        let pace = Pace::new(Duration::from_millis(100));
        assert_eq!(pace.wait(1), Duration::ZERO);
        let second = pace.wait(1);
        assert!(second > Duration::from_millis(90) && second <= Duration::from_millis(100));
        assert!(pace.wait(1) > Duration::from_millis(190));
        assert_eq!(
            pace.wait(2),
            Duration::ZERO,
            "another key has its own turns"
        );
    }
}
