//! Snowflake ids shaped like Discord's: milliseconds since the Discord epoch in the top bits,
//! then worker/process bits and an increment, so ids grow with time and are `>= 2^50`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Hands out increasing snowflakes.
#[derive(Debug)]
pub struct Snowflakes {
    worker: u64,
    last: AtomicU64,
    /// While non-zero, ids are made as if the clock read this (Unix ms): see [`Snowflakes::pin`].
    pinned: AtomicU64,
}

/// The instant the default world is made at (2025-01-01T00:00:00Z), so its ids are the same in
/// every run with the same seed: data a bot keeps per guild survives a restart of the simulator.
pub const DEFAULT_WORLD_MS: u64 = 1_735_689_600_000;

impl Snowflakes {
    /// A generator whose worker/process bits come from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            worker: (seed % 1024) << 12,
            last: AtomicU64::new(0),
            pinned: AtomicU64::new(0),
        }
    }

    /// Makes ids as if the clock read `unix_ms` until [`Snowflakes::unpin`]: deterministic ids
    /// for entities that must keep their ids across runs.
    pub fn pin(&self, unix_ms: u64) {
        self.pinned.store(unix_ms, Ordering::Relaxed);
    }

    /// Back to the wall clock; later ids are still greater than every earlier one.
    pub fn unpin(&self) {
        self.pinned.store(0, Ordering::Relaxed);
    }

    /// The next id: strictly greater than every id handed out before.
    pub fn next(&self) -> u64 {
        let clock = match self.pinned.load(Ordering::Relaxed) {
            0 => now_ms(),
            pinned => pinned,
        };
        let now = clock.saturating_sub(DISCORD_EPOCH_MS);
        let candidate = (now << 22) | self.worker;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = if candidate > prev {
                candidate
            } else {
                prev + 1
            };
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => prev = actual,
            }
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The Unix milliseconds a snowflake was made at.
pub fn timestamp_ms(id: u64) -> u64 {
    (id >> 22) + DISCORD_EPOCH_MS
}

/// An ISO 8601 UTC timestamp (`2026-01-02T03:04:05.678000+00:00`) for Unix milliseconds.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}000+00:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_are_large() {
        let ids = Snowflakes::new(7);
        let a = ids.next();
        let b = ids.next();
        assert!(a >= 1 << 50);
        assert!(b > a);
        assert!(timestamp_ms(a) <= now_ms());
    }

    #[test]
    fn pinned_ids_repeat_across_generators_and_stay_below_later_ones() {
        let first = Snowflakes::new(3);
        first.pin(DEFAULT_WORLD_MS);
        let a = [first.next(), first.next()];
        first.unpin();
        let later = first.next();
        let second = Snowflakes::new(3);
        second.pin(DEFAULT_WORLD_MS);
        assert_eq!([second.next(), second.next()], a);
        assert_eq!(timestamp_ms(a[0]), DEFAULT_WORLD_MS);
        assert!(later > a[1]);
        assert!(timestamp_ms(later) > DEFAULT_WORLD_MS);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            iso8601(1_420_070_400_000),
            "2015-01-01T00:00:00.000000+00:00"
        );
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123000+00:00");
    }
}
