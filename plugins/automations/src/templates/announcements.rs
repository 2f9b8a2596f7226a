//! Scheduled announcements: a message posted on a cron schedule. The task scheduler runs it
//! (`Host::schedule`, task `automation-<id>`), so it shows in `/schedule list` and survives
//! restarts; turning the automation off or deleting it removes the task.

use zoryx_plugin_api::schedule::{Missed, ScheduledTask, TaskAction};
use zoryx_plugin_api::{EventKind, PluginResult};

use super::Run;
use crate::settings::{Key, Kind, Settings};

pub(crate) const KEYS: &[Key] = &[
    Key::required(
        "cron",
        Kind::Cron,
        "when, as minute hour day month weekday: 0 9 * * 1",
    ),
    Key::required("channel", Kind::Channel, "where the announcement goes"),
    Key::required("message", Kind::Text, "what it says"),
    Key::optional(
        "skip_missed",
        Kind::Flag,
        "skip runs missed while the bot was down (no)",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[];

/// The scheduler's name for the task of this automation.
pub(crate) fn task_name(run: &Run<'_>) -> String {
    format!("automation-{}", run.automation.id)
}

pub(crate) async fn started(run: &Run<'_>) -> PluginResult<(Option<String>, Option<Settings>)> {
    let settings = &run.automation.settings;
    let (Some(cron), Some(channel), Some(content)) = (
        settings.text("cron"),
        settings.channel("channel"),
        settings.text("message"),
    ) else {
        return Ok((None, None));
    };
    let task = ScheduledTask {
        guild: run.guild.id(),
        name: task_name(run),
        cron: cron.clone(),
        zone: settings.text("timezone"),
        action: TaskAction::Message { channel, content },
        max_runs: None,
        missed: if settings.flag("skip_missed", false) {
            Missed::Skip
        } else {
            Missed::RunOnce
        },
    };
    run.host.schedule(&task).await?;
    Ok((
        Some(format!(
            "Scheduled as task `{}` (`{cron}`); `/schedule info` shows its next run.",
            task_name(run)
        )),
        None,
    ))
}

pub(crate) async fn stopped(run: &Run<'_>) -> PluginResult {
    run.host.unschedule(run.guild.id(), &task_name(run)).await
}
