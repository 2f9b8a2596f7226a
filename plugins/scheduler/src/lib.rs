//! `scheduler`: the task scheduler. `/schedule create|list|delete|toggle|info` keep cron tasks
//! in each guild's database — send a message, emit a hook, write a log line — and other plugins
//! ask for tasks through the API (`Host::schedule`, the `schedule_create` and
//! `schedule_delete` hooks). Tasks are checked every minute on the host's clock; runs missed
//! while the bot was down run once when it is back (or are skipped, per task).

mod store;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::UNIX_EPOCH;

use serde_json::json;
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::schedule::{Missed, ScheduledTask, TaskAction, UnscheduleTask, time_zones};
use zoryx_plugin_api::{AutocompleteContext, ChannelKind, Choice, Host, Permissions, palette};

use store::Task;

/// Failures in a row that disable a task.
const FAILING_LIMIT: u32 = 5;
/// Tasks per page of `/schedule list`.
const PAGE: usize = 10;
/// Tasks per guild.
const PER_GUILD: usize = 100;

/// The tasks of every guild, read from the databases on first use.
#[derive(Default)]
pub struct Scheduler {
    tasks: Mutex<Option<BTreeMap<u64, Vec<Task>>>>,
}

type Tasks = BTreeMap<u64, Vec<Task>>;

impl Scheduler {
    fn lock(&self) -> PluginResult<MutexGuard<'_, Option<Tasks>>> {
        self.tasks
            .lock()
            .map_err(|_| PluginError::internal("the task list is unavailable"))
    }

    /// Reads every guild's tasks once.
    async fn ensure_loaded(&self, host: &Host) -> PluginResult {
        if self.lock()?.is_some() {
            return Ok(());
        }
        let mut all = Tasks::new();
        for guild in store::guilds(host).await? {
            let tasks = store::load(host, guild).await?;
            if !tasks.is_empty() {
                all.insert(guild, tasks);
            }
        }
        let mut slot = self.lock()?;
        if slot.is_none() {
            *slot = Some(all);
        }
        Ok(())
    }

    /// A copy of one guild's tasks.
    async fn guild_tasks(&self, host: &Host, guild: u64) -> PluginResult<Vec<Task>> {
        self.ensure_loaded(host).await?;
        Ok(self
            .lock()?
            .as_ref()
            .and_then(|all| all.get(&guild).cloned())
            .unwrap_or_default())
    }

    /// Puts `task` in the list, replacing the one with its id.
    fn put(&self, task: Task) -> PluginResult {
        let mut slot = self.lock()?;
        let tasks = slot
            .get_or_insert_with(Tasks::new)
            .entry(task.guild())
            .or_default();
        match tasks.iter_mut().find(|t| t.id == task.id) {
            Some(old) => *old = task,
            None => tasks.push(task),
        }
        Ok(())
    }

    /// Updates the state of `task` if it is still in the list (not deleted meanwhile).
    fn update(&self, task: &Task) -> PluginResult {
        let mut slot = self.lock()?;
        if let Some(old) = slot
            .as_mut()
            .and_then(|all| all.get_mut(&task.guild()))
            .and_then(|tasks| tasks.iter_mut().find(|t| t.id == task.id))
        {
            *old = task.clone();
        }
        Ok(())
    }

    fn remove(&self, guild: u64, id: i64) -> PluginResult {
        if let Some(tasks) = self.lock()?.as_mut().and_then(|all| all.get_mut(&guild)) {
            tasks.retain(|t| t.id != id);
        }
        Ok(())
    }

    /// Every enabled task due at `now`.
    fn due(&self, now: u64) -> PluginResult<Vec<Task>> {
        Ok(self
            .lock()?
            .iter()
            .flat_map(|all| all.values().flatten())
            .filter(|t| t.enabled && t.next_run.is_some_and(|due| due <= now))
            .cloned()
            .collect())
    }

    /// Stores `spec` as a new task or the new definition of the guild's task of its name.
    async fn define(
        &self,
        host: &Host,
        spec: ScheduledTask,
        creator: Option<u64>,
    ) -> PluginResult<Task> {
        spec.check().map_err(PluginError::User)?;
        let cron = spec.schedule().map_err(PluginError::User)?;
        let now = unix_now(host);
        let existing = self.guild_tasks(host, spec.guild.0).await?;
        if existing.len() >= PER_GUILD && !existing.iter().any(|t| t.spec.name == spec.name) {
            return Err(PluginError::user(format!(
                "this server has {PER_GUILD} tasks, the most it may have; delete one first"
            )));
        }
        let task = Task {
            id: 0,
            next_run: cron.next_after(now),
            spec,
            enabled: true,
            run_count: 0,
            missed_runs: 0,
            failures: 0,
            failing: 0,
            last_error: None,
            last_run: None,
            creator,
            created_at: now,
        };
        let stored = store::upsert(host, &task).await?;
        self.put(stored.clone())?;
        Ok(stored)
    }
}

fn unix_now(host: &Host) -> u64 {
    host.now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Plugin for Scheduler {
    fn manifest() -> Manifest {
        Manifest::new("scheduler", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Cron tasks per server: messages, hooks and log lines on a schedule")
    }

    fn register(plugin: &mut Registrar<Self>) {
        let task_arg = || {
            Arg::text("task")
                .description("The task's name or number")
                .autocomplete()
        };
        plugin
            .command(
                CommandSpec::new("schedule")
                    .description("Scheduled tasks of this server (bot or server owner)")
                    .category("Scheduler")
                    .default_permissions(Permissions::MANAGE_GUILD)
                    .dm(false)
                    .subcommand(
                        CommandSpec::new("create")
                            .description("Create a task, or redefine the task of that name")
                            .arg(Arg::text("name").description("Unique in this server").length(1, 64))
                            .arg(Arg::text("cron").description(
                                "minute hour day month weekday, e.g. `0 9 * * 1` (Mondays 09:00)",
                            ))
                            .arg(
                                Arg::text("type")
                                    .description("What the task does")
                                    .choices([
                                        ("Send a message", "message"),
                                        ("Emit a hook event", "hook"),
                                        ("Write a log line", "log"),
                                    ]),
                            )
                            .arg(
                                Arg::rest("content")
                                    .description(
                                        "The message; the hook's name (and a JSON object); the log line",
                                    )
                                    .optional()
                                    .max_length(2000),
                            )
                            .arg(
                                Arg::channel("channel")
                                    .description("Where a message task posts")
                                    .optional()
                                    .channel_types([ChannelKind::Text, ChannelKind::Announcement]),
                            )
                            .arg(
                                Arg::text("timezone")
                                    .description("IANA time zone, e.g. Europe/Berlin (default UTC)")
                                    .optional()
                                    .autocomplete(),
                            )
                            .arg(
                                Arg::integer("max_runs")
                                    .description("Stop after this many runs")
                                    .optional()
                                    .range(1, 1_000_000),
                            )
                            .arg(
                                Arg::text("missed")
                                    .description("Runs missed while the bot was down")
                                    .optional()
                                    .choices([("Run once when back", "run_once"), ("Skip", "skip")]),
                            ),
                    )
                    .subcommand(
                        CommandSpec::new("list")
                            .description("List this server's tasks")
                            .arg(Arg::integer("page").optional().range(1, 100)),
                    )
                    .subcommand(
                        CommandSpec::new("delete")
                            .description("Delete a task")
                            .arg(task_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("toggle")
                            .description("Turn a task off or on")
                            .arg(task_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("info")
                            .description("A task's schedule, runs and errors")
                            .arg(task_arg()),
                    ),
                |_ctx: CommandContext<Self>| async move {
                    Err(PluginError::user("use a subcommand: create, list, delete, toggle or info"))
                },
            )
            .subcommand("schedule create", create)
            .subcommand("schedule list", list)
            .subcommand("schedule delete", delete)
            .subcommand("schedule toggle", toggle)
            .subcommand("schedule info", info)
            .autocomplete("schedule delete", "task", suggest_tasks)
            .autocomplete("schedule toggle", "task", suggest_tasks)
            .autocomplete("schedule info", "task", suggest_tasks)
            .autocomplete("schedule create", "timezone", suggest_zones)
            .cron("tick", "* * * * *", true, tick)
            .on_hook(0, |ctx: PluginContext<Self>, spec: ScheduledTask| async move {
                let task = ctx.data().define(ctx.host(), spec, None).await?;
                ctx.info(format!(
                    "task `{}` of guild {} scheduled by a plugin: {}",
                    task.spec.name,
                    task.guild(),
                    task.spec.cron
                ));
                Ok(())
            })
            .on_hook(0, |ctx: PluginContext<Self>, request: UnscheduleTask| async move {
                let scheduler = ctx.data();
                let tasks = scheduler.guild_tasks(ctx.host(), request.guild.0).await?;
                if let Some(task) = tasks.iter().find(|t| t.spec.name == request.name) {
                    store::delete(ctx.host(), task.guild(), task.id).await?;
                    scheduler.remove(task.guild(), task.id)?;
                }
                Ok(())
            });
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

/// The guild of a command, or the refusal in a DM.
fn guild_of(ctx: &CommandContext<Scheduler>) -> PluginResult<u64> {
    ctx.invocation()
        .guild_id
        .map(|g| g.0)
        .ok_or_else(|| PluginError::user("tasks belong to a server: use this in one"))
}

/// Bot owners and the server's owner manage tasks.
async fn owner_only(ctx: &CommandContext<Scheduler>, guild: u64) -> PluginResult {
    if ctx.invocation().is_owner {
        return Ok(());
    }
    let info = ctx.host().guild(GuildId(guild)).info().await?;
    if info.owner_id == ctx.author().id {
        return Ok(());
    }
    Err(PluginError::user(
        "only a bot owner or this server's owner manages scheduled tasks",
    ))
}

/// The guild's task named or numbered `key` (`3`, `#3` or its name, any case).
fn find<'a>(tasks: &'a [Task], key: &str) -> PluginResult<&'a Task> {
    let key = key.trim();
    let number = key.trim_start_matches('#').parse::<i64>().ok();
    tasks
        .iter()
        .find(|t| t.spec.name == key)
        .or_else(|| tasks.iter().find(|t| Some(t.id) == number))
        .or_else(|| tasks.iter().find(|t| t.spec.name.eq_ignore_ascii_case(key)))
        .ok_or_else(|| {
            PluginError::user(format!(
                "there is no task `{key}` here; `/schedule list` shows them"
            ))
        })
}

/// What `create`'s arguments describe.
fn action_of(ctx: &CommandContext<Scheduler>, kind: &str) -> PluginResult<TaskAction> {
    let content: Option<String> = ctx.arg("content").ok();
    let content = content.unwrap_or_default();
    match kind {
        "message" => {
            // The prefix form names the channel first: `... message #news Hello`.
            let (channel, text) = match ctx.arg::<ChannelId>("channel") {
                Ok(channel) => (Some(channel), content.trim().to_owned()),
                Err(_) => match leading_channel(&content) {
                    Some((channel, rest)) => (Some(channel), rest.to_owned()),
                    None => (None, content.trim().to_owned()),
                },
            };
            let channel = channel.ok_or_else(|| {
                PluginError::user("a message task needs a channel (`channel`, or `#channel` first)")
            })?;
            Ok(TaskAction::Message {
                channel,
                content: text,
            })
        }
        "hook" => {
            let content = content.trim();
            let (event, payload) = content
                .split_once(char::is_whitespace)
                .map_or((content, ""), |(e, p)| (e, p.trim()));
            let payload = if payload.is_empty() {
                json!({})
            } else {
                serde_json::from_str(payload).map_err(|e| {
                    PluginError::user(format!("the hook's payload is not JSON: {e}"))
                })?
            };
            Ok(TaskAction::Hook {
                event: if event.is_empty() {
                    "scheduled_task".to_owned()
                } else {
                    event.to_owned()
                },
                payload,
            })
        }
        _ => Ok(TaskAction::Log {
            message: content.trim().to_owned(),
            level: "info".to_owned(),
        }),
    }
}

/// `<#123> rest` → the channel and the rest.
fn leading_channel(text: &str) -> Option<(ChannelId, &str)> {
    let text = text.trim_start();
    let inner = text.strip_prefix("<#")?;
    let (id, rest) = inner.split_once('>')?;
    Some((ChannelId(id.parse().ok()?), rest.trim()))
}

/// The time zone: the `timezone` option, or `TZ=Zone` / `CRON_TZ=Zone` before the
/// expression (the prefix form's way).
fn cron_and_zone(ctx: &CommandContext<Scheduler>) -> PluginResult<(String, Option<String>)> {
    let cron: String = ctx.arg("cron")?;
    let option: Option<String> = ctx.arg("timezone").ok();
    let mut words = cron.split_whitespace();
    let (cron, inline) = match words.clone().next().and_then(|w| {
        w.strip_prefix("CRON_TZ=")
            .or_else(|| w.strip_prefix("TZ="))
            .map(str::to_owned)
    }) {
        Some(zone) => {
            words.next();
            (words.collect::<Vec<_>>().join(" "), Some(zone))
        }
        None => (cron, None),
    };
    let zone = option.or(inline).filter(|z| !z.eq_ignore_ascii_case("utc"));
    Ok((cron, zone))
}

async fn create(ctx: CommandContext<Scheduler>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    owner_only(&ctx, guild).await?;
    let name: String = ctx.arg("name")?;
    let kind: String = ctx.arg("type")?;
    let (cron, zone) = cron_and_zone(&ctx)?;
    let spec = ScheduledTask {
        guild: GuildId(guild),
        name: name.trim().to_owned(),
        cron,
        zone,
        action: action_of(&ctx, &kind)?,
        max_runs: ctx
            .arg::<i64>("max_runs")
            .ok()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        missed: match ctx.arg::<String>("missed").ok().as_deref() {
            Some("skip") => Missed::Skip,
            _ => Missed::RunOnce,
        },
    };
    let task = ctx
        .data()
        .define(ctx.host(), spec, Some(ctx.author().id.0))
        .await?;
    ctx.info(format!(
        "task `{}` (#{}) created in guild {guild} by {}",
        task.spec.name,
        task.id,
        ctx.author().id.0
    ));
    let embed = details(&task)
        .title(format!("Scheduled task created: {}", task.spec.name))
        .colour(palette::SUCCESS);
    ctx.reply(Message::new().embed(embed).ephemeral()).await?;
    Ok(())
}

async fn list(ctx: CommandContext<Scheduler>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    owner_only(&ctx, guild).await?;
    let tasks = ctx.data().guild_tasks(ctx.host(), guild).await?;
    if tasks.is_empty() {
        ctx.reply(
            Message::text("No scheduled tasks here yet: `/schedule create` makes one.").ephemeral(),
        )
        .await?;
        return Ok(());
    }
    let pages = tasks.len().div_ceil(PAGE);
    let page = usize::try_from(ctx.arg::<i64>("page").unwrap_or(1).max(1))
        .unwrap_or(1)
        .min(pages);
    let mut embed = Embed::new()
        .title("Scheduled tasks")
        .description(format!(
            "**{}** task(s), {} on",
            tasks.len(),
            tasks.iter().filter(|t| t.enabled).count()
        ))
        .colour(palette::INFO)
        .footer(format!(
            "Page {page}/{pages} · /schedule info TASK for details"
        ));
    for task in tasks.iter().skip((page - 1) * PAGE).take(PAGE) {
        let runs = match task.spec.max_runs {
            Some(max) => format!("{}/{max}", task.run_count),
            None => task.run_count.to_string(),
        };
        let schedule = task
            .spec
            .schedule()
            .map_or_else(|e| format!("invalid: {e}"), |c| c.describe());
        embed = embed.field(
            format!(
                "{} #{} {}",
                if task.enabled { "🟢" } else { "⚪" },
                task.id,
                task.spec.name
            ),
            format!(
                "{} · {} · runs {runs}\nNext: {}",
                task.spec.action.kind(),
                schedule,
                when(task.enabled.then_some(task.next_run).flatten())
            ),
            false,
        );
    }
    ctx.reply(Message::new().embed(embed).ephemeral()).await?;
    Ok(())
}

/// The server and its task the `task` argument names, for a bot or server owner.
async fn named_task(ctx: &CommandContext<Scheduler>) -> PluginResult<(u64, Task)> {
    let guild = guild_of(ctx)?;
    owner_only(ctx, guild).await?;
    let key: String = ctx.arg("task")?;
    let tasks = ctx.data().guild_tasks(ctx.host(), guild).await?;
    Ok((guild, find(&tasks, &key)?.clone()))
}

async fn delete(ctx: CommandContext<Scheduler>) -> PluginResult {
    let (guild, task) = named_task(&ctx).await?;
    store::delete(ctx.host(), guild, task.id).await?;
    ctx.data().remove(guild, task.id)?;
    ctx.info(format!(
        "task `{}` (#{}) deleted in guild {guild} by {}",
        task.spec.name,
        task.id,
        ctx.author().id.0
    ));
    ctx.reply(
        Message::text(format!("Task `{}` (#{}) deleted.", task.spec.name, task.id)).ephemeral(),
    )
    .await?;
    Ok(())
}

async fn toggle(ctx: CommandContext<Scheduler>) -> PluginResult {
    let (_, mut task) = named_task(&ctx).await?;
    task.enabled = !task.enabled;
    if task.enabled {
        // Back on: from now, not from when it was turned off; a finished task starts over.
        task.next_run = task
            .spec
            .schedule()
            .map_err(PluginError::User)?
            .next_after(unix_now(ctx.host()));
        task.failing = 0;
        if task.spec.max_runs.is_some_and(|max| task.run_count >= max) {
            task.run_count = 0;
        }
    }
    store::save_state(ctx.host(), &task).await?;
    ctx.data().update(&task)?;
    let state = if task.enabled { "on" } else { "off" };
    let next = if task.enabled {
        format!(" Next run: {}.", when(task.next_run))
    } else {
        String::new()
    };
    ctx.reply(
        Message::text(format!(
            "Task `{}` is now **{state}**.{next}",
            task.spec.name
        ))
        .ephemeral(),
    )
    .await?;
    Ok(())
}

async fn info(ctx: CommandContext<Scheduler>) -> PluginResult {
    let (_, task) = named_task(&ctx).await?;
    let embed = details(&task)
        .title(format!("Task #{}: {}", task.id, task.spec.name))
        .colour(if task.enabled {
            palette::SUCCESS
        } else {
            0x99AAB5
        });
    ctx.reply(Message::new().embed(embed).ephemeral()).await?;
    Ok(())
}

/// A Discord timestamp (absolute and relative), or "—".
fn when(at: Option<u64>) -> String {
    at.map_or_else(|| "—".to_owned(), |t| format!("<t:{t}:f> (<t:{t}:R>)"))
}

/// The fields `create` and `info` show.
fn details(task: &Task) -> Embed {
    let spec = &task.spec;
    let schedule = spec
        .schedule()
        .map_or_else(|e| format!("invalid: {e}"), |c| c.describe());
    let what = match &spec.action {
        TaskAction::Message { channel, content } => {
            format!("Message to <#{}>:\n{content}", channel.0)
        }
        TaskAction::Hook { event, payload } => format!("Hook `{event}` {payload}"),
        TaskAction::Log { message, level } => format!("Log ({level}): {message}"),
    };
    let runs = match spec.max_runs {
        Some(max) => format!("{} of {max}", task.run_count),
        None => task.run_count.to_string(),
    };
    let missed = match spec.missed {
        Missed::RunOnce => "run once when back",
        Missed::Skip => "skipped",
    };
    let mut embed = Embed::new()
        .field("Status", if task.enabled { "on" } else { "off" }, true)
        .field("Type", spec.action.kind(), true)
        .field("Cron", format!("`{}`", spec.cron), true)
        .field("Schedule", schedule, true)
        .field("Time zone", spec.zone.as_deref().unwrap_or("UTC"), true)
        .field("Runs", runs, true)
        .field(
            "Next run",
            when(task.enabled.then_some(task.next_run).flatten()),
            false,
        )
        .field("Last run", when(task.last_run), true)
        .field(
            "Missed runs",
            format!("{} ({missed})", task.missed_runs),
            true,
        )
        .field("Failures", task.failures.to_string(), true)
        .field("Action", truncate(&what, 1024), false)
        .field(
            "Created by",
            task.creator
                .map_or_else(|| "a plugin".to_owned(), |u| format!("<@{u}>")),
            true,
        )
        .field("Created", when(Some(task.created_at)), true);
    if let Some(error) = &task.last_error {
        embed = embed.field("Last error", truncate(error, 1024), false);
    }
    embed.footer(format!("Task #{} · Task Scheduler", task.id))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

async fn suggest_tasks(ctx: AutocompleteContext<Scheduler>) -> PluginResult<Vec<Choice>> {
    let Some(guild) = ctx.request().guild_id else {
        return Ok(Vec::new());
    };
    let typed = ctx.value().to_lowercase();
    let tasks = ctx.data().guild_tasks(&ctx, guild.0).await?;
    Ok(tasks
        .iter()
        .filter(|t| t.spec.name.to_lowercase().contains(&typed))
        .take(25)
        .map(|t| {
            Choice::new(
                truncate(&format!("#{} {}", t.id, t.spec.name), 100),
                t.spec.name.clone(),
            )
        })
        .collect())
}

async fn suggest_zones(ctx: AutocompleteContext<Scheduler>) -> PluginResult<Vec<Choice>> {
    let typed = ctx.value().to_lowercase();
    Ok(time_zones()
        .filter(|z| z.to_lowercase().contains(&typed))
        .take(25)
        .map(Choice::from)
        .collect())
}

/// Runs every task that is due; called each minute by the host (and once after a downtime).
async fn tick(ctx: PluginContext<Scheduler>) -> PluginResult {
    let scheduler = ctx.data();
    scheduler.ensure_loaded(ctx.host()).await?;
    let now = unix_now(ctx.host());
    for task in scheduler.due(now)? {
        let name = task.spec.name.clone();
        if let Err(error) = run_due(&ctx, task, now).await {
            ctx.warn(format!(
                "task `{name}`: its run could not be recorded: {error}"
            ));
        }
    }
    Ok(())
}

/// Runs one due task (or skips its missed runs) and records what happened.
async fn run_due(ctx: &PluginContext<Scheduler>, mut task: Task, now: u64) -> PluginResult {
    let cron = match task.spec.schedule() {
        Ok(cron) => cron,
        Err(error) => {
            task.enabled = false;
            task.last_error = Some(format!("the schedule no longer parses: {error}"));
            return record(ctx, &task).await;
        }
    };
    let due = task.next_run.unwrap_or(now);
    // The scheduled times that passed, this one included (at most a year of minutes).
    let mut passed = 0_u32;
    let mut at = Some(due);
    while let Some(t) = at.filter(|t| *t <= now) {
        passed += 1;
        if passed >= 525_600 {
            break;
        }
        at = cron.next_after(t);
    }
    let late = now.saturating_sub(due) >= 60;
    if late && task.spec.missed == Missed::Skip {
        task.missed_runs = task.missed_runs.saturating_add(passed);
        ctx.info(format!(
            "task `{}`: {passed} run(s) missed while the bot was down, skipped",
            task.spec.name
        ));
    } else {
        task.missed_runs = task.missed_runs.saturating_add(passed.saturating_sub(1));
        let outcome = perform(ctx, &task).await;
        task.run_count = task.run_count.saturating_add(1);
        task.last_run = Some(now);
        match outcome {
            Ok(()) => {
                task.failing = 0;
            }
            Err(error) => {
                task.failures = task.failures.saturating_add(1);
                task.failing = task.failing.saturating_add(1);
                task.last_error = Some(error.to_string());
                ctx.warn(format!("task `{}` failed: {error}", task.spec.name));
                if task.failing >= FAILING_LIMIT {
                    task.enabled = false;
                    ctx.warn(format!(
                        "task `{}` failed {FAILING_LIMIT} times in a row and is now off",
                        task.spec.name
                    ));
                }
            }
        }
        if late {
            ctx.info(format!(
                "task `{}` ran {} min late (the bot was down)",
                task.spec.name,
                now.saturating_sub(due) / 60
            ));
        }
    }
    task.next_run = cron.next_after(now);
    if task.spec.max_runs.is_some_and(|max| task.run_count >= max) {
        task.enabled = false;
        ctx.info(format!(
            "task `{}` reached its {} run(s) and is now off",
            task.spec.name, task.run_count
        ));
    }
    record(ctx, &task).await
}

async fn record(ctx: &PluginContext<Scheduler>, task: &Task) -> PluginResult {
    if store::save_state(ctx.host(), task).await? {
        ctx.data().update(task)?;
    }
    Ok(())
}

/// What the task does.
async fn perform(ctx: &PluginContext<Scheduler>, task: &Task) -> PluginResult {
    match &task.spec.action {
        TaskAction::Message { channel, content } => {
            ctx.send(*channel, Message::text(content.clone())).await?;
        }
        TaskAction::Hook { event, payload } => {
            let mut payload = match payload {
                serde_json::Value::Object(map) => map.clone(),
                _ => serde_json::Map::new(),
            };
            payload.insert("task".to_owned(), json!(task.spec.name));
            payload.insert("guild_id".to_owned(), json!(task.guild()));
            ctx.emit(event, serde_json::Value::Object(payload)).await?;
        }
        TaskAction::Log { message, level } => {
            let line = format!("[task {}] {message}", task.spec.name);
            match level.as_str() {
                "error" => ctx.error(line),
                "warn" => ctx.warn(line),
                _ => ctx.info(line),
            }
        }
    }
    Ok(())
}

zoryx_plugin_api::export_plugin!(Scheduler);
