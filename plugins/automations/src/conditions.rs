//! The condition engine every template shares: where (channels), who (roles, users), what
//! (message content: words or a pattern) and when (hours and days, in a time zone). Built once
//! when an automation is loaded; an event passes or is told why not.

use chrono::{Datelike, TimeZone, Timelike};
use regex::Regex;
use zoryx_plugin_api::{ChannelId, RoleId, UserId};

use crate::settings::Settings;

/// What an event offers to the conditions; `None` for what it does not have (a member join has
/// no channel, a voice move no content).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Facts<'a> {
    pub(crate) channel: Option<ChannelId>,
    /// The channel's category, so a condition on a category covers its channels.
    pub(crate) category: Option<ChannelId>,
    pub(crate) user: Option<UserId>,
    pub(crate) roles: &'a [RoleId],
    pub(crate) content: Option<&'a str>,
    /// Seconds since the epoch.
    pub(crate) now: u64,
}

/// An automation's conditions.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    only_channels: Vec<ChannelId>,
    except_channels: Vec<ChannelId>,
    only_roles: Vec<RoleId>,
    except_roles: Vec<RoleId>,
    only_users: Vec<UserId>,
    contains: Vec<String>,
    matches: Option<Regex>,
    hours: Option<(u32, u32)>,
    days: Vec<u32>,
    zone: chrono_tz::Tz,
}

impl Conditions {
    /// The conditions of checked settings (see [`crate::settings::check`]).
    pub(crate) fn of(settings: &Settings) -> Self {
        Self {
            only_channels: settings.channels("only_channels"),
            except_channels: settings.channels("except_channels"),
            only_roles: settings.roles("only_roles"),
            except_roles: settings.roles("except_roles"),
            only_users: settings.users("only_users"),
            contains: settings
                .list("contains")
                .into_iter()
                .map(|w| w.to_lowercase())
                .collect(),
            matches: settings.get("matches").and_then(|p| {
                regex::RegexBuilder::new(p)
                    .size_limit(1 << 20)
                    .case_insensitive(true)
                    .build()
                    .ok()
            }),
            hours: settings.hours("hours"),
            days: settings.days("days"),
            zone: settings
                .get("timezone")
                .and_then(|z| z.parse().ok())
                .unwrap_or(chrono_tz::UTC),
        }
    }

    /// Whether the event passes; the first condition it fails, in words.
    pub(crate) fn check(&self, facts: &Facts<'_>) -> Result<(), &'static str> {
        let in_list = |list: &[ChannelId]| {
            facts.channel.is_some_and(|c| {
                list.contains(&c) || facts.category.is_some_and(|p| list.contains(&p))
            })
        };
        if !self.only_channels.is_empty() && !in_list(&self.only_channels) {
            return Err("not in one of its channels");
        }
        if in_list(&self.except_channels) {
            return Err("in a channel it skips");
        }
        if !self.only_roles.is_empty() && !facts.roles.iter().any(|r| self.only_roles.contains(r)) {
            return Err("the member has none of its roles");
        }
        if facts.roles.iter().any(|r| self.except_roles.contains(r)) {
            return Err("the member has a role it skips");
        }
        if !self.only_users.is_empty() && !facts.user.is_some_and(|u| self.only_users.contains(&u))
        {
            return Err("not one of its users");
        }
        if !self.contains.is_empty() {
            let text = facts.content.unwrap_or_default().to_lowercase();
            if !self.contains.iter().any(|w| text.contains(w.as_str())) {
                return Err("the message has none of its words");
            }
        }
        if let Some(pattern) = &self.matches
            && !pattern.is_match(facts.content.unwrap_or_default())
        {
            return Err("the message does not match its pattern");
        }
        if self.hours.is_some() || !self.days.is_empty() {
            let secs = i64::try_from(facts.now).unwrap_or(0);
            let Some(local) = self.zone.timestamp_opt(secs, 0).single() else {
                return Err("at a moment the time zone cannot name");
            };
            if !self.days.is_empty() && !self.days.contains(&local.weekday().num_days_from_monday())
            {
                return Err("not on one of its days");
            }
            if let Some((start, end)) = self.hours {
                let hour = local.hour();
                let inside = if start < end {
                    hour >= start && hour < end
                } else {
                    hour >= start || hour < end
                };
                if !inside {
                    return Err("outside its hours");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditions(text: &str) -> Conditions {
        Conditions::of(&Settings::parse(text).expect("parse"))
    }

    #[test]
    fn each_condition_passes_and_refuses() {
        let roles = [RoleId(7)];
        let facts = Facts {
            channel: Some(ChannelId(1)),
            category: Some(ChannelId(50)),
            user: Some(UserId(3)),
            roles: &roles,
            content: Some("Buy CHEAP stuff"),
            // 2026-11-30 (a Monday) 10:00 UTC.
            now: 1_795_996_800 + 10 * 3600,
        };
        assert_eq!(conditions("only_channels=1").check(&facts), Ok(()));
        assert_eq!(conditions("only_channels=50").check(&facts), Ok(()));
        assert!(conditions("only_channels=2").check(&facts).is_err());
        assert!(conditions("except_channels=50").check(&facts).is_err());
        assert_eq!(conditions("only_roles=7,8").check(&facts), Ok(()));
        assert!(conditions("except_roles=7").check(&facts).is_err());
        assert!(conditions("only_users=4").check(&facts).is_err());
        assert_eq!(conditions("contains=cheap").check(&facts), Ok(()));
        assert!(conditions("contains=free").check(&facts).is_err());
        assert_eq!(conditions("matches=ch[e]+ap").check(&facts), Ok(()));
        assert_eq!(conditions("hours=9-17 days=mon-fri").check(&facts), Ok(()));
        assert!(conditions("hours=22-6").check(&facts).is_err());
        assert!(conditions("days=sat,sun").check(&facts).is_err());
        // 10:00 UTC is 19:00 in Tokyo.
        assert!(
            conditions("hours=9-17 timezone=Asia/Tokyo")
                .check(&facts)
                .is_err()
        );
        assert_eq!(
            conditions("hours=18-20 timezone=Asia/Tokyo").check(&facts),
            Ok(())
        );
    }
}
