//! The host's clock: what plugins read with `Host::now` and what cron tasks wait for.
//!
//! It is the system's wall clock, unless a test sets it by hand ([`set_manual`]): then time
//! stands still until the test moves it ([`advance`]), and every [`sleep_until`] whose moment
//! has come wakes at once. The clock is the process's, like the wall clock it stands in for.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// `None`: the wall clock; `Some(ms)`: a hand-set clock at `ms` milliseconds since the epoch.
static MANUAL: LazyLock<watch::Sender<Option<u64>>> = LazyLock::new(|| watch::channel(None).0);

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    (*MANUAL.borrow()).unwrap_or_else(wall_ms)
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    now_ms() / 1000
}

/// Stops the clock at `unix_secs`; it moves only by [`advance`] and [`set_manual`] from now on.
pub fn set_manual(unix_secs: u64) {
    MANUAL.send_replace(Some(unix_secs.saturating_mul(1000)));
}

/// Moves a hand-set clock forward by `by` (nothing on the wall clock); wakes the sleepers
/// whose moment has come.
pub fn advance(by: Duration) {
    let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
    MANUAL.send_modify(|now| {
        if let Some(ms) = now {
            *ms = ms.saturating_add(by);
        }
    });
}

/// Back to the wall clock.
pub fn set_system() {
    MANUAL.send_replace(None);
}

/// Waits until the clock reads `unix_secs` or later. On the wall clock that is a timer, checked
/// again on waking (a clock set back is waited out); on a hand-set clock, the moment a test
/// moves it far enough.
pub async fn sleep_until(unix_secs: u64) {
    let target = unix_secs.saturating_mul(1000);
    let mut changes = MANUAL.subscribe();
    loop {
        let (now, manual) = match *changes.borrow_and_update() {
            Some(ms) => (ms, true),
            None => (wall_ms(), false),
        };
        if now >= target {
            return;
        }
        if manual {
            if changes.changed().await.is_err() {
                return;
            }
        } else {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(target - now)) => {}
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The civil date (year, month 1-12, day 1-31) of a count of days since 1970-01-01 (Howard
/// Hinnant's algorithm), for the places that print UTC dates without a date library.
pub fn civil_date(days_since_epoch: i64) -> (i64, i64, i64) {
    let z = days_since_epoch + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the clock is the process's.
    #[tokio::test]
    async fn a_hand_set_clock_wakes_sleepers_when_moved() {
        let before = now();
        assert!(before > 1_700_000_000, "the wall clock by default");
        set_manual(1_000_000);
        assert_eq!(now(), 1_000_000);
        let mut sleeper = tokio::spawn(sleep_until(1_000_060));
        advance(Duration::from_secs(59));
        let early = tokio::time::timeout(Duration::from_millis(100), &mut sleeper).await;
        assert!(early.is_err(), "59 s are not a minute");
        advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(now(), 1_000_060);
        set_system();
        assert!(now() >= before);
        // On the wall clock a past moment returns at once.
        tokio::time::timeout(Duration::from_secs(5), sleep_until(before))
            .await
            .expect("past");
    }
}
