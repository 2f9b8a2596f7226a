//! Per-command cooldowns: `rate` uses per window, counted per user, channel, guild or globally.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zoryx_plugin_api::{Bucket, Cooldown, Invocation};

/// Tracks uses of commands with cooldowns.
#[derive(Debug, Default)]
pub struct Cooldowns {
    windows: Mutex<HashMap<(String, u64), (Instant, u32)>>,
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
        let (start, uses) = windows.get(&key)?;
        let elapsed = now.duration_since(*start);
        (elapsed < cooldown.per && *uses >= cooldown.rate).then(|| cooldown.per - elapsed)
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
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < cooldown.per);
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= cooldown.per {
            *entry = (now, 0);
        }
        if entry.1 >= cooldown.rate {
            return Err(cooldown.per.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
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
