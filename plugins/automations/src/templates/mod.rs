//! The ten templates: what each takes (its keys), which events it listens to, and what it does.
//! Each lives in its own module with `KEYS`, `EVENTS` and `handle` (and `created`/`deleted`
//! when it sets something up in the guild: a panel, reactions, a scheduled task).

pub(crate) mod announcements;
pub(crate) mod bridge;
pub(crate) mod dynamic_voice;
pub(crate) mod filter;
pub(crate) mod goodbye;
pub(crate) mod leveling;
pub(crate) mod reaction_roles;
pub(crate) mod tickets;
pub(crate) mod voice_tracker;
pub(crate) mod welcome;

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::{Event, EventKind, GuildHandle, Host, PluginResult};

use crate::settings::Key;
use crate::store::Automation;

/// A template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Template {
    Welcome,
    Goodbye,
    ReactionRoles,
    Filter,
    Leveling,
    Announcements,
    Tickets,
    VoiceTracker,
    Bridge,
    DynamicVoice,
}

/// One run of an automation on an event.
pub(crate) struct Run<'a> {
    pub(crate) host: &'a Host,
    pub(crate) automation: &'a Automation,
    pub(crate) guild: GuildHandle,
    /// Seconds since the epoch (the host's clock).
    pub(crate) now: u64,
}

impl Template {
    pub(crate) const ALL: [Self; 10] = [
        Self::Welcome,
        Self::Goodbye,
        Self::ReactionRoles,
        Self::Filter,
        Self::Leveling,
        Self::Announcements,
        Self::Tickets,
        Self::VoiceTracker,
        Self::Bridge,
        Self::DynamicVoice,
    ];

    /// Its name in commands and storage.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::Goodbye => "goodbye",
            Self::ReactionRoles => "reaction_roles",
            Self::Filter => "filter",
            Self::Leveling => "leveling",
            Self::Announcements => "announcements",
            Self::Tickets => "tickets",
            Self::VoiceTracker => "voice_tracker",
            Self::Bridge => "bridge",
            Self::DynamicVoice => "dynamic_voice",
        }
    }

    pub(crate) fn named(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Its title in lists.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Welcome => "Welcome",
            Self::Goodbye => "Goodbye",
            Self::ReactionRoles => "Reaction roles",
            Self::Filter => "Message filter",
            Self::Leveling => "XP leveling",
            Self::Announcements => "Scheduled announcements",
            Self::Tickets => "Tickets",
            Self::VoiceTracker => "Voice activity",
            Self::Bridge => "Webhook bridge",
            Self::DynamicVoice => "Dynamic voice channels",
        }
    }

    /// What it does, in a sentence.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::Welcome => {
                "Greets new members in a channel (an embed with placeholders), gives them a role, \
                 and can DM them"
            }
            Self::Goodbye => "Says goodbye in a channel when a member leaves",
            Self::ReactionRoles => {
                "Members react on a message to get a role and unreact to lose it (unique mode: \
                 one role of the set at a time)"
            }
            Self::Filter => {
                "Auto-mod: blocked words, patterns, invite links, caps, mention spam; deletes, \
                 warns or times out"
            }
            Self::Leveling => {
                "XP per message with a cooldown, levels, a level-up message, role rewards, \
                 `rank` and `leaderboard`"
            }
            Self::Announcements => {
                "Posts a message on a cron schedule (through the task scheduler)"
            }
            Self::Tickets => {
                "A button opens a private channel for the member and staff; closing it posts a \
                 transcript"
            }
            Self::VoiceTracker => "Counts each member's time in voice; `voicetop` ranks them",
            Self::Bridge => "Relays a channel's messages to a webhook URL, filtered",
            Self::DynamicVoice => {
                "Joining a hub voice channel creates a personal channel, deleted when it empties"
            }
        }
    }

    /// The keys it takes (the common condition keys come on top).
    pub(crate) fn keys(self) -> &'static [Key] {
        match self {
            Self::Welcome => welcome::KEYS,
            Self::Goodbye => goodbye::KEYS,
            Self::ReactionRoles => reaction_roles::KEYS,
            Self::Filter => filter::KEYS,
            Self::Leveling => leveling::KEYS,
            Self::Announcements => announcements::KEYS,
            Self::Tickets => tickets::KEYS,
            Self::VoiceTracker => voice_tracker::KEYS,
            Self::Bridge => bridge::KEYS,
            Self::DynamicVoice => dynamic_voice::KEYS,
        }
    }

    /// Whether it takes a `cooldown`: the voice templates keep books of every voice change
    /// (time in voice, who is in a room), which a cooldown would lose.
    pub(crate) fn takes_cooldown(self) -> bool {
        !matches!(self, Self::VoiceTracker | Self::DynamicVoice)
    }

    /// The events it acts on.
    pub(crate) fn events(self) -> &'static [EventKind] {
        match self {
            Self::Welcome => welcome::EVENTS,
            Self::Goodbye => goodbye::EVENTS,
            Self::ReactionRoles => reaction_roles::EVENTS,
            Self::Filter => filter::EVENTS,
            Self::Leveling => leveling::EVENTS,
            Self::Announcements => announcements::EVENTS,
            Self::Tickets => tickets::EVENTS,
            Self::VoiceTracker => voice_tracker::EVENTS,
            Self::Bridge => bridge::EVENTS,
            Self::DynamicVoice => dynamic_voice::EVENTS,
        }
    }

    /// Acts on `event`; `Ok(true)` when it did something (a run to count).
    pub(crate) async fn handle(self, run: &Run<'_>, event: &Event) -> PluginResult<bool> {
        match self {
            Self::Welcome => welcome::handle(run, event).await,
            Self::Goodbye => goodbye::handle(run, event).await,
            Self::ReactionRoles => reaction_roles::handle(run, event).await,
            Self::Filter => filter::handle(run, event).await,
            Self::Leveling => leveling::handle(run, event).await,
            Self::Announcements => Ok(false),
            Self::Tickets => Ok(false),
            Self::VoiceTracker => voice_tracker::handle(run, event).await,
            Self::Bridge => bridge::handle(run, event).await,
            Self::DynamicVoice => dynamic_voice::handle(run, event).await,
        }
    }

    /// Sets up what it needs in the guild once created or turned on (a panel, reactions, a
    /// scheduled task); may fill settings in (the id of a message it posted). Returns a line
    /// for the creator, if any.
    pub(crate) async fn started(
        self,
        run: &Run<'_>,
    ) -> PluginResult<(Option<String>, Option<crate::settings::Settings>)> {
        match self {
            Self::ReactionRoles => reaction_roles::started(run).await,
            Self::Announcements => announcements::started(run).await,
            Self::Tickets => tickets::started(run).await,
            _ => Ok((None, None)),
        }
    }

    /// Undoes what `started` set up that would go on by itself (a scheduled task) when the
    /// automation is deleted or turned off.
    pub(crate) async fn stopped(self, run: &Run<'_>) -> PluginResult {
        match self {
            Self::Announcements => announcements::stopped(run).await,
            Self::DynamicVoice => dynamic_voice::stopped(run).await,
            _ => Ok(()),
        }
    }
}

/// Replaces `{user}`, `{mention}`, `{id}`, `{server}` and `{count}` in `text`.
pub(crate) fn fill(
    text: &str,
    user: &zoryx_plugin_api::User,
    server: &str,
    count: Option<u64>,
) -> String {
    text.replace("{user}", &user.name)
        .replace("{mention}", &format!("<@{}>", user.id.0))
        .replace("{id}", &user.id.0.to_string())
        .replace("{server}", server)
        .replace(
            "{count}",
            &count.map_or_else(|| "?".to_owned(), |c| c.to_string()),
        )
}
