//! Cron schedules (plugin-api 1.3): [`Cron`] for [`Registrar::cron`](crate::Registrar::cron)
//! and for the tasks of the task scheduler, and [`ScheduledTask`], how a plugin asks the
//! scheduler (the first-party `scheduler` plugin) to run something on a schedule.
//!
//! A cron expression has the five fields of cron — minute, hour, day of month, month, day of
//! week. Each field takes `*`, a number, a range `a-b`, a list `a,b,c`, a step `*/n` or `a-b/n`;
//! months and days of the week also take names (`jan`, `mon`); Sunday is 0 or 7; `L` (the last
//! day of the month) and `mon#2` (the second Monday) work too, as do `@hourly`, `@daily`,
//! `@weekly`, `@monthly` and `@yearly`. As in classic cron, when both the day of month and the
//! day of week are restricted, a day matching either runs. Times are UTC unless a time zone
//! (an IANA name such as `Europe/Berlin`) is given; across a daylight saving change, a time that
//! does not exist that day runs at the first moment after the gap and a repeated time runs once.
//! Parsing and the search for the next run are the `croner` crate's.
//!
//! ```
//! use zoryx_plugin_api::Cron;
//!
//! let weekdays_at_nine = Cron::parse("0 9 * * mon-fri").unwrap();
//! // 2026-11-30 is a Monday; 08:00 UTC → 09:00 UTC the same day.
//! let monday_8am = 1_795_996_800 + 8 * 3600;
//! assert_eq!(weekdays_at_nine.next_after(monday_8am), Some(monday_8am + 3600));
//! // 09:00 in Berlin is 08:00 UTC in winter.
//! let berlin = Cron::parse_in("0 9 * * mon-fri", "Europe/Berlin").unwrap();
//! assert_eq!(berlin.next_after(monday_8am - 3600), Some(monday_8am));
//! assert!(Cron::parse("61 * * * *").expect_err("refused").contains("minute"));
//! assert!(Cron::parse_in("0 9 * * *", "Mars/Olympus").is_err());
//! ```

use std::fmt;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

use crate::error::{PluginError, PluginResult};
use crate::model::{ChannelId, GuildId};
use crate::typed::HookPayload;

/// A parsed cron expression, in UTC or in a named time zone.
#[derive(Clone)]
pub struct Cron {
    text: String,
    zone: Option<Tz>,
    inner: croner::Cron,
}

impl PartialEq for Cron {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.zone == other.zone
    }
}

impl Eq for Cron {}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.zone {
            Some(zone) => write!(f, "Cron({:?} in {})", self.text, zone.name()),
            None => write!(f, "Cron({:?})", self.text),
        }
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The names of the five fields, in order.
const FIELDS: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];
/// Their ranges (Sunday is 0 or 7).
const RANGES: [(u8, u8); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];

/// Five fields only: no seconds, no years.
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

/// Which field of `fields` the parser refuses on its own, to name it in the error.
fn culprit(fields: &[&str]) -> Option<usize> {
    (0..fields.len()).find(|&i| {
        let mut probe = ["*"; 5];
        probe[i] = fields[i];
        parser().parse(&probe.join(" ")).is_err()
    })
}

/// Seconds since the epoch → the zone's date and time, and back.
fn seconds<T: TimeZone>(when: &chrono::DateTime<T>) -> Option<u64> {
    u64::try_from(when.timestamp()).ok()
}

impl Cron {
    /// Parses five fields, in UTC; the error names the field that is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let nickname = fields.len() == 1 && fields[0].starts_with('@');
        if fields.len() != 5 && !nickname {
            return Err(format!(
                "`{text}` has {} fields; cron takes 5 (minute hour day-of-month month day-of-week)",
                fields.len()
            ));
        }
        let joined = fields.join(" ");
        let inner = parser().parse(&joined).map_err(|error| {
            let error = error.to_string();
            let detail = error.split_once(": ").map_or(error.as_str(), |(_, d)| d);
            match culprit(&fields) {
                Some(i) if detail.contains("out of bounds") => {
                    let (low, high) = RANGES[i];
                    format!("{}: `{}` is outside {low}-{high}", FIELDS[i], fields[i])
                }
                Some(i) => format!("{}: `{}`: {detail}", FIELDS[i], fields[i]),
                None => format!("`{joined}`: {detail}"),
            }
        })?;
        Ok(Self {
            text: joined,
            zone: None,
            inner,
        })
    }

    /// Parses five fields read in the time zone `zone`, an IANA name (`Europe/Berlin`,
    /// `America/New_York`; `UTC` is UTC).
    pub fn parse_in(text: &str, zone: &str) -> Result<Self, String> {
        let mut cron = Self::parse(text)?;
        let tz = zone_named(zone)?;
        cron.zone = (tz != Tz::UTC).then_some(tz);
        Ok(cron)
    }

    /// The time zone's IANA name; `UTC` when none was given.
    pub fn zone(&self) -> &'static str {
        self.zone.map_or("UTC", |z| z.name())
    }

    /// The first moment strictly after `unix_secs` (seconds since the epoch) that the schedule
    /// names, on a whole minute; `None` if there is none (such as `0 0 31 2 *`).
    pub fn next_after(&self, unix_secs: u64) -> Option<u64> {
        let start = Utc
            .timestamp_opt(i64::try_from(unix_secs).ok()?, 0)
            .single()?;
        match self.zone {
            None => seconds(&self.inner.find_next_occurrence(&start, false).ok()?),
            Some(zone) => seconds(
                &self
                    .inner
                    .find_next_occurrence(&start.with_timezone(&zone), false)
                    .ok()?,
            ),
        }
    }

    /// The schedule in words: "every 5 minutes", "daily at 09:00", "every Monday at 09:00",
    /// or the parser's longer description for the rest; the time zone is named unless UTC.
    pub fn describe(&self) -> String {
        let fields: Vec<&str> = self.text.split(' ').collect();
        let plain = |f: &str| f.chars().all(|c| c.is_ascii_digit());
        let at = |hour: &str, minute: &str| format!("{hour:0>2}:{minute:0>2}");
        let words = match fields.as_slice() {
            ["*", "*", "*", "*", "*"] => "every minute".to_owned(),
            [m, "*", "*", "*", "*"] if m.starts_with("*/") => format!("every {} minutes", &m[2..]),
            [m, h, "*", "*", "*"] if plain(m) && h.starts_with("*/") => {
                format!("every {} hours at minute {m}", &h[2..])
            }
            [m, "*", "*", "*", "*"] if plain(m) => format!("every hour at minute {m}"),
            [m, h, "*", "*", "*"] if plain(m) && plain(h) => format!("daily at {}", at(h, m)),
            [m, h, "*", "*", w] if plain(m) && plain(h) && w.len() <= 3 => {
                let day = match w.to_ascii_lowercase().as_str() {
                    "0" | "7" | "sun" => "Sunday",
                    "1" | "mon" => "Monday",
                    "2" | "tue" => "Tuesday",
                    "3" | "wed" => "Wednesday",
                    "4" | "thu" => "Thursday",
                    "5" | "fri" => "Friday",
                    "6" | "sat" => "Saturday",
                    _ => "",
                };
                if day.is_empty() {
                    self.inner.describe()
                } else {
                    format!("every {day} at {}", at(h, m))
                }
            }
            _ => self.inner.describe(),
        };
        match self.zone {
            Some(zone) => format!("{words} ({})", zone.name()),
            None => words,
        }
    }
}

/// A time zone by its IANA name, or why not.
fn zone_named(zone: &str) -> Result<Tz, String> {
    zone.trim().parse::<Tz>().map_err(|_| {
        format!("`{zone}` is not a time zone; use an IANA name such as `Europe/Berlin`")
    })
}

/// Every time zone name the scheduler knows, for autocomplete: `Africa/Abidjan` … `Zulu`.
pub fn time_zones() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())
}

/// What a scheduled task does when it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TaskAction {
    /// Send `content` to `channel` (a channel of the task's guild).
    Message {
        /// Where.
        channel: ChannelId,
        /// What (at most 2,000 characters).
        content: String,
    },
    /// Emit the hook `event` with `payload` (a JSON object; the scheduler adds `task` and
    /// `guild_id`), for the hooks of every plugin (not the scheduler's own two events).
    Hook {
        /// The event name.
        event: String,
        /// Its parameters.
        #[serde(default)]
        payload: serde_json::Value,
    },
    /// Write `message` to the bot's log at `level` (`info`, `warn` or `error`).
    Log {
        /// The line.
        message: String,
        /// `info`, `warn` or `error`.
        #[serde(default = "info")]
        level: String,
    },
}

fn info() -> String {
    "info".to_owned()
}

impl TaskAction {
    /// `message`, `hook` or `log`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Message { .. } => "message",
            Self::Hook { .. } => "hook",
            Self::Log { .. } => "log",
        }
    }
}

/// What the scheduler does about runs that were due while the bot was down (or the scheduler
/// unloaded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Run once as soon as the bot is back, however many runs were missed (the default).
    #[default]
    RunOnce,
    /// Skip them; the task runs next at its next scheduled time.
    Skip,
}

/// A task for the scheduler, as a plugin asks for it: emitted as the hook `schedule_create`
/// ([`Host::schedule`](crate::Host::schedule)). A task is known by its guild and name; asking
/// again with the same name replaces it (its run count kept), so a plugin may ask at every
/// start.
///
/// ```
/// use zoryx_plugin_api::schedule::{ScheduledTask, TaskAction};
/// use zoryx_plugin_api::GuildId;
///
/// let task = ScheduledTask::new(
///     GuildId(1),
///     "daily-report",
///     "0 9 * * *",
///     TaskAction::Hook { event: "daily_report".into(), payload: serde_json::json!({}) },
/// )
/// .zone("Europe/Berlin");
/// assert!(task.check().is_ok());
/// assert!(task.clone().zone("Nowhere/City").check().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduledTask {
    /// The guild the task belongs to (it is stored in that guild's database).
    pub guild: GuildId,
    /// Its name, unique in the guild: 1 to 64 characters.
    pub name: String,
    /// The cron expression.
    pub cron: String,
    /// The time zone the expression is read in (`None`: UTC).
    #[serde(default)]
    pub zone: Option<String>,
    /// What it does.
    pub action: TaskAction,
    /// Stop (disable the task) after this many runs; `None`: no limit.
    #[serde(default)]
    pub max_runs: Option<u32>,
    /// What to do about runs missed while the bot was down.
    #[serde(default)]
    pub missed: Missed,
}

impl crate::typed::HookPayload for ScheduledTask {
    const EVENT: &'static str = "schedule_create";
}

/// Asks the scheduler to delete a task by guild and name: the hook `schedule_delete`
/// ([`Host::unschedule`](crate::Host::unschedule)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnscheduleTask {
    /// The task's guild.
    pub guild: GuildId,
    /// Its name.
    pub name: String,
}

impl crate::typed::HookPayload for UnscheduleTask {
    const EVENT: &'static str = "schedule_delete";
}

/// The longest task name.
pub const TASK_NAME: usize = 64;

impl ScheduledTask {
    /// A task in UTC, without a run limit, that runs once after missed runs.
    pub fn new(
        guild: GuildId,
        name: impl Into<String>,
        cron: impl Into<String>,
        action: TaskAction,
    ) -> Self {
        Self {
            guild,
            name: name.into(),
            cron: cron.into(),
            zone: None,
            action,
            max_runs: None,
            missed: Missed::RunOnce,
        }
    }

    /// Reads the expression in `zone` (an IANA name).
    #[must_use]
    pub fn zone(mut self, zone: impl Into<String>) -> Self {
        self.zone = Some(zone.into());
        self
    }

    /// Stops after `runs` runs.
    #[must_use]
    pub fn max_runs(mut self, runs: u32) -> Self {
        self.max_runs = Some(runs);
        self
    }

    /// What to do about missed runs.
    #[must_use]
    pub fn missed(mut self, missed: Missed) -> Self {
        self.missed = missed;
        self
    }

    /// The schedule parsed in the task's zone.
    pub fn schedule(&self) -> Result<Cron, String> {
        match &self.zone {
            Some(zone) => Cron::parse_in(&self.cron, zone),
            None => Cron::parse(&self.cron),
        }
    }

    /// Whether the scheduler would take this task: a name of 1 to 64 characters, an expression
    /// that parses and runs at least once within a year, a known time zone, a message of 1 to
    /// 2,000 characters, a hook name, a log level of `info`, `warn` or `error`, a run limit
    /// above 0.
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > TASK_NAME {
            return Err(format!("a task name has 1 to {TASK_NAME} characters"));
        }
        let cron = self.schedule()?;
        if cron.next_after(now_guess()).is_none() {
            return Err(format!("`{}` never runs", self.cron));
        }
        if self.max_runs == Some(0) {
            return Err("the run limit must be at least 1".to_owned());
        }
        match &self.action {
            TaskAction::Message { content, .. } => {
                let n = content.chars().count();
                if n == 0 || n > crate::limits::CONTENT {
                    return Err(format!(
                        "a message has 1 to {} characters",
                        crate::limits::CONTENT
                    ));
                }
            }
            TaskAction::Hook { event, payload } => {
                if event.trim().is_empty() {
                    return Err("a hook task needs an event name".to_owned());
                }
                if [ScheduledTask::EVENT, UnscheduleTask::EVENT].contains(&event.as_str()) {
                    return Err(format!("a task cannot emit `{event}`"));
                }
                if !(payload.is_object() || payload.is_null()) {
                    return Err("a hook task's payload is a JSON object".to_owned());
                }
            }
            TaskAction::Log { message, level } => {
                if message.trim().is_empty() {
                    return Err("a log task needs a message".to_owned());
                }
                if !matches!(level.as_str(), "info" | "warn" | "error") {
                    return Err(format!("`{level}` is not a log level (info, warn, error)"));
                }
            }
        }
        Ok(())
    }
}

/// The wall clock, to tell whether a schedule still runs.
fn now_guess() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl crate::context::Host {
    /// Asks the task scheduler to run `task` on its schedule (the `scheduler` plugin must be
    /// loaded); replaces the guild's task of the same name. Checked here first
    /// ([`ScheduledTask::check`]), so a mistake is this call's error.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::schedule::{ScheduledTask, TaskAction};
    /// use zoryx_plugin_api::{ChannelId, GuildId};
    /// let reminder = TaskAction::Message {
    ///     channel: ChannelId(2),
    ///     content: "Stand-up in 5 minutes".into(),
    /// };
    /// host.schedule(&ScheduledTask::new(GuildId(1), "standup", "55 8 * * mon-fri", reminder))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn schedule(&self, task: &ScheduledTask) -> PluginResult {
        task.check().map_err(PluginError::User)?;
        match self.emit_payload(task).await? {
            0 => Err(no_scheduler()),
            _ => Ok(()),
        }
    }

    /// Asks the task scheduler to delete the guild's task `name`.
    pub async fn unschedule(&self, guild: GuildId, name: &str) -> PluginResult {
        let request = UnscheduleTask {
            guild,
            name: name.to_owned(),
        };
        match self.emit_payload(&request).await? {
            0 => Err(no_scheduler()),
            _ => Ok(()),
        }
    }
}

fn no_scheduler() -> PluginError {
    PluginError::NotAvailable(
        "the task scheduler (is the `scheduler` plugin loaded, and event hooks on?)".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 00:00 UTC, a Monday.
    const MONDAY: u64 = 1_795_996_800;

    #[test]
    fn fields_parse_with_ranges_lists_steps_and_names() {
        let every_15 = Cron::parse("*/15 * * * *").expect("parse");
        assert_eq!(every_15.next_after(MONDAY), Some(MONDAY + 15 * 60));
        assert_eq!(
            every_15.next_after(MONDAY + 14 * 60 + 59),
            Some(MONDAY + 15 * 60)
        );
        let sundays = Cron::parse("30 6 * * 7").expect("parse");
        assert_eq!(
            sundays.next_after(MONDAY),
            Some(MONDAY + 6 * 86_400 + 6 * 3600 + 1800)
        );
        let first_of_month = Cron::parse("0 0 1 jan,dec *").expect("parse");
        assert_eq!(first_of_month.next_after(MONDAY), Some(MONDAY + 86_400));
        assert_eq!(
            Cron::parse("0 0 31 2 *").expect("parse").next_after(MONDAY),
            None
        );
    }

    #[test]
    fn day_of_month_or_weekday_when_both_are_given() {
        // The 15th, or any Friday: Friday 2026-12-04 comes first.
        let either = Cron::parse("0 12 15 * fri").expect("parse");
        assert_eq!(
            either.next_after(MONDAY),
            Some(MONDAY + 4 * 86_400 + 12 * 3600)
        );
    }

    #[test]
    fn mistakes_name_their_field() {
        assert!(
            Cron::parse("* * *")
                .expect_err("refused")
                .contains("has 3 fields")
        );
        assert!(
            Cron::parse("* 24 * * *")
                .expect_err("refused")
                .contains("hour: `24` is outside 0-23")
        );
        assert!(
            Cron::parse("* * * foo *")
                .expect_err("refused")
                .contains("month: `foo`")
        );
        assert!(
            Cron::parse("*/0 * * * *")
                .expect_err("refused")
                .contains("minute")
        );
        assert!(
            Cron::parse("5-1 * * * *")
                .expect_err("refused")
                .contains("minute: `5-1`")
        );
    }

    #[test]
    fn zones_follow_daylight_saving() {
        // 2027-03-28: Berlin moves from UTC+1 to UTC+2 at 02:00 local time.
        let saturday = 1_806_105_600; // 2027-03-27 00:00 UTC
        let nine = Cron::parse_in("0 9 * * *", "Europe/Berlin").expect("parse");
        assert_eq!(nine.zone(), "Europe/Berlin");
        assert_eq!(nine.next_after(saturday), Some(saturday + 8 * 3600));
        assert_eq!(
            nine.next_after(saturday + 8 * 3600),
            Some(saturday + 86_400 + 7 * 3600)
        );
        // 02:30 does not exist that night: the run comes at the end of the gap, once.
        let half_two = Cron::parse_in("30 2 * * *", "Europe/Berlin").expect("parse");
        let first = half_two.next_after(saturday + 86_400).expect("runs");
        assert_eq!(first, saturday + 86_400 + 3600);
        assert_eq!(
            Cron::parse_in("0 9 * * *", "UTC").expect("utc").zone(),
            "UTC"
        );
        assert!(
            Cron::parse_in("0 9 * * *", "Berlin")
                .expect_err("refused")
                .contains("not a time zone")
        );
    }

    #[test]
    fn descriptions_read_like_the_schedule() {
        let cases = [
            ("*/5 * * * *", "every 5 minutes"),
            ("0 9 * * *", "daily at 09:00"),
            ("30 12 * * 1", "every Monday at 12:30"),
            ("15 */2 * * *", "every 2 hours at minute 15"),
            ("0 0 L * *", "At 00:00, on the last day of the month."),
        ];
        for (text, words) in cases {
            assert_eq!(
                Cron::parse(text).expect("parse").describe(),
                words,
                "{text}"
            );
        }
        assert_eq!(
            Cron::parse_in("0 9 * * *", "Asia/Tokyo")
                .expect("parse")
                .describe(),
            "daily at 09:00 (Asia/Tokyo)"
        );
    }

    #[test]
    fn tasks_are_checked_before_they_are_sent() {
        let log = |message: &str| TaskAction::Log {
            message: message.to_owned(),
            level: "info".to_owned(),
        };
        let ok = ScheduledTask::new(GuildId(1), "report", "0 9 * * *", log("hi"));
        assert!(ok.check().is_ok());
        let never = ScheduledTask::new(GuildId(1), "never", "0 0 30 2 *", log("hi"));
        assert!(never.check().expect_err("never").contains("never runs"));
        let unnamed = ScheduledTask::new(GuildId(1), " ", "0 9 * * *", log("hi"));
        assert!(unnamed.check().is_err());
        assert!(ok.clone().max_runs(0).check().is_err());
        let shout = TaskAction::Log {
            message: "hi".to_owned(),
            level: "shout".to_owned(),
        };
        let loud = ScheduledTask::new(GuildId(1), "loud", "0 9 * * *", shout);
        assert!(loud.check().expect_err("level").contains("log level"));
        let long = TaskAction::Message {
            channel: ChannelId(2),
            content: "x".repeat(2001),
        };
        assert!(
            ScheduledTask::new(GuildId(1), "long", "* * * * *", long)
                .check()
                .is_err()
        );
        // The payload a hook receives: the task as JSON, tagged by its action type.
        let json = serde_json::to_value(&ok).expect("json");
        assert_eq!(json["action"]["type"], "log");
        assert_eq!(json["missed"], "run_once");
    }
}
