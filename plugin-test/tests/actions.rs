//! Plugin-api 1.3 in-process: Discord requests are recorded and answered (scripted where a test
//! says so), call actions are recorded, and a bad cron schedule refuses the load.

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{Action, CallAction, Outcome, Role};
use zoryx_plugin_test::{PluginTest, TestError};

/// A moderation plugin: `mute USER` gives the "Muted" role (creating it if needed) and edits
/// its reply with the result.
struct Mod;

async fn mute(ctx: CommandContext<Mod>) -> PluginResult {
    let user: UserId = ctx.arg("user")?;
    let guild = ctx.guild(ctx.invocation().guild_id.ok_or("guild only")?);
    let working = ctx.reply("muting…").await?;
    let muted = match guild.roles().await?.into_iter().find(|r| r.name == "Muted") {
        Some(role) => role,
        None => guild.create_role(RoleSpec::named("Muted")).await?,
    };
    match guild.add_role(user, muted.id, "muted").await {
        Ok(()) => {
            ctx.edit_reply(working, format!("muted {}", user.mention()))
                .await?
        }
        Err(error) => {
            ctx.edit_reply(working, format!("could not: {error}"))
                .await?
        }
    }
    Ok(())
}

impl Plugin for Mod {
    fn manifest() -> Manifest {
        Manifest::new("moderation", "0.1.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(CommandSpec::new("mute").arg(Arg::user("user")), mute);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Mod)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_recorded_and_answers_scripted() {
    let bot = PluginTest::new::<Mod>().await.expect("load");
    // Reads need an answer from the test; writes succeed unless scripted otherwise.
    bot.answer_with(|action| match action {
        Action::Roles { .. } => Some(Ok(Outcome::Roles(vec![Role {
            id: RoleId(77),
            name: "Muted".into(),
            ..Role::default()
        }]))),
        _ => None,
    });
    let replies = bot.run("mute <@5>").await.expect("run");
    assert_eq!(replies[0].content.as_deref(), Some("muting…"));
    let actions = bot.actions();
    assert!(matches!(actions[0], Action::Roles { .. }), "{actions:?}");
    assert!(
        matches!(
            actions[1],
            Action::AddMemberRole {
                user: UserId(5),
                role: RoleId(77),
                ..
            }
        ),
        "{actions:?}"
    );
    let edits = bot.call_actions();
    assert!(
        matches!(&edits[0], CallAction::EditReply { reply: Some(MessageId(1)), edit } if edit.content.as_deref() == Some("muted <@5>")),
        "{edits:?}"
    );

    // A refusal the test scripts reaches the plugin as the error it would get from Discord.
    bot.answer_with(|action| match action {
        Action::Roles { .. } => Some(Ok(Outcome::Roles(Vec::new()))),
        Action::AddMemberRole { .. } => Some(Err(PluginError::MissingPermission {
            action: "give a member a role".into(),
            permission: "Manage Roles".into(),
        })),
        _ => None,
    });
    bot.run("mute <@5>").await.expect("run");
    assert!(matches!(bot.actions()[1], Action::CreateRole { .. }));
    let edits = bot.call_actions();
    assert!(
        matches!(&edits[0], CallAction::EditReply { edit, .. } if edit.content.as_deref() == Some("could not: the bot cannot give a member a role: it lacks the Manage Roles permission")),
        "{edits:?}"
    );
}

/// A plugin whose schedule does not parse.
struct BadCron;

impl Plugin for BadCron {
    fn manifest() -> Manifest {
        Manifest::new("badcron", "0.1.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.cron(
            "nightly",
            "0 25 * * *",
            false,
            |_ctx: PluginContext<BadCron>| async { Ok(()) },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(BadCron)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_cron_schedule_refuses_the_load() {
    let error = PluginTest::new::<BadCron>().await.expect_err("refused");
    let TestError::Load(message) = error else {
        panic!("{error:?}");
    };
    assert!(
        message.contains("task `nightly`: cron `0 25 * * *`: hour: `25` is outside 0-23"),
        "{message}"
    );
}

/// An info plugin: `about` replies with the bot's statistics.
struct About;

impl Plugin for About {
    fn manifest() -> Manifest {
        Manifest::new("about", "0.1.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new("about"),
            |ctx: CommandContext<About>| async move {
                let stats = ctx.stats().await?;
                ctx.reply(format!(
                    "{} guilds, {} users, {} plugins, {} commands, connected: {}",
                    stats.guilds,
                    stats.users,
                    stats.plugins_loaded,
                    stats.commands,
                    stats.connected
                ))
                .await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(About)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn statistics_are_the_hosts_with_the_discord_side_a_test_sets() {
    let bot = PluginTest::new::<About>().await.expect("load");
    let replies = bot.run("about").await.expect("run");
    assert_eq!(
        replies[0].content.as_deref(),
        Some("0 guilds, 0 users, 1 plugins, 1 commands, connected: false")
    );
    let mut stats = zoryx_plugin_api::BotStats::default();
    stats.guilds = 12;
    stats.users = 3400;
    stats.connected = true;
    bot.set_stats(stats);
    let replies = bot.run("about").await.expect("run");
    assert_eq!(
        replies[0].content.as_deref(),
        Some("12 guilds, 3400 users, 1 plugins, 1 commands, connected: true")
    );
}

/// A plugin taking a file: `size FILE` replies with its name and size.
struct Sizer;

impl Plugin for Sizer {
    fn manifest() -> Manifest {
        Manifest::new("sizer", "0.1.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new("size").arg(Arg::attachment("file")),
            |ctx: CommandContext<Sizer>| async move {
                let file: Attachment = ctx.arg("file")?;
                ctx.reply(format!("{}: {} bytes", file.filename, file.size))
                    .await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Sizer)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn file_arguments_take_the_attached_files() {
    let bot = PluginTest::new::<Sizer>().await.expect("load");
    let file = Attachment {
        id: 5,
        filename: "log.txt".into(),
        size: 300,
        ..Attachment::default()
    };
    let replies = bot.run_with_files("size", vec![file]).await.expect("run");
    assert_eq!(replies[0].content.as_deref(), Some("log.txt: 300 bytes"));
    match bot.run("size").await {
        Err(TestError::BadArguments { error, usage }) => {
            assert_eq!(error, "attach a file for `file`");
            assert_eq!(usage, "!size <file: file>");
        }
        other => panic!("expected a missing file: {other:?}"),
    }
}

/// Reports with files (plugin-api 1.3): `report` replies with a file and sends one to the
/// channel; `flood` replies with eleven; its menu closes itself greyed out.
struct Reports;

async fn report(ctx: CommandContext<Reports>) -> PluginResult {
    let csv = FileUpload::new("report.csv", "day,count\nmon,3\n").description("Monday");
    ctx.reply(Message::text("today's report").attach(csv))
        .await?;
    ctx.send(
        ctx.invocation().channel_id,
        Message::new().file("raw.bin", vec![1_u8, 2, 3]),
    )
    .await?;
    ctx.reply(
        Message::text("pick")
            .select(SelectMenu::new("report:pick", "Pick").option("A", "a"))
            .button(Button::new("report:close", "Close")),
    )
    .await?;
    Ok(())
}

async fn flood(ctx: CommandContext<Reports>) -> PluginResult {
    let mut message = Message::text("too many");
    for n in 0..11 {
        message = message.file(format!("{n}.txt"), "x");
    }
    ctx.reply(message).await?;
    Ok(())
}

impl Plugin for Reports {
    fn manifest() -> Manifest {
        Manifest::new("reports", "0.1.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(CommandSpec::new("report"), report)
            .command(CommandSpec::new("flood"), flood)
            .component(
                "report:close",
                |ctx: ComponentContext<Reports>| async move {
                    let menu = Message::text("closed")
                        .select(SelectMenu::new("report:pick", "Pick").option("A", "a"))
                        .button(Button::new("report:close", "Close"));
                    ctx.update(menu.disable_components()).await
                },
            );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Reports)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn files_and_disabled_menus_are_recorded() {
    let bot = PluginTest::new::<Reports>().await.expect("load");
    let replies = bot.run("report").await.expect("run");
    assert_eq!(replies.len(), 2);
    let file = &replies[0].files[0];
    assert_eq!(
        (
            file.name.as_str(),
            file.bytes.as_slice(),
            file.description.as_deref()
        ),
        ("report.csv", &b"day,count\nmon,3\n"[..], Some("Monday"))
    );
    let sent = bot.sent();
    assert_eq!(sent.len(), 1, "a send with files is a sent message");
    assert_eq!(sent[0].1.files[0].bytes, [1, 2, 3]);

    bot.click("report:close", &[], zoryx_plugin_test::tester())
        .await
        .expect("click");
    let updated = bot.call_actions().into_iter().find_map(|a| match a {
        CallAction::Update { message } => Some(message),
        _ => None,
    });
    let updated = updated.expect("the menu was updated");
    assert!(updated.components.iter().all(|c| match c {
        zoryx_plugin_api::Component::Button(b) => b.disabled,
        zoryx_plugin_api::Component::Select(s) => s.disabled,
    }));

    // Past Discord's limits the reply is refused before anything is sent, naming the limit.
    match bot.run("flood").await {
        Err(TestError::Failed(error)) => assert_eq!(
            error.to_string(),
            "host: message not sent: files has 11 files; Discord allows at most 10"
        ),
        other => panic!("expected the limit: {other:?}"),
    }
}
