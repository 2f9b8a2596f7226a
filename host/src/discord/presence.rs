//! The status rotator: the bot's presence from `status` in `config.json`, one status or a
//! rotation advanced every `status.interval_seconds`, with `{guilds}`, `{users}`, `{commands}`
//! and `{prefix}` filled in each time it is shown; the owner command `status` shows, sets,
//! advances and pauses it.
//!
//! Each shard gets the current status when it is READY ([`on_ready`]); [`run`] advances the
//! rotation and refreshes the placeholders, sending a presence update (gateway op 3) to every
//! shard only when what is shown changes. serenity keeps the last presence for a shard's next
//! IDENTIFY, so a reconnected shard shows the same status.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serenity::gateway::ActivityData;
use serenity::model::user::OnlineStatus;

use super::bot::Bot;
use crate::config::{StatusConfig, StatusEntry};

/// A status as shown: its type, the text with the placeholders filled in, the stream URL and
/// the online status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shown {
    pub(crate) kind: String,
    pub(crate) text: String,
    pub(crate) url: Option<String>,
    pub(crate) presence: String,
}

impl Shown {
    /// How Discord shows it: "Watching 3 servers", "Streaming live", or a custom text.
    pub(crate) fn describe(&self) -> String {
        let verb = match self.kind.as_str() {
            "playing" => "Playing",
            "watching" => "Watching",
            "listening" => "Listening to",
            "competing" => "Competing in",
            "streaming" => "Streaming",
            _ => return self.text.clone(),
        };
        format!("{verb} {}", self.text)
    }

    fn activity(&self) -> ActivityData {
        match self.kind.as_str() {
            "playing" => ActivityData::playing(&self.text),
            "listening" => ActivityData::listening(&self.text),
            "competing" => ActivityData::competing(&self.text),
            "custom" => ActivityData::custom(&self.text),
            "streaming" => self
                .url
                .as_deref()
                .and_then(|url| ActivityData::streaming(&self.text, url).ok())
                .unwrap_or_else(|| ActivityData::playing(&self.text)),
            _ => ActivityData::watching(&self.text),
        }
    }

    fn online_status(&self) -> OnlineStatus {
        match self.presence.as_str() {
            "idle" => OnlineStatus::Idle,
            "dnd" => OnlineStatus::DoNotDisturb,
            "invisible" => OnlineStatus::Invisible,
            _ => OnlineStatus::Online,
        }
    }
}

/// What the placeholders stand for.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) guilds: u64,
    pub(crate) users: u64,
    pub(crate) commands: usize,
    pub(crate) prefix: String,
}

/// `entry` with its placeholders filled in from `counts`, cut to Discord's 128 characters.
pub(crate) fn render(entry: &StatusEntry, counts: &Counts) -> Shown {
    let text = entry
        .text
        .replace("{guilds}", &counts.guilds.to_string())
        .replace("{users}", &counts.users.to_string())
        .replace("{commands}", &counts.commands.to_string())
        .replace("{prefix}", &counts.prefix);
    Shown {
        kind: entry.kind.clone(),
        text: text
            .chars()
            .take(crate::config::validate::STATUS_TEXT_MAX)
            .collect(),
        url: entry.url.clone(),
        presence: entry.presence.clone(),
    }
}

/// The rotation's state, as `status` reports it.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub(crate) statuses: Vec<StatusEntry>,
    pub(crate) index: usize,
    pub(crate) paused: bool,
    pub(crate) fixed: Option<StatusEntry>,
    pub(crate) shown: Option<Shown>,
    pub(crate) interval: Duration,
}

#[derive(Debug, Default)]
struct State {
    index: usize,
    paused: bool,
    /// Set by `status set`: shown instead of the rotation until `status resume`.
    fixed: Option<StatusEntry>,
    /// What the shards were last told.
    shown: Option<Shown>,
}

/// The configured statuses and where the rotation is.
#[derive(Debug)]
pub(crate) struct Rotator {
    statuses: Vec<StatusEntry>,
    interval: Duration,
    log: bool,
    state: Mutex<State>,
    /// Restarts the interval (after `status next`, `set`, `resume`).
    wake: tokio::sync::Notify,
}

impl Rotator {
    pub(crate) fn new(config: &StatusConfig) -> Self {
        Self {
            statuses: config.entries(),
            interval: Duration::from_secs(config.interval_seconds.max(15)),
            log: config.log_status_updates,
            state: Mutex::default(),
            wake: tokio::sync::Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The status to show now: the one set by `status set`, or the rotation's.
    fn current(&self) -> StatusEntry {
        let state = self.state();
        state.fixed.clone().unwrap_or_else(|| {
            self.statuses
                .get(state.index % self.statuses.len().max(1))
                .cloned()
                .unwrap_or_default()
        })
    }

    /// Moves the rotation on by one (a no-op with one status).
    pub(crate) fn advance(&self) {
        let mut state = self.state();
        state.index = (state.index + 1) % self.statuses.len().max(1);
    }

    /// Stops or restarts the rotation; resuming also drops a status set by `status set`.
    pub(crate) fn pause(&self, paused: bool) {
        let mut state = self.state();
        state.paused = paused;
        if !paused {
            state.fixed = None;
        }
    }

    /// Shows `entry` instead of the rotation until [`Self::pause`]`(false)`.
    pub(crate) fn set(&self, entry: StatusEntry) {
        let mut state = self.state();
        state.fixed = Some(entry);
        state.paused = true;
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.state();
        Snapshot {
            statuses: self.statuses.clone(),
            index: state.index,
            paused: state.paused,
            fixed: state.fixed.clone(),
            shown: state.shown.clone(),
            interval: self.interval,
        }
    }

    /// Restarts the interval.
    pub(crate) fn restart_interval(&self) {
        self.wake.notify_one();
    }

    /// Records `shown` as what the shards show; `false` if they already did.
    fn record(&self, shown: &Shown) -> bool {
        let mut state = self.state();
        if state.shown.as_ref() == Some(shown) {
            return false;
        }
        state.shown = Some(shown.clone());
        true
    }
}

/// The figures the placeholders stand for, now.
fn counts(bot: &Bot) -> Counts {
    let mut counts = Counts {
        guilds: bot.stats().guilds,
        users: 0,
        commands: bot.command_specs().len(),
        prefix: bot.options.prefix.clone(),
    };
    if let Some(cache) = bot.cache.get() {
        let guilds = cache.guilds();
        counts.guilds = guilds.len() as u64;
        counts.users = guilds
            .iter()
            .filter_map(|id| cache.guild(*id).map(|g| g.member_count))
            .sum();
    }
    counts
}

/// Gives a shard that just became READY the current status.
pub(crate) fn on_ready(bot: &Bot, ctx: &serenity::client::Context) {
    let shown = render(&bot.presence.current(), &counts(bot));
    if bot.presence.record(&shown) {
        log_change(bot, &shown);
    }
    ctx.set_presence(Some(shown.activity()), shown.online_status());
}

/// Renders the current status and, if it differs from what the shards show (or `force`),
/// sends it to every shard. Returns what is shown.
pub(crate) async fn apply(bot: &Bot, force: bool) -> Shown {
    let shown = render(&bot.presence.current(), &counts(bot));
    if bot.presence.record(&shown) || force {
        log_change(bot, &shown);
        if let Some(shards) = bot.shards.get() {
            let runners = shards.runners.lock().await;
            for runner in runners.values() {
                runner
                    .runner_tx
                    .set_presence(Some(shown.activity()), shown.online_status());
            }
        }
    }
    shown
}

fn log_change(bot: &Bot, shown: &Shown) {
    if bot.presence.log {
        tracing::info!(status = %shown.describe(), presence = %shown.presence, "status changed");
    } else {
        tracing::debug!(status = %shown.describe(), presence = %shown.presence, "status changed");
    }
}

/// Advances the rotation and refreshes the placeholders every interval, from the first READY
/// until the bot stops.
pub(crate) async fn run(bot: Arc<Bot>) {
    bot.state.wait_ready().await;
    loop {
        apply(&bot, false).await;
        tokio::select! {
            () = tokio::time::sleep(bot.presence.interval) => {
                if !bot.presence.state().paused {
                    bot.presence.advance();
                }
            }
            () = bot.presence.wake.notified() => {}
            () = bot.state.wait_stopped() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, text: &str) -> StatusEntry {
        StatusEntry {
            kind: kind.into(),
            text: text.into(),
            ..StatusEntry::default()
        }
    }

    #[test]
    fn placeholders_are_filled_in_and_the_text_cut_to_discords_limit() {
        let counts = Counts {
            guilds: 3,
            users: 42,
            commands: 17,
            prefix: "?".into(),
        };
        let shown = render(
            &entry(
                "watching",
                "{guilds} servers | {users} users | {commands} commands | {prefix}help",
            ),
            &counts,
        );
        assert_eq!(
            shown.describe(),
            "Watching 3 servers | 42 users | 17 commands | ?help"
        );
        let long = render(&entry("custom", &"{users}".repeat(40)), &counts);
        assert_eq!(long.text.chars().count(), 80);
        let longer = render(&entry("playing", &"{guilds}{users}".repeat(50)), &counts);
        assert_eq!(longer.text.chars().count(), 128);
    }

    #[test]
    fn each_type_becomes_its_discord_activity() {
        let counts = Counts::default();
        let streaming = StatusEntry {
            url: Some("https://twitch.tv/zoryx".into()),
            ..entry("streaming", "live")
        };
        let activity = render(&streaming, &counts).activity();
        assert_eq!(
            activity.kind,
            serenity::model::gateway::ActivityType::Streaming
        );
        assert_eq!(
            activity.url.map(|u| u.to_string()).as_deref(),
            Some("https://twitch.tv/zoryx")
        );
        let custom = render(&entry("custom", "hello"), &counts).activity();
        assert_eq!(custom.kind, serenity::model::gateway::ActivityType::Custom);
        assert_eq!(custom.state.as_deref(), Some("hello"));
        let dnd = render(
            &StatusEntry {
                presence: "dnd".into(),
                ..entry("listening", "x")
            },
            &counts,
        );
        assert_eq!(dnd.online_status(), OnlineStatus::DoNotDisturb);
        assert_eq!(dnd.describe(), "Listening to x");
    }

    #[test]
    fn the_rotation_advances_pauses_and_takes_a_set_status_until_resumed() {
        let rotator = Rotator::new(&StatusConfig {
            statuses: vec![entry("watching", "a"), entry("playing", "b")],
            ..StatusConfig::default()
        });
        assert_eq!(rotator.current().text, "a");
        rotator.advance();
        assert_eq!(rotator.current().text, "b");
        rotator.advance();
        assert_eq!(rotator.current().text, "a");
        rotator.set(entry("custom", "maintenance"));
        assert_eq!(rotator.current().text, "maintenance");
        assert!(rotator.snapshot().paused);
        rotator.pause(false);
        assert_eq!(rotator.current().text, "a");
        assert!(rotator.record(&render(&rotator.current(), &Counts::default())));
        assert!(!rotator.record(&render(&rotator.current(), &Counts::default())));
    }
}
