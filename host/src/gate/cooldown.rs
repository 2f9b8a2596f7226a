//! Per-command cooldowns: `rate` uses per window, counted per user, channel, guild or globally.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zoryx_plugin_api::{Bucket, Cooldown, Invocation};

/// Tracks uses of commands with cooldowns.
#[derive(Debug, Default)]
pub struct Cooldowns {
    windows: Mutex<Windows>,
}

/// Past this many open windows, the expired ones are swept.
const SWEEP_FROM: usize = 10_000;

#[derive(Debug, Default)]
struct Windows {
    open: HashMap<(String, u64), Window>,
    /// The size that triggers the next sweep: twice what a sweep left, at least
    /// [`SWEEP_FROM`], so that many live windows do not make every call sweep.
    sweep_at: usize,
}

/// One bucket's window: when it opened, the uses in it, and its command's length.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    uses: u32,
    per: Duration,
}

fn bucket_key(bucket: Bucket, invocation: &Invocation) -> u64 {
    match bucket {
        Bucket::User => invocation.author.id.0,
        Bucket::Channel => invocation.channel_id.0,
        Bucket::Guild => invocation.guild_id.map_or(0, |g| g.0),
        Bucket::Global => 0,
    }
}

impl Cooldowns {
    /// How long until `command` may run again for `invocation` (`None`: it may now), without
    /// recording a use.
    pub fn remaining(
        &self,
        command: &str,
        cooldown: &Cooldown,
        invocation: &Invocation,
        now: Instant,
    ) -> Option<Duration> {
        let key = (command.to_owned(), bucket_key(cooldown.bucket, invocation));
        let windows = self.windows.lock().ok()?;
        let window = windows.open.get(&key)?;
        let elapsed = now.duration_since(window.start);
        (elapsed < cooldown.per && window.uses >= cooldown.rate).then(|| cooldown.per - elapsed)
    }

    /// Records a use of `command`; `Err(remaining)` if its cooldown is still running.
    pub fn check(
        &self,
        command: &str,
        cooldown: &Cooldown,
        invocation: &Invocation,
        now: Instant,
    ) -> Result<(), Duration> {
        let key = (command.to_owned(), bucket_key(cooldown.bucket, invocation));
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.open.len() > windows.sweep_at.max(SWEEP_FROM) {
            // Each window expires by its own command's length.
            windows
                .open
                .retain(|_, w| now.duration_since(w.start) < w.per);
            windows.sweep_at = (windows.open.len() * 2).max(SWEEP_FROM);
        }
        let fresh = Window {
            start: now,
            uses: 0,
            per: cooldown.per,
        };
        let window = windows.open.entry(key).or_insert(fresh);
        if now.duration_since(window.start) >= cooldown.per {
            *window = fresh;
        }
        if window.uses >= cooldown.rate {
            return Err(cooldown
                .per
                .saturating_sub(now.duration_since(window.start)));
        }
        window.uses += 1;
        Ok(())
    }

    /// Open windows (for tests and reports).
    pub fn len(&self) -> usize {
        self.windows.lock().map_or(0, |w| w.open.len())
    }

    /// Whether no window is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoryx_plugin_api::{ChannelId, Source, User, UserId};

    fn invocation(user: u64) -> Invocation {
        Invocation {
            command: "x".into(),
            author: User {
                id: UserId(user),
                name: "u".into(),
                bot: false,
            },
            guild_id: None,
            channel_id: ChannelId(1),
            message_id: None,
            is_owner: false,
            source: Source::Console,
        }
    }

    #[test]
    fn a_sweep_keeps_live_windows_of_longer_cooldowns() {
        let cooldowns = Cooldowns::default();
        let long = Cooldown {
            rate: 1,
            per: Duration::from_secs(3600),
            bucket: Bucket::User,
        };
        let short = Cooldown {
            rate: 1,
            per: Duration::from_millis(1),
            bucket: Bucket::User,
        };
        let t0 = Instant::now();
        assert!(cooldowns.check("long", &long, &invocation(1), t0).is_ok());
        for user in 2..=(SWEEP_FROM as u64) {
            let used = cooldowns.check("short", &short, &invocation(user), t0);
            assert!(used.is_ok());
        }
        // Past the threshold, a call sweeps the expired short windows, not the hour-long one.
        let later = t0 + Duration::from_secs(1);
        for user in [1, 0] {
            let used = cooldowns.check("short", &short, &invocation(user), later);
            assert!(used.is_ok());
        }
        assert!(cooldowns.len() < 10, "{} windows left", cooldowns.len());
        assert!(
            cooldowns
                .check("long", &long, &invocation(1), later)
                .is_err(),
            "the long cooldown survived the sweep"
        );
    }

    #[test]
    fn allows_rate_uses_per_window_per_user() {
        let cooldowns = Cooldowns::default();
        let cd = Cooldown {
            rate: 2,
            per: Duration::from_secs(5),
            bucket: Bucket::User,
        };
        let t0 = Instant::now();
        assert!(cooldowns.check("x", &cd, &invocation(1), t0).is_ok());
        assert!(cooldowns.check("x", &cd, &invocation(1), t0).is_ok());
        let left = cooldowns.check("x", &cd, &invocation(1), t0 + Duration::from_secs(1));
        assert_eq!(left, Err(Duration::from_secs(4)));
        assert!(
            cooldowns.check("x", &cd, &invocation(2), t0).is_ok(),
            "other user"
        );
        assert_eq!(
            cooldowns.remaining("x", &cd, &invocation(1), t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(3)),
            "the peek sees the window"
        );
        assert_eq!(cooldowns.remaining("x", &cd, &invocation(2), t0), None);
        assert!(
            cooldowns
                .check("x", &cd, &invocation(1), t0 + Duration::from_secs(5))
                .is_ok()
        );
    }
}
