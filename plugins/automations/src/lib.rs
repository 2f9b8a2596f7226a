//! `automations`: server automations from templates, without code (`/hooks`). Ten templates —
//! welcome, goodbye, reaction roles, message filter, XP leveling, scheduled announcements,
//! tickets, voice activity, webhook bridge, dynamic voice channels — each configurable per
//! server, on or off, with its own cooldown and the shared conditions (channels, roles, users,
//! message content, hours and days). Automations live in each server's database with their
//! counters (runs, last run, failures); a permission the bot lacks turns that one automation
//! off and says so in the server's alert channel.

mod conditions;
mod panel;
mod settings;
mod store;
mod templates;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{
    AutocompleteContext, ChannelKind, Choice, Host, Modal, ModalContext, Permissions, Scope,
    Source, TextInput, palette,
};

use conditions::{Conditions, Facts};
use settings::{Kind, Settings};
use store::Automation;
use templates::{Run, Template};

/// Automations a server may have.
const PER_GUILD: usize = 50;
/// Automations per page of `/hooks list`.
const PAGE: usize = 10;
/// The key of a server's alert channel (guild scope).
const ALERTS: &str = "alert_channel";
/// The prefix of the creation modal's custom id.
const CREATE_MODAL: &str = "automations-create";

/// One automation as events see it: its state, its conditions built once, its cooldown clock.
struct Live {
    automation: Mutex<Automation>,
    template: Template,
    conditions: Conditions,
    cooldown: u64,
    /// When it last ran (seconds), for the cooldown.
    last: AtomicU64,
}

impl Live {
    fn new(automation: Automation) -> Self {
        Self {
            template: automation.template,
            conditions: Conditions::of(&automation.settings),
            cooldown: u64::try_from(automation.settings.number("cooldown", 0)).unwrap_or(0),
            last: AtomicU64::new(automation.last_run.unwrap_or(0)),
            automation: Mutex::new(automation),
        }
    }

    fn get(&self) -> Option<Automation> {
        self.automation.lock().ok().map(|a| a.clone())
    }
}

type GuildList = Arc<Vec<Arc<Live>>>;

/// The plugin: every server's automations, read from its database at its first event.
#[derive(Default)]
pub struct Automations {
    /// Guilds that have automations (read once at start, grown by `create`).
    known: Mutex<HashSet<u64>>,
    live: Mutex<HashMap<u64, GuildList>>,
    /// Bumped by every `forget`: a list read from the database before a change is not kept.
    changes: AtomicU64,
}

impl Automations {
    fn known(&self, guild: u64) -> bool {
        self.known.lock().is_ok_and(|k| k.contains(&guild))
    }

    /// The automations of `guild`, from memory or its database.
    async fn of(&self, host: &Host, guild: u64) -> PluginResult<GuildList> {
        if let Some(list) = self.live.lock().ok().and_then(|l| l.get(&guild).cloned()) {
            return Ok(list);
        }
        let generation = self.changes.load(Ordering::Acquire);
        let list: GuildList = if self.known(guild) {
            Arc::new(
                store::load(host, guild)
                    .await?
                    .into_iter()
                    .map(|a| Arc::new(Live::new(a)))
                    .collect(),
            )
        } else {
            Arc::new(Vec::new())
        };
        // Two events may have read it at once: the first list kept is the one every event uses
        // (its cooldown clocks are the ones that count). A list read before a change (a toggle,
        // a delete) is used once and not kept.
        Ok(match self.live.lock() {
            Ok(mut live) if self.changes.load(Ordering::Acquire) == generation => {
                Arc::clone(live.entry(guild).or_insert(list))
            }
            _ => list,
        })
    }

    /// Forgets the guild's list: the next event reads it again.
    fn forget(&self, guild: u64) {
        if let Ok(mut live) = self.live.lock() {
            self.changes.fetch_add(1, Ordering::AcqRel);
            live.remove(&guild);
        }
    }
}

fn unix_now(host: &Host) -> u64 {
    host.now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Plugin for Automations {
    fn manifest() -> Manifest {
        Manifest::new("automations", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description(
                "Server automations from templates: welcome, goodbye, reaction roles, auto-mod, \
                 leveling, announcements, tickets, voice activity, webhook bridges, dynamic voice",
            )
    }

    fn register(plugin: &mut Registrar<Self>) {
        let automation_arg = || {
            Arg::text("automation")
                .description("The automation's name or number")
                .autocomplete()
        };
        let template_choices: Vec<(&str, &str)> = Template::ALL
            .iter()
            .map(|t| (t.title(), t.name()))
            .collect();
        plugin
            .command(
                CommandSpec::new("hooks")
                    .description("This server's automations (administrators)")
                    .category("Automations")
                    .permission(Permission::Administrator)
                    .default_permissions(Permissions::ADMINISTRATOR)
                    .dm(false)
                    .subcommand(
                        CommandSpec::new("create")
                            .description("Create an automation from a template")
                            .arg(
                                Arg::text("template")
                                    .description("What it does")
                                    .choices(template_choices),
                            )
                            .arg(Arg::text("name").description("Unique in this server").length(1, 32))
                            .arg(
                                Arg::rest("settings")
                                    .description(
                                        "key=value pairs, e.g. channel=#welcome (none: a form asks)",
                                    )
                                    .optional()
                                    .max_length(2000),
                            ),
                    )
                    .subcommand(
                        CommandSpec::new("list")
                            .description("This server's automations")
                            .arg(Arg::integer("page").optional().range(1, 100)),
                    )
                    .subcommand(
                        CommandSpec::new("info")
                            .description("One automation's settings, runs and errors")
                            .arg(automation_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("toggle")
                            .description("Turn an automation off or on")
                            .arg(automation_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("delete")
                            .description("Delete an automation")
                            .arg(automation_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("templates")
                            .description("The templates and the settings each takes")
                            .arg(
                                Arg::text("template")
                                    .description("One template's settings")
                                    .optional(),
                            ),
                    )
                    .subcommand(
                        CommandSpec::new("alerts")
                            .description("Where automation problems are reported")
                            .arg(
                                Arg::channel("channel")
                                    .description("The channel (none: the server's system channel)")
                                    .optional()
                                    .channel_types([ChannelKind::Text, ChannelKind::Announcement]),
                            ),
                    ),
                |_ctx: CommandContext<Self>| async move {
                    Err(PluginError::user(
                        "use a subcommand: create, list, info, toggle, delete, templates or alerts",
                    ))
                },
            )
            .subcommand("hooks create", create)
            .subcommand("hooks list", list)
            .subcommand("hooks info", info)
            .subcommand("hooks toggle", toggle)
            .subcommand("hooks delete", delete)
            .subcommand("hooks templates", templates_list)
            .subcommand("hooks alerts", alerts)
            .autocomplete("hooks info", "automation", suggest)
            .autocomplete("hooks toggle", "automation", suggest)
            .autocomplete("hooks delete", "automation", suggest)
            .modal(CREATE_MODAL, create_from_modal)
            .panel("automations", "Automations", panel::show);
        for kind in [
            EventKind::MemberJoin,
            EventKind::MemberLeave,
            EventKind::MessageCreate,
            EventKind::ReactionAdd,
            EventKind::ReactionRemove,
            EventKind::VoiceStateUpdate,
        ] {
            plugin.listen(kind, dispatch);
        }
        templates::leveling::register(plugin);
        templates::tickets::register(plugin);
        templates::voice_tracker::register(plugin);
    }

    async fn init(host: Host) -> PluginResult<Self> {
        let plugin = Self::default();
        let guilds = store::guilds(&host).await?;
        if let Ok(mut known) = plugin.known.lock() {
            known.extend(guilds);
        }
        Ok(plugin)
    }
}

/// The guild, kind and facts of an event automations act on.
fn facts_of(event: &Event) -> Option<(u64, EventKind, Facts<'_>)> {
    let empty: &[RoleId] = &[];
    Some(match event {
        Event::MessageCreate(m) => (
            m.guild_id?.0,
            EventKind::MessageCreate,
            Facts {
                channel: Some(m.channel_id),
                user: Some(m.author.id),
                roles: &m.member_roles,
                content: Some(&m.content),
                ..Facts::default()
            },
        ),
        Event::MemberJoin(member) => (
            member.guild_id.0,
            EventKind::MemberJoin,
            Facts {
                user: Some(member.user.id),
                roles: &member.roles,
                ..Facts::default()
            },
        ),
        Event::MemberLeave { guild_id, user } => (
            guild_id.0,
            EventKind::MemberLeave,
            Facts {
                user: Some(user.id),
                roles: empty,
                ..Facts::default()
            },
        ),
        Event::ReactionAdd(r) | Event::ReactionRemove(r) => (
            r.guild_id?.0,
            if matches!(event, Event::ReactionAdd(_)) {
                EventKind::ReactionAdd
            } else {
                EventKind::ReactionRemove
            },
            Facts {
                channel: Some(r.channel_id),
                user: Some(r.user_id),
                roles: r.member.as_ref().map_or(empty, |m| &m.roles),
                ..Facts::default()
            },
        ),
        Event::VoiceStateUpdate(v) => (
            v.guild_id.0,
            EventKind::VoiceStateUpdate,
            Facts {
                channel: v.channel_id.or(v.previous),
                user: Some(v.user_id),
                roles: v.member.as_ref().map_or(empty, |m| &m.roles),
                ..Facts::default()
            },
        ),
        _ => return None,
    })
}

/// Runs every automation of the event's guild that listens to it and whose conditions pass.
async fn dispatch(ctx: PluginContext<Automations>, event: Event) -> PluginResult {
    let Some((guild, kind, mut facts)) = facts_of(&event) else {
        return Ok(());
    };
    let plugin = ctx.data();
    if !plugin.known(guild) {
        return Ok(());
    }
    let host = ctx.host();
    let now = unix_now(host);
    facts.now = now;
    let list = plugin.of(host, guild).await?;
    for live in list.iter() {
        if !live.template.events().contains(&kind) {
            continue;
        }
        let Some(automation) = live.get() else {
            continue;
        };
        if !automation.enabled || live.conditions.check(&facts).is_err() {
            continue;
        }
        // The cooldown is claimed before the run, so two events at once do not both pass; a
        // run that does nothing gives it back.
        let last = live.last.load(Ordering::Acquire);
        if live.cooldown > 0
            && ((last > 0 && now < last + live.cooldown)
                || live
                    .last
                    .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                    .is_err())
        {
            continue;
        }
        let run = Run {
            host,
            automation: &automation,
            guild: host.guild(GuildId(guild)),
            now,
        };
        let outcome = live.template.handle(&run, &event).await;
        if matches!(outcome, Ok(true)) {
            live.last.store(now, Ordering::Release);
        } else if live.cooldown > 0 {
            let _ = live
                .last
                .compare_exchange(now, last, Ordering::AcqRel, Ordering::Acquire);
        }
        record(host, plugin, live, outcome, now).await;
    }
    Ok(())
}

/// Whether an error is Discord (or the host) refusing for a permission the bot lacks.
fn missing_permission(error: &PluginError) -> Option<String> {
    match error {
        PluginError::MissingPermission { .. } => Some(error.to_string()),
        PluginError::Discord { code: 50013, .. } => Some(error.to_string()),
        _ => None,
    }
}

/// Counts a run or a failure; a missing permission turns the automation off and reports it.
async fn record(
    host: &Host,
    plugin: &Automations,
    live: &Live,
    outcome: PluginResult<bool>,
    now: u64,
) {
    let (snapshot, alert) = {
        let Ok(mut automation) = live.automation.lock() else {
            return;
        };
        let mut alert = None;
        match &outcome {
            Ok(false) => return,
            Ok(true) => {
                automation.runs += 1;
                automation.last_run = Some(now);
            }
            Err(error) => {
                automation.failures += 1;
                automation.last_error = Some(error.to_string());
                if let Some(why) = missing_permission(error) {
                    automation.enabled = false;
                    automation.disabled_reason = Some(why.clone());
                    alert = Some(why);
                }
            }
        }
        (automation.clone(), alert)
    };
    if let Err(error) = store::save(host, &snapshot).await {
        host.warn(format!(
            "automation `{}` of guild {}: its counters were not saved: {error}",
            snapshot.name, snapshot.guild
        ));
    }
    if let Err(error) = &outcome {
        host.debug(format!(
            "automation `{}` of guild {} failed: {error}",
            snapshot.name, snapshot.guild
        ));
    }
    if let Some(why) = alert {
        host.warn(format!(
            "automation `{}` of guild {} turned off: {why}",
            snapshot.name, snapshot.guild
        ));
        let embed = Embed::warning(
            &format!("Automation `{}` turned off", snapshot.name),
            &format!(
                "It needs a permission the bot does not have here: {why}.\nGive the bot the \
                 permission (or move its role higher), then `/hooks toggle {}`.",
                snapshot.name
            ),
        );
        alert_guild(host, snapshot.guild, embed).await;
        // The next event sees it off.
        plugin.forget(snapshot.guild);
    }
}

/// Counts a run (or a failure) of automation `id` of `guild` that happened outside an event:
/// a button of its (a ticket panel's). A missing permission turns it off with an alert, as for
/// events.
pub(crate) async fn count_run(
    host: &Host,
    plugin: &Automations,
    guild: u64,
    id: i64,
    outcome: PluginResult<bool>,
) {
    let Ok(list) = plugin.of(host, guild).await else {
        return;
    };
    let Some(live) = list.iter().find(|l| l.get().is_some_and(|a| a.id == id)) else {
        return;
    };
    record(host, plugin, live, outcome, unix_now(host)).await;
}

/// Sends `embed` to the guild's alert channel (or its system channel).
async fn alert_guild(host: &Host, guild: u64, embed: Embed) {
    let configured: Option<u64> = host
        .storage()
        .get(Scope::Guild(GuildId(guild)), ALERTS)
        .await
        .ok()
        .flatten();
    let channel = match configured {
        Some(c) => Some(ChannelId(c)),
        None => host
            .guild(GuildId(guild))
            .info()
            .await
            .ok()
            .and_then(|i| i.system_channel),
    };
    match channel {
        Some(channel) => {
            if let Err(error) = host.send(channel, Message::new().embed(embed)).await {
                host.warn(format!(
                    "guild {guild}: the automation alert was not sent: {error}"
                ));
            }
        }
        None => host.warn(format!(
            "guild {guild} has no alert channel (`/hooks alerts`) and no system channel"
        )),
    }
}

fn guild_of(ctx: &CommandContext<Automations>) -> PluginResult<u64> {
    ctx.invocation()
        .guild_id
        .map(|g| g.0)
        .ok_or_else(|| PluginError::user("automations belong to a server: use this in one"))
}

/// The guild's automation named or numbered `key`.
fn find(list: &[Arc<Live>], key: &str) -> PluginResult<Automation> {
    let key = key.trim();
    let number = key.trim_start_matches('#').parse::<i64>().ok();
    let all: Vec<Automation> = list.iter().filter_map(|l| l.get()).collect();
    all.iter()
        .find(|a| a.name == key)
        .or_else(|| all.iter().find(|a| Some(a.id) == number))
        .or_else(|| all.iter().find(|a| a.name.eq_ignore_ascii_case(key)))
        .cloned()
        .ok_or_else(|| {
            PluginError::user(format!(
                "there is no automation `{key}` here; `/hooks list` shows them"
            ))
        })
}

async fn named(ctx: &CommandContext<Automations>) -> PluginResult<(u64, Automation)> {
    let guild = guild_of(ctx)?;
    let key: String = ctx.arg("automation")?;
    let list = ctx.data().of(ctx.host(), guild).await?;
    Ok((guild, find(&list, &key)?))
}

/// Checks a new automation's settings against the server and stores it; sets it up.
async fn make(
    host: &Host,
    plugin: &Automations,
    guild: u64,
    template: Template,
    name: &str,
    raw: &Settings,
    author: u64,
) -> PluginResult<(Automation, Option<String>)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 || name.contains(['\n', '`']) {
        return Err(PluginError::user(
            "a name is 1 to 32 characters, without new lines or backquotes",
        ));
    }
    if !template.takes_cooldown() && raw.get("cooldown").is_some() {
        return Err(PluginError::user(format!(
            "`cooldown`: {} follows every voice change, so it takes none",
            template.name()
        )));
    }
    let handle = host.guild(GuildId(guild));
    let roles = handle.roles().await?;
    let channels = handle.channels().await?;
    let settings = settings::check(
        template.keys(),
        raw,
        &settings::Guild {
            roles: &roles,
            channels: &channels,
        },
    )?;
    if plugin.of(host, guild).await?.len() >= PER_GUILD {
        return Err(PluginError::user(format!(
            "this server has {PER_GUILD} automations, the most it may have; delete one first"
        )));
    }
    let mut automation = store::insert(
        host,
        &Automation {
            id: 0,
            guild,
            template,
            name: name.to_owned(),
            enabled: true,
            settings,
            runs: 0,
            last_run: None,
            failures: 0,
            last_error: None,
            disabled_reason: None,
            created_by: author,
            created_at: unix_now(host),
        },
    )
    .await?;
    if let Ok(mut known) = plugin.known.lock() {
        known.insert(guild);
    }
    let run = Run {
        host,
        automation: &automation,
        guild: handle,
        now: unix_now(host),
    };
    let started = template.started(&run).await;
    let note = match started {
        Ok((note, Some(filled))) => {
            automation.settings = filled;
            store::save(host, &automation).await?;
            note
        }
        Ok((note, None)) => note,
        Err(error) => {
            // Nothing half made stays behind.
            store::delete(host, guild, automation.id).await?;
            plugin.forget(guild);
            return Err(PluginError::user(format!(
                "the automation could not be set up: {error}"
            )));
        }
    };
    plugin.forget(guild);
    host.info(format!(
        "automation `{}` (#{}, {}) created in guild {guild} by {author}",
        automation.name,
        automation.id,
        template.name()
    ));
    Ok((automation, note))
}

/// The value of a setting as people read it: channels and roles as mentions.
fn shown(template: Template, key: &str, value: &str) -> String {
    let kind = template
        .keys()
        .iter()
        .chain(settings::COMMON)
        .find(|k| k.name == key)
        .map(|k| k.kind);
    let each = |f: &dyn Fn(&str) -> String| -> String {
        value.split(',').map(f).collect::<Vec<_>>().join(", ")
    };
    match kind {
        Some(Kind::Channel | Kind::Voice | Kind::Category | Kind::Channels) => {
            each(&|id| format!("<#{id}>"))
        }
        Some(Kind::Role | Kind::Roles) => each(&|id| format!("<@&{id}>")),
        Some(Kind::Users) => each(&|id| format!("<@{id}>")),
        Some(Kind::EmojiRoles | Kind::LevelRoles) => each(&|pair| match pair.split_once('=') {
            Some((a, role)) => format!("{a} → <@&{role}>"),
            None => pair.to_owned(),
        }),
        _ => {
            let text: String = value.chars().take(200).collect();
            if text.len() < value.len() {
                format!("{text}…")
            } else {
                text
            }
        }
    }
}

fn details(automation: &Automation) -> Embed {
    let t = automation.template;
    let status = if automation.enabled {
        "🟢 on".to_owned()
    } else {
        match &automation.disabled_reason {
            Some(why) => format!("⚪ off: {why}"),
            None => "⚪ off".to_owned(),
        }
    };
    let mut settings = String::new();
    for (key, value) in &automation.settings.0 {
        let line = format!("`{key}` = {}\n", shown(t, key, value));
        if settings.len() + line.len() > 1000 {
            settings.push('…');
            break;
        }
        settings.push_str(&line);
    }
    let mut embed = Embed::new()
        .title(format!("#{} {}", automation.id, automation.name))
        .description(format!("{} · {status}", t.title()))
        .colour(palette::INFO)
        .field(
            "Settings",
            if settings.is_empty() {
                "(defaults)".to_owned()
            } else {
                settings
            },
            false,
        )
        .field("Runs", automation.runs.to_string(), true)
        .field(
            "Last run",
            automation
                .last_run
                .map_or_else(|| "never".to_owned(), |t| format!("<t:{t}:R>")),
            true,
        )
        .field("Failures", automation.failures.to_string(), true);
    if let Some(error) = &automation.last_error {
        embed = embed.field(
            "Last error",
            error.chars().take(500).collect::<String>(),
            false,
        );
    }
    embed.footer(format!(
        "Created by {} · {}",
        automation.created_by,
        automation.template.name()
    ))
}

async fn create(ctx: CommandContext<Automations>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let template_name: String = ctx.arg("template")?;
    let template = Template::named(&template_name).ok_or_else(|| {
        PluginError::user(format!(
            "`{template_name}` is not a template; `/hooks templates` lists them"
        ))
    })?;
    let name: String = ctx.arg("name")?;
    let raw = Settings::parse(&ctx.arg::<String>("settings").unwrap_or_default())?;
    let needs_form = raw.0.is_empty() && template.keys().iter().any(|k| k.required);
    if needs_form && ctx.invocation().source == Source::Slash {
        let mut modal = Modal::new(
            format!("{CREATE_MODAL}:{}:{}", template.name(), name.trim()),
            format!("New {} automation", template.title().to_lowercase()),
        );
        let mut keys: Vec<&settings::Key> = template.keys().iter().filter(|k| k.required).collect();
        keys.extend(template.keys().iter().filter(|k| !k.required));
        for key in keys.into_iter().take(5) {
            let input = if key.kind == Kind::Text {
                TextInput::paragraph(key.name, key.name)
            } else {
                TextInput::short(key.name, key.name)
            };
            let help: String = key.help.chars().take(100).collect();
            modal = modal.input(input.required(key.required).placeholder(help));
        }
        ctx.modal(modal).await?;
        return Ok(());
    }
    let (automation, note) = make(
        ctx.host(),
        ctx.data(),
        guild,
        template,
        &name,
        &raw,
        ctx.author().id.0,
    )
    .await?;
    reply_created(&ctx, &automation, note).await
}

async fn reply_created(
    ctx: &CommandContext<Automations>,
    automation: &Automation,
    note: Option<String>,
) -> PluginResult {
    let mut embed = details(automation)
        .title(format!("Automation created: {}", automation.name))
        .colour(palette::SUCCESS);
    if let Some(note) = note {
        embed = embed.field("Set up", note, false);
    }
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

async fn create_from_modal(ctx: ModalContext<Automations>) -> PluginResult {
    let submission = ctx.submission().clone();
    let rest = submission
        .custom_id
        .strip_prefix(CREATE_MODAL)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_default();
    let (template, name) = rest.split_once(':').unwrap_or((rest, ""));
    let template =
        Template::named(template).ok_or_else(|| PluginError::user("that form is out of date"))?;
    let guild = ctx
        .submission()
        .guild_id
        .map(|g| g.0)
        .ok_or_else(|| PluginError::user("automations belong to a server"))?;
    let raw = Settings(
        submission
            .values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_owned()))
            .collect(),
    );
    let author = ctx.submission().user.id.0;
    let host: &Host = &ctx;
    let (automation, note) = make(host, ctx.data(), guild, template, name, &raw, author).await?;
    let mut embed = details(&automation)
        .title(format!("Automation created: {}", automation.name))
        .colour(palette::SUCCESS);
    if let Some(note) = note {
        embed = embed.field("Set up", note, false);
    }
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

async fn list(ctx: CommandContext<Automations>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let all: Vec<Automation> = ctx
        .data()
        .of(ctx.host(), guild)
        .await?
        .iter()
        .filter_map(|l| l.get())
        .collect();
    if all.is_empty() {
        ctx.reply(
            Message::text(
                "No automations here yet: `/hooks templates` shows what they can do, \
                 `/hooks create` makes one.",
            )
            .ephemeral(),
        )
        .await?;
        return Ok(());
    }
    let pages = all.len().div_ceil(PAGE);
    let page = usize::try_from(ctx.arg::<i64>("page").unwrap_or(1).max(1))
        .unwrap_or(1)
        .min(pages);
    let mut embed = Embed::new()
        .title("Automations")
        .description(format!(
            "**{}** automation(s), {} on",
            all.len(),
            all.iter().filter(|a| a.enabled).count()
        ))
        .colour(palette::INFO)
        .footer(format!(
            "Page {page}/{pages} · /hooks info NAME for details"
        ));
    for a in all.iter().skip((page - 1) * PAGE).take(PAGE) {
        embed = embed.field(
            format!(
                "{} #{} {}",
                if a.enabled { "🟢" } else { "⚪" },
                a.id,
                a.name
            ),
            format!(
                "{} · runs {} · failures {}{}",
                a.template.title(),
                a.runs,
                a.failures,
                a.last_run
                    .map_or_else(String::new, |t| format!(" · last <t:{t}:R>"))
            ),
            false,
        );
    }
    ctx.reply(Message::new().embed(embed).ephemeral()).await?;
    Ok(())
}

async fn info(ctx: CommandContext<Automations>) -> PluginResult {
    let (_, automation) = named(&ctx).await?;
    ctx.reply(Message::new().embed(details(&automation)).ephemeral())
        .await?;
    Ok(())
}

async fn toggle(ctx: CommandContext<Automations>) -> PluginResult {
    let (guild, automation) = named(&ctx).await?;
    let automation = switch(ctx.host(), ctx.data(), guild, automation).await?;
    ctx.reply(
        Message::text(format!(
            "Automation `{}` is {}.",
            automation.name,
            if automation.enabled { "on" } else { "off" }
        ))
        .ephemeral(),
    )
    .await?;
    Ok(())
}

/// Turns `automation` of `guild` on or off (setting it up, or undoing what it set up); the
/// command and the dashboard panel both switch them here.
async fn switch(
    host: &Host,
    plugin: &Automations,
    guild: u64,
    mut automation: Automation,
) -> PluginResult<Automation> {
    automation.enabled = !automation.enabled;
    let run = Run {
        host,
        automation: &automation,
        guild: host.guild(GuildId(guild)),
        now: unix_now(host),
    };
    if automation.enabled {
        let (_, filled) = automation.template.started(&run).await?;
        automation.disabled_reason = None;
        if let Some(filled) = filled {
            automation.settings = filled;
        }
    } else {
        automation.template.stopped(&run).await?;
    }
    store::save(host, &automation).await?;
    plugin.forget(guild);
    Ok(automation)
}

async fn delete(ctx: CommandContext<Automations>) -> PluginResult {
    let (guild, automation) = named(&ctx).await?;
    remove(
        ctx.host(),
        ctx.data(),
        guild,
        &automation,
        ctx.author().id.0,
    )
    .await?;
    ctx.reply(
        Message::text(format!(
            "Automation `{}` (#{}) deleted.",
            automation.name, automation.id
        ))
        .ephemeral(),
    )
    .await?;
    Ok(())
}

/// Deletes `automation` of `guild` for `by`, undoing what it set up.
async fn remove(
    host: &Host,
    plugin: &Automations,
    guild: u64,
    automation: &Automation,
    by: u64,
) -> PluginResult {
    let run = Run {
        host,
        automation,
        guild: host.guild(GuildId(guild)),
        now: unix_now(host),
    };
    automation.template.stopped(&run).await?;
    store::delete(host, guild, automation.id).await?;
    plugin.forget(guild);
    host.info(format!(
        "automation `{}` (#{}) deleted in guild {guild} by {by}",
        automation.name, automation.id
    ));
    Ok(())
}

async fn templates_list(ctx: CommandContext<Automations>) -> PluginResult {
    if let Ok(name) = ctx.arg::<String>("template") {
        let template = Template::named(&name).ok_or_else(|| {
            PluginError::user(format!(
                "`{name}` is not a template; `/hooks templates` lists them"
            ))
        })?;
        let mut keys = String::new();
        for key in template.keys() {
            keys.push_str(&format!(
                "`{}`{} — {}\n",
                key.name,
                if key.required { " (needed)" } else { "" },
                key.help
            ));
        }
        let common: Vec<&str> = settings::COMMON.iter().map(|k| k.name).collect();
        let embed = Embed::info(template.title(), template.description())
            .field("Settings", keys, false)
            .field("Conditions (any template)", common.join(", "), false)
            .footer(format!(
                "/hooks create {} NAME key=value …",
                template.name()
            ));
        ctx.reply(Message::new().embed(embed).ephemeral()).await?;
        return Ok(());
    }
    let mut embed = Embed::info(
        "Automation templates",
        "`/hooks create TEMPLATE NAME [key=value …]`; `/hooks templates TEMPLATE` lists a \
         template's settings.",
    );
    for template in Template::ALL {
        embed = embed.field(
            format!("{} (`{}`)", template.title(), template.name()),
            template.description(),
            false,
        );
    }
    ctx.reply(Message::new().embed(embed).ephemeral()).await?;
    Ok(())
}

async fn alerts(ctx: CommandContext<Automations>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let storage = ctx.host().storage();
    let text = match ctx.arg::<ChannelId>("channel") {
        Ok(channel) => {
            storage
                .set(Scope::Guild(GuildId(guild)), ALERTS, &channel.0)
                .await?;
            format!("Automation problems will be reported in <#{}>.", channel.0)
        }
        Err(_) => {
            storage.delete(Scope::Guild(GuildId(guild)), ALERTS).await?;
            "Automation problems will be reported in the server's system channel.".to_owned()
        }
    };
    ctx.reply(Message::text(text).ephemeral()).await?;
    Ok(())
}

async fn suggest(ctx: AutocompleteContext<Automations>) -> PluginResult<Vec<Choice>> {
    let Some(guild) = ctx.request().guild_id else {
        return Ok(Vec::new());
    };
    let typed = ctx.value().to_lowercase();
    let list = ctx.data().of(&ctx, guild.0).await?;
    Ok(list
        .iter()
        .filter_map(|l| l.get())
        .filter(|a| a.name.to_lowercase().contains(&typed))
        .take(25)
        .map(|a| {
            Choice::new(
                format!("#{} {} ({})", a.id, a.name, a.template.title()),
                a.name,
            )
        })
        .collect())
}

zoryx_plugin_api::export_plugin!(Automations);
