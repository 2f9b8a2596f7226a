//! Test fixture: a plugin with one of everything, built as v1 or v2 (`--features v2`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zoryx_plugin_api::CustomId as _;
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::schedule::{Missed, ScheduledTask, TaskAction};

const VERSION: &str = if cfg!(feature = "v2") { "v2" } else { "v1" };

/// The fixture's state.
#[derive(Default)]
pub struct Basic {
    ticks: AtomicU64,
    hooks: Mutex<Vec<String>>,
    deleted: Mutex<Vec<u64>>,
    cron_runs: AtomicU64,
    /// Where `watch` asked the events of plugin-api 1.3 to be reported.
    watching: Mutex<Option<ChannelId>>,
    /// The thread the message listener's closure last ran on (`listener_thread`).
    listener_thread: Mutex<String>,
}

/// The kinds `watch` reports, besides messages starting with `inspect` (seen by the message
/// listener).
const WATCHED: [EventKind; 15] = [
    EventKind::MessageDelete,
    EventKind::MessageUpdate,
    EventKind::MessageBulkDelete,
    EventKind::ReactionAdd,
    EventKind::ReactionRemove,
    EventKind::MemberUpdate,
    EventKind::VoiceStateUpdate,
    EventKind::ChannelCreate,
    EventKind::ChannelUpdate,
    EventKind::ChannelDelete,
    EventKind::RoleCreate,
    EventKind::RoleUpdate,
    EventKind::RoleDelete,
    EventKind::BanAdd,
    EventKind::BanRemove,
];

impl Plugin for Basic {
    fn manifest() -> Manifest {
        Manifest::new(
            "basic",
            if cfg!(feature = "v2") {
                "2.0.0"
            } else {
                "1.0.0"
            },
        )
        .author("Zoryx tests")
        .description("A fixture with one of everything")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .setting(
                Setting::integer("limit")
                    .range(1, 10)
                    .default(3)
                    .description("How many of something"),
            )
            .setting(Setting::text("passphrase").secret())
            .setting(Setting::text("mode").choices(["calm", "loud"]))
            .command(
                CommandSpec::new("version"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.reply(VERSION).await?;
                    Ok(())
                },
            )
            .command(CommandSpec::new("slow").arg(Arg::integer("ms")), slow)
            .command(CommandSpec::new("panic"), |_ctx: CommandContext<Basic>| {
                panic!("sync boom");
                #[allow(unreachable_code)]
                async {
                    Ok(())
                }
            })
            .command(
                CommandSpec::new("apanic"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.sleep(Duration::from_millis(1)).await;
                    panic!("async boom");
                },
            )
            .command(
                CommandSpec::new("fail"),
                |_ctx: CommandContext<Basic>| async { Err(PluginError::user("failed on purpose")) },
            )
            .command(
                CommandSpec::new("echo")
                    .arg(Arg::integer("n"))
                    .arg(Arg::text("word"))
                    .arg(Arg::boolean("flag"))
                    .arg(Arg::rest("rest").optional()),
                echo,
            )
            .command(CommandSpec::new("long").arg(Arg::integer("chars")), long)
            .command(CommandSpec::new("draft").arg(Arg::rest("text")), draft)
            .command(CommandSpec::new("roundtrip"), roundtrip)
            .command(CommandSpec::new("act").arg(Arg::rest("json")), act)
            .command(CommandSpec::new("counter"), counter)
            .command(CommandSpec::new("fetch").arg(Arg::text("url")), fetch)
            .command(
                CommandSpec::new("setting")
                    .arg(Arg::text("key"))
                    .arg(Arg::rest("value")),
                setting,
            )
            .command(CommandSpec::new("catalogue"), catalogue)
            .command(
                CommandSpec::new("vanish"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.delete_invocation().await?;
                    let channel = ctx.invocation().channel_id;
                    ctx.send(channel, "the command is gone").await?;
                    Ok(())
                },
            )
            .cron(
                "minutely",
                "* * * * *",
                true,
                |ctx: PluginContext<Basic>| async move {
                    ctx.data().cron_runs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("cron_runs"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.reply(ctx.data().cron_runs.load(Ordering::SeqCst).to_string())
                        .await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("pager"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.reply(Message::text("page 1").button(Page { page: 1 }.button("next")?))
                        .await?;
                    Ok(())
                },
            )
            .on_click(|ctx: ComponentContext<Basic>, page: Page| async move {
                let next = Page {
                    page: page.page + 1,
                };
                ctx.update(
                    Message::text(format!("page {}", next.page)).button(next.button("next")?),
                )
                .await
            })
            .command(
                CommandSpec::new("ring").arg(Arg::integer("n")),
                |ctx: CommandContext<Basic>| async move {
                    let n: i64 = ctx.arg("n")?;
                    let ran = ctx.emit_payload(&Ring { n }).await?;
                    ctx.reply(format!("{ran} hook(s) ran")).await?;
                    Ok(())
                },
            )
            .on_hook(0, |ctx: PluginContext<Basic>, ring: Ring| async move {
                if let Ok(mut hooks) = ctx.data().hooks.lock() {
                    hooks.push(format!("ring {}", ring.n));
                }
                Ok(())
            })
            .command(
                CommandSpec::new("deleted"),
                |ctx: CommandContext<Basic>| async move {
                    let deleted = ctx
                        .data()
                        .deleted
                        .lock()
                        .map(|d| d.clone())
                        .unwrap_or_default();
                    let ids: Vec<String> = deleted.iter().map(u64::to_string).collect();
                    ctx.reply(format!("deleted: {}", ids.join(","))).await?;
                    Ok(())
                },
            )
            .listen(
                EventKind::MessageDelete,
                |ctx: PluginContext<Basic>, event| async move {
                    if let Event::MessageDelete { message_id, .. } = event
                        && let Ok(mut deleted) = ctx.data().deleted.lock()
                    {
                        deleted.push(message_id.0);
                    }
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("watch"),
                |ctx: CommandContext<Basic>| async move {
                    if let Ok(mut watching) = ctx.data().watching.lock() {
                        *watching = Some(ctx.invocation().channel_id);
                    }
                    ctx.reply("watching").await?;
                    Ok(())
                },
            )
            .component("count:", count)
            .command(CommandSpec::new("upload"), upload)
            .command(CommandSpec::new("upload_limits"), upload_limits)
            .command(
                CommandSpec::new("menu").arg(Arg::rest("state").optional()),
                menu,
            )
            .component("menu:", menu_clicked)
            .command_with(
                CommandSpec::new("filecheck"),
                |ctx: CommandContext<Basic>, args: FileCheck| async move {
                    let other = args.other.map_or_else(|| "-".to_owned(), |f| f.filename);
                    ctx.reply(format!(
                        "{} {} {} | {other}",
                        args.file.filename,
                        args.file.size,
                        args.file.url.contains(&args.file.id.to_string())
                    ))
                    .await?;
                    Ok(())
                },
            )
            .command_with(
                CommandSpec::new("give"),
                |ctx: CommandContext<Basic>, args: Give| async move {
                    let note = args.note.unwrap_or_default();
                    ctx.reply(format!("{}|{}|{note}", args.to.0, args.amount))
                        .await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("owner_only").permission(Permission::Owner),
                |ctx: CommandContext<Basic>| async move {
                    ctx.reply("ok").await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("storage"),
                |ctx: CommandContext<Basic>| async move {
                    let text = match ctx.storage().get::<u64>(Scope::Global, "k").await {
                        Ok(_) => "ok".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    ctx.reply(text).await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("hooks"),
                |ctx: CommandContext<Basic>| async move {
                    let seen = ctx
                        .data()
                        .hooks
                        .lock()
                        .map(|h| h.join(","))
                        .unwrap_or_default();
                    ctx.reply(seen).await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("ticks"),
                |ctx: CommandContext<Basic>| async move {
                    ctx.reply(ctx.data().ticks.load(Ordering::SeqCst).to_string())
                        .await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("current_thread"),
                |ctx: CommandContext<Basic>| async move {
                    // Touches a thread-local of this library's own `std`, one with a
                    // destructor, on the plugin thread that runs it.
                    let name = std::thread::current().name().map(str::to_owned);
                    ctx.reply(name.unwrap_or_else(|| "unnamed".to_owned()))
                        .await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("listener_thread"),
                |ctx: CommandContext<Basic>| async move {
                    let thread = ctx
                        .data()
                        .listener_thread
                        .lock()
                        .map(|t| t.clone())
                        .unwrap_or_default();
                    ctx.reply(thread).await?;
                    Ok(())
                },
            )
            .listen(
                EventKind::MessageCreate,
                |ctx: PluginContext<Basic>, event| {
                    // The closure itself (before its future) runs where the host enters the
                    // plugin: `listener_thread` reports where. (The kernel's name of the thread:
                    // the plugin's own `std` does not know the names the host gave its threads.)
                    let thread = std::fs::read_to_string("/proc/thread-self/comm")
                        .map(|name| name.trim().to_owned())
                        .unwrap_or_default();
                    if let Ok(mut last) = ctx.data().listener_thread.lock() {
                        *last = thread;
                    }
                    async move {
                        if let Event::MessageCreate(message) = &event
                            && message.content == "ping-listener"
                        {
                            ctx.send(message.channel_id, "pong-listener").await?;
                            return Ok(());
                        }
                        report(ctx, event).await
                    }
                },
            )
            .hook(
                "fixture_event",
                5,
                |ctx: PluginContext<Basic>, event: HookEvent| async move {
                    if let Ok(mut hooks) = ctx.data().hooks.lock() {
                        hooks.push(event.payload.to_string());
                    }
                    Ok(())
                },
            )
            .hook(
                "fixture_fail",
                0,
                |_ctx: PluginContext<Basic>, _event: HookEvent| async {
                    Err(PluginError::internal("hook failed on purpose"))
                },
            )
            .command(
                CommandSpec::new("plan").arg(Arg::rest("cron")),
                |ctx: CommandContext<Basic>| async move {
                    // Asks the task scheduler for a hook task that reports back here.
                    let guild = ctx
                        .invocation()
                        .guild_id
                        .ok_or_else(|| PluginError::user("in a server"))?;
                    let cron: String = ctx.arg("cron")?;
                    let channel = ctx.invocation().channel_id.0;
                    let action = TaskAction::Hook {
                        event: "basic_planned".into(),
                        payload: serde_json::json!({ "channel": channel }),
                    };
                    let task = ScheduledTask::new(guild, "basic-planned", cron, action)
                        .missed(Missed::Skip);
                    match ctx.host().schedule(&task).await {
                        Ok(()) => ctx.reply("planned").await?,
                        Err(error) => ctx.reply(format!("not planned: {error}")).await?,
                    };
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("unplan"),
                |ctx: CommandContext<Basic>| async move {
                    let guild = ctx
                        .invocation()
                        .guild_id
                        .ok_or_else(|| PluginError::user("in a server"))?;
                    ctx.host().unschedule(guild, "basic-planned").await?;
                    ctx.reply("unplanned").await?;
                    Ok(())
                },
            )
            .hook(
                "basic_planned",
                0,
                |ctx: PluginContext<Basic>, event: HookEvent| async move {
                    let channel = event.payload["channel"].as_u64().unwrap_or_default();
                    let task = event.payload["task"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    ctx.send(ChannelId(channel), format!("planned task {task} ran"))
                        .await?;
                    Ok(())
                },
            )
            .every(
                "tick",
                Duration::from_millis(50),
                |ctx: PluginContext<Basic>| async move {
                    ctx.data().ticks.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            );
        for kind in WATCHED {
            plugin.listen(kind, report);
        }
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

async fn slow(ctx: CommandContext<Basic>) -> PluginResult {
    let ms: u64 = ctx.arg("ms")?;
    ctx.sleep(Duration::from_millis(ms)).await;
    ctx.reply(VERSION).await?;
    Ok(())
}

async fn echo(ctx: CommandContext<Basic>) -> PluginResult {
    let n: i64 = ctx.arg("n")?;
    let word: String = ctx.arg("word")?;
    let flag: bool = ctx.arg("flag")?;
    let rest: Option<String> = ctx.arg("rest")?;
    ctx.reply(format!("{n}|{word}|{flag}|{}", rest.unwrap_or_default()))
        .await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Basic);

/// A page button, its number carried in its custom id.
#[derive(serde::Serialize, serde::Deserialize)]
struct Page {
    page: u32,
}

impl zoryx_plugin_api::CustomId for Page {
    const PREFIX: &'static str = "page";
}

/// A typed framework event.
#[derive(serde::Serialize, serde::Deserialize)]
struct Ring {
    n: i64,
}

impl zoryx_plugin_api::HookPayload for Ring {
    const EVENT: &'static str = "fixture_ring";
}

fn ids<T: std::fmt::Display>(list: &[T]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One line for what an event carried, `None` for events `watch` does not report.
fn summary(event: &Event) -> Option<String> {
    Some(match event {
        Event::MessageCreate(m) if m.content.starts_with("inspect") => {
            let files: Vec<String> = m
                .attachments
                .iter()
                .map(|a| format!("{}:{}", a.filename, a.size))
                .collect();
            format!(
                "message {} files={} reply_to={} roles={}",
                m.id,
                files.join(","),
                m.reply_to.map(|r| r.to_string()).unwrap_or_default(),
                ids(&m.member_roles),
            )
        }
        Event::MessageUpdate(u) => format!(
            "message_update {} in {} content={} author={} edited={} files={}",
            u.message_id,
            u.channel_id,
            u.content.as_deref().unwrap_or("?"),
            u.author.as_ref().map(|a| a.name.as_str()).unwrap_or("?"),
            u.edited_at.is_some(),
            u.attachments.as_ref().map_or(0, Vec::len),
        ),
        Event::MessageDelete { message_id, .. } => format!("message_delete {message_id}"),
        Event::MessageBulkDelete {
            message_ids,
            channel_id,
            ..
        } => format!("message_bulk_delete {} in {channel_id}", ids(message_ids)),
        Event::ReactionAdd(r) | Event::ReactionRemove(r) => format!(
            "{} {} by {} on {} in {} member={}",
            event.kind().name(),
            r.emoji,
            r.user_id,
            r.message_id,
            r.channel_id,
            r.member.as_ref().map_or("-", |m| m.user.name.as_str()),
        ),
        Event::MemberUpdate(m) => format!(
            "member_update {} nick={} roles={}",
            m.user.name,
            m.nick.as_deref().unwrap_or("-"),
            ids(&m.roles),
        ),
        Event::VoiceStateUpdate(v) => {
            let what = match (v.joined(), v.left(), v.moved()) {
                (Some(channel), _, _) => format!("joined {channel}"),
                (_, Some(channel), _) => format!("left {channel}"),
                (_, _, Some((from, to))) => format!("moved {from}->{to}"),
                _ => "stayed".to_owned(),
            };
            format!("voice {} {what}", v.user_id)
        }
        Event::ChannelCreate(c) | Event::ChannelUpdate(c) | Event::ChannelDelete(c) => format!(
            "{} {} {} {:?} topic={}",
            event.kind().name(),
            c.id,
            c.name,
            c.kind,
            c.topic.as_deref().unwrap_or("-"),
        ),
        Event::RoleCreate { role, .. } | Event::RoleUpdate { role, .. } => format!(
            "{} {} {} permissions={}",
            event.kind().name(),
            role.id,
            role.name,
            role.permissions.0,
        ),
        Event::RoleDelete { role_id, .. } => format!("role_delete {role_id}"),
        Event::BanAdd { user, .. } | Event::BanRemove { user, .. } => {
            format!("{} {} {}", event.kind().name(), user.id, user.name)
        }
        _ => return None,
    })
}

/// Reports an event in the channel `watch` was asked in: `saw <summary>`.
async fn report(ctx: PluginContext<Basic>, event: Event) -> PluginResult {
    let channel = ctx.data().watching.lock().ok().and_then(|w| *w);
    if let (Some(channel), Some(line)) = (channel, summary(&event)) {
        ctx.send(channel, format!("saw {line}")).await?;
    }
    Ok(())
}

/// `draft TEXT`: replies "draft…", then edits that reply to TEXT (`N chars` for N characters).
/// A refused edit is reported in a second reply.
async fn draft(ctx: CommandContext<Basic>) -> PluginResult {
    let text: String = ctx.arg("text")?;
    let text = match text
        .strip_suffix(" chars")
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => "x".repeat(n),
        None => text,
    };
    let id = ctx.reply("draft…").await?;
    if let Err(error) = ctx.edit_reply(id, text.as_str()).await {
        ctx.followup(format!("refused: {error}")).await?;
    }
    Ok(())
}

/// `roundtrip`: sends a message to the channel, reads it, edits it, reads it again, deletes
/// it and tries to read it once more; replies with what it saw.
async fn roundtrip(ctx: CommandContext<Basic>) -> PluginResult {
    let channel = ctx.invocation().channel_id;
    let id = ctx.send(channel, "one").await?;
    let first = ctx.fetch_message(channel, id).await?;
    let edited = ctx.edit_message(channel, id, "two").await?;
    let again = ctx.fetch_message(channel, id).await?;
    let recent = ctx.fetch_messages(channel, 5, None).await?;
    ctx.react(channel, id, "👍").await.ok();
    ctx.delete_message(channel, id).await?;
    let gone = match ctx.fetch_message(channel, id).await {
        Ok(_) => "still there".to_owned(),
        Err(error) => error.to_string(),
    };
    ctx.reply(format!(
        "{}|{}|{}|{}|{}|{gone}",
        first.content,
        edited.content,
        again.content,
        again.edited_at.is_some(),
        recent.iter().any(|m| m.id == id),
    ))
    .await?;
    Ok(())
}

/// `act JSON`: carries out one raw action and replies with its outcome as JSON, or
/// `refused: <error>`.
async fn act(ctx: CommandContext<Basic>) -> PluginResult {
    let json: String = ctx.arg("json")?;
    let action: zoryx_plugin_api::Action = serde_json::from_str(&json)?;
    match ctx.act(&action).await {
        Ok(outcome) => ctx.reply(serde_json::to_string(&outcome)?).await?,
        Err(error) => ctx.reply(format!("refused: {error}")).await?,
    };
    Ok(())
}

/// `fetch URL`: a GET through the host; replies `STATUS BODY` or `refused: <error>`.
async fn fetch(ctx: CommandContext<Basic>) -> PluginResult {
    let url: String = ctx.arg("url")?;
    match ctx.http(zoryx_plugin_api::HttpRequest::get(url)).await {
        Ok(answer) => {
            ctx.reply(format!("{} {}", answer.status, answer.text()))
                .await?
        }
        Err(error) => ctx.reply(format!("refused: {error}")).await?,
    };
    Ok(())
}

/// `setting KEY VALUE`: sets one key of the plugin's config section (a JSON object); replies
/// the section as it is afterwards, read back from the host.
async fn setting(ctx: CommandContext<Basic>) -> PluginResult {
    let key: String = ctx.arg("key")?;
    let value: String = ctx.arg("value")?;
    let mut section: serde_json::Map<String, serde_json::Value> =
        ctx.plugin_config().await?.unwrap_or_default();
    section.insert(key, serde_json::Value::String(value));
    if let Err(error) = ctx.set_plugin_config(&section).await {
        ctx.reply(format!("refused: {error}")).await?;
        return Ok(());
    }
    let read: serde_json::Value = ctx.plugin_config().await?.unwrap_or_default();
    ctx.reply(read.to_string()).await?;
    Ok(())
}

/// `catalogue`: every command of the bot as `plugin:name`, sorted (`host` for built-ins).
async fn catalogue(ctx: CommandContext<Basic>) -> PluginResult {
    let mut names: Vec<String> = ctx
        .commands()
        .await?
        .into_iter()
        .map(|c| format!("{}:{}", c.plugin.as_deref().unwrap_or("host"), c.spec.name))
        .collect();
    names.sort();
    ctx.reply(names.join(" ")).await?;
    Ok(())
}

/// `counter`: a message with a button that counts its clicks by updating the message.
async fn counter(ctx: CommandContext<Basic>) -> PluginResult {
    ctx.reply(Message::text("count 0").button(Button::new("count:0", "+1")))
        .await?;
    Ok(())
}

async fn count(ctx: ComponentContext<Basic>) -> PluginResult {
    let n: u64 = ctx
        .interaction()
        .name
        .strip_prefix("count:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
        + 1;
    let message = Message::text(format!("count {n}"));
    let message = if n >= 3 {
        message.button(Button::new(format!("count:{n}"), "+1").disabled())
    } else {
        message.button(Button::new(format!("count:{n}"), "+1"))
    };
    ctx.update(message).await
}

/// `long N`: replies N characters of words. Refused past Discord's limit, it says why and sends
/// the text split into parts that fit.
async fn long(ctx: CommandContext<Basic>) -> PluginResult {
    let chars: i64 = ctx.arg("chars")?;
    let chars = usize::try_from(chars).unwrap_or(0);
    let text: String = "word ".repeat(chars / 5 + 1).chars().take(chars).collect();
    if let Err(error) = ctx.reply(text.as_str()).await {
        ctx.reply(format!("refused: {error}")).await?;
        for part in zoryx_plugin_api::split_text(&text, zoryx_plugin_api::limits::CONTENT) {
            ctx.reply(part).await?;
        }
    }
    Ok(())
}

/// `filecheck`'s arguments: files the user attaches.
#[derive(CommandArgs)]
struct FileCheck {
    /// The file to check.
    file: Attachment,
    /// Another one.
    other: Option<Attachment>,
}

/// `give`'s arguments, typed: declared from the fields, read into them.
#[derive(CommandArgs)]
struct Give {
    /// Who receives.
    to: UserId,
    /// How many.
    amount: i64,
    /// Why.
    #[arg(rest)]
    note: Option<String>,
}

/// `upload`: replies with a file, sends one to the channel (with a description), follows up
/// with one, edits the reply to carry another instead, then follows up with the three ids:
/// `ids REPLY SENT FOLLOWUP`.
async fn upload(ctx: CommandContext<Basic>) -> PluginResult {
    let channel = ctx.invocation().channel_id;
    let reply = ctx
        .reply(Message::text("a reply with a file").file("reply.txt", "reply contents"))
        .await?;
    let numbers = FileUpload::new("sent.csv", "n,square\n1,1\n2,4\n").description("squares");
    let sent = ctx
        .send(
            channel,
            Message::text("a message with a file").attach(numbers),
        )
        .await?;
    let followup = ctx
        .followup(Message::new().file("followup.bin", vec![0xA5_u8; 2048]))
        .await?;
    ctx.edit_reply(
        reply,
        Message::text("the reply, edited").file("edited.txt", "edited contents"),
    )
    .await?;
    ctx.followup(format!("ids {reply} {sent} {followup}"))
        .await?;
    Ok(())
}

/// `upload_limits`: a reply with eleven files, a send of 10 MiB and one byte, a followup with
/// an unnamed file; replies with the three refusals, one a line.
async fn upload_limits(ctx: CommandContext<Basic>) -> PluginResult {
    let channel = ctx.invocation().channel_id;
    let mut eleven = Message::text("eleven files");
    for n in 0..11 {
        eleven = eleven.file(format!("f{n}.txt"), "x");
    }
    let too_big = Message::new().file(
        "big.bin",
        vec![0_u8; zoryx_plugin_api::limits::FILES_TOTAL_BYTES + 1],
    );
    let unnamed = Message::new().file("", "x");
    let outcomes = [
        ctx.reply(eleven).await,
        ctx.send(channel, too_big).await,
        ctx.followup(unnamed).await,
    ];
    let lines: Vec<String> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(id) => format!("sent {id}"),
            Err(error) => format!("refused: {error}"),
        })
        .collect();
    ctx.reply(lines.join("\n")).await?;
    Ok(())
}

/// A menu to pick from and a button that closes it.
fn pick_menu(text: &str) -> Message {
    Message::text(text)
        .select(
            SelectMenu::new("menu:pick", "Pick one")
                .option("Apples", "a")
                .option("Bananas", "b"),
        )
        .button(Button::new("menu:close", "Close"))
}

/// `menu`: the menu; `menu closed`: the menu greyed out from the start; `menu expiring`: a
/// menu the host greys out after a second.
async fn menu(ctx: CommandContext<Basic>) -> PluginResult {
    let state: Option<String> = ctx.arg("state")?;
    let message = match state.as_deref() {
        Some("closed") => pick_menu("menu (closed)").disable_components(),
        Some("expiring") => {
            pick_menu("menu (for a second)").expire_components(Duration::from_secs(1))
        }
        _ => pick_menu("menu"),
    };
    ctx.reply(message).await?;
    Ok(())
}

/// A pick replies with what was picked over a greyed-out menu; `Close` greys out the menu's
/// own message in place.
async fn menu_clicked(ctx: ComponentContext<Basic>) -> PluginResult {
    match ctx.interaction().name.as_str() {
        "menu:close" => {
            ctx.update(pick_menu("menu closed").disable_components())
                .await
        }
        _ => {
            let picked = ctx.interaction().values.join(",");
            let done = SelectMenu::new("menu:done", "Picked")
                .option("Apples", "a")
                .option("Bananas", "b")
                .disabled();
            ctx.reply(Message::text(format!("picked {picked}")).select(done))
                .await?;
            Ok(())
        }
    }
}
