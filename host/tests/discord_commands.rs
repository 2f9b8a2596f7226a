//! Prefix commands end to end: the simulator over real sockets, real plugin libraries.

mod support;

use serde_json::Value;
use support::bot::{TestBot, text_of};
use zoryx_sim::SimEvent;

const HELLO: (&str, &str) = ("plugin-hello.so", "hello.so");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_a_plugin_command_get_replies() {
    let mut bot = TestBot::start(&[HELLO], "").await;
    let guest = bot.sim.guest().id;
    let pong = bot.ask(guest, "!ping").await;
    let text = text_of(&pong);
    assert!(text.contains("Pong"), "{text}");
    assert!(text.contains("REST round trip"), "{text}");
    let echo = bot.ask(guest, "!echo hello there, world").await;
    assert!(
        text_of(&echo).contains("hello there, world"),
        "{}",
        text_of(&echo)
    );
    let stats = text_of(&bot.ask(guest, "!stats").await);
    assert!(stats.contains("Plugins loaded: 1"), "{stats}");
    // Usage is counted once the handler has returned, which is just after its reply arrived.
    let guild = Some(zoryx_plugin_api::GuildId(bot.guild()));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while bot.settings.usage(guild, "echo") == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(bot.settings.usage(guild, "echo"), 1);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setprefix_changes_the_prefix_for_the_guild() {
    let mut bot = TestBot::start(&[HELLO], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    // A plain member may not change it.
    let refused = text_of(&bot.ask(guest, "!setprefix ?").await);
    assert!(
        refused.contains("You need Administrator permission to use `setprefix`"),
        "{refused}"
    );
    let changed = text_of(&bot.ask(owner, "!setprefix ?").await);
    assert!(changed.contains("`?`"), "{changed}");
    assert!(text_of(&bot.ask(guest, "?ping").await).contains("Pong"));
    bot.ask_unanswered(guest, "!ping", "?ping").await;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mention_prefix_follows_config_and_the_guild_toggle() {
    let mut bot = TestBot::start(&[HELLO], r#""allow_mention_prefix": false"#).await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let me = bot.sim.bot_user().id;
    bot.ask_unanswered(guest, &format!("<@{me}> ping"), "!ping")
        .await;
    let status = text_of(&bot.ask(owner, "!mentionprefix status").await);
    assert!(status.contains("disabled"), "{status}");
    let enabled = text_of(&bot.ask(owner, "!mentionprefix enable").await);
    assert!(enabled.contains("enabled"), "{enabled}");
    assert!(text_of(&bot.ask(guest, &format!("<@{me}> ping")).await).contains("Pong"));
    assert!(text_of(&bot.ask(guest, &format!("<@!{me}> echo hi")).await).contains("hi"));
    bot.ask(owner, "!mentionprefix disable").await;
    bot.ask_unanswered(guest, &format!("<@{me}> ping"), "!ping")
        .await;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_get_the_usage_embed() {
    let mut bot = TestBot::start(&[("basic-v1.so", "basic.so")], "").await;
    let guest = bot.sim.guest().id;
    let reply = bot.ask(guest, "!echo notanumber word yes").await;
    let embed = &reply["embeds"][0];
    assert_eq!(embed["title"], "Invalid arguments");
    // The usage once, in its own field (not again in the description).
    assert_eq!(embed["fields"].as_array().map(Vec::len), Some(1), "{embed}");
    assert_eq!(embed["fields"][0]["name"], "Usage");
    assert!(
        !embed["description"]
            .as_str()
            .unwrap_or_default()
            .contains("Usage"),
        "{embed}"
    );
    let text = text_of(&reply);
    assert!(
        text.contains("!echo <n: integer> <word: text> <flag: yes/no> [rest: text...]"),
        "{text}"
    );
    assert!(text.contains("notanumber"), "{text}");
    // A built-in's usage too.
    let reply = text_of(&bot.ask(bot.sim.owner().id, "!setprefix").await);
    assert!(reply.contains("!setprefix <prefix: text>"), "{reply}");
    // Failures and owner-only commands.
    let failed = text_of(&bot.ask(guest, "!fail").await);
    assert!(failed.contains("failed on purpose"), "{failed}");
    let denied = text_of(&bot.ask(guest, "!owner_only").await);
    assert!(denied.contains("bot owner"), "{denied}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_manage_extensions() {
    let mut bot = TestBot::start(&[], "").await;
    bot.host.install("plugin-hello.so", "hello.so");
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let refused = bot.ask(guest, "!load hello").await;
    assert_eq!(refused["embeds"][0]["title"], "Permission denied");
    assert!(
        bot.host.manager.table().plugins.is_empty(),
        "a refused load loaded"
    );
    bot.ask_unanswered(guest, "!echo hi", "!ping").await;

    let loaded = bot.ask(owner, "!load hello").await;
    assert_eq!(loaded["embeds"][0]["color"], 0x2ecc71, "{loaded}");
    assert!(text_of(&bot.ask(guest, "!echo hi").await).contains("hi"));
    let list = text_of(&bot.ask(owner, "!extensions").await);
    assert!(list.contains("hello v"), "{list}");
    let generation = bot
        .host
        .manager
        .info("hello")
        .await
        .and_then(|i| i.generation)
        .expect("live generation");
    assert!(
        list.contains(&format!("generation: {generation}")),
        "{list}"
    );
    let again = bot.ask(owner, "!load hello").await;
    assert_eq!(again["embeds"][0]["color"], 0xe74c3c, "{again}");
    let unloaded = text_of(&bot.ask(owner, "!unload hello").await);
    assert!(unloaded.contains("Unloaded `hello`"), "{unloaded}");
    bot.ask_unanswered(guest, "!echo hi", "!ping").await;

    // Isolated: the same plugin in a worker process, answering through Discord.
    let loaded = text_of(&bot.ask(owner, "!load hello --isolated").await);
    assert!(
        loaded.contains("Loaded `hello`, isolated (pid "),
        "{loaded}"
    );
    assert!(text_of(&bot.ask(guest, "!echo hi").await).contains("hi"));
    let list = text_of(&bot.ask(owner, "!extensions").await);
    assert!(list.contains("status: isolated (pid "), "{list}");
    let unknown = text_of(&bot.ask(owner, "!load hello --sideways").await);
    assert!(unknown.contains("--isolated"), "{unknown}");
    bot.shutdown().await;
}

/// A plugin whose `ping` clashes with the built-in.
#[derive(Default)]
struct Clash;

impl zoryx_plugin_api::Plugin for Clash {
    fn manifest() -> zoryx_plugin_api::Manifest {
        zoryx_plugin_api::Manifest::new("clash", "1.0.0")
    }

    fn register(plugin: &mut zoryx_plugin_api::Registrar<Self>) {
        use zoryx_plugin_api::{CommandContext, CommandSpec};
        plugin
            .command(
                CommandSpec::new("ping"),
                |ctx: CommandContext<Clash>| async move {
                    ctx.reply("plugin ping").await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("clashfree"),
                |ctx: CommandContext<Clash>| async move {
                    ctx.reply("plugin clashfree").await?;
                    Ok(())
                },
            );
    }

    async fn init(_host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult<Self> {
        Ok(Self)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_ins_shadow_plugin_commands_of_the_same_name() {
    let mut bot = TestBot::start(&[], "").await;
    bot.host
        .manager
        .load_in_process(zoryx_plugin_api::ffi::ModuleOf::<Clash>::DECLARATION.module)
        .await
        .expect("load in process");
    let guest = bot.sim.guest().id;
    assert_eq!(
        bot.ask(guest, "!clashfree").await["content"],
        "plugin clashfree"
    );
    let ping = bot.ask(guest, "!ping").await;
    assert!(text_of(&ping).contains("Pong"), "{ping}");
    // Registered once, as the built-in.
    let commands = bot.wait_registered("clashfree").await;
    let pings: Vec<_> = commands.iter().filter(|c| c["name"] == "ping").collect();
    assert_eq!(pings.len(), 1, "{commands:?}");
    assert_eq!(pings[0]["description"], "Gateway and REST latency");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_grant_levels_and_listeners_see_messages() {
    let mut bot = TestBot::start(&[("basic-v1.so", "basic.so")], "").await;
    let guest = bot.sim.guest().id;
    let guild = bot.guild();
    let refused = text_of(&bot.ask(guest, "!mentionprefix status").await);
    assert!(
        refused.contains("You need Administrator permission to use `mentionprefix`"),
        "{refused}"
    );
    let admin: u64 = bot
        .sim
        .roles(guild)
        .iter()
        .find(|r| r["name"] == "Admin")
        .and_then(|r| r["id"].as_str())
        .and_then(|id| id.parse().ok())
        .expect("the Admin role");
    bot.sim
        .add_member_role(guild, guest, admin)
        .expect("grant Admin");
    let status = text_of(&bot.ask(guest, "!mentionprefix status").await);
    assert!(status.contains("enabled"), "{status}");

    // A plugin listener hears messages and answers through the outbox.
    bot.sim
        .inject_message(bot.channel(), guest, "ping-listener")
        .await
        .expect("inject");
    bot.wait_event("the listener's message", |e| {
        matches!(e, zoryx_sim::SimEvent::BotMessage { reply_to: None, body, .. } if body["content"] == "pong-listener")
    })
    .await;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serversettings_shows_every_setting_of_the_guild() {
    let mut bot = TestBot::start(&[HELLO], "").await;
    let (owner, guest, guild) = (bot.sim.owner().id, bot.sim.guest().id, bot.guild());
    let refused = text_of(&bot.ask(guest, "!serversettings").await);
    assert!(
        refused.contains("You need Administrator permission"),
        "{refused}"
    );
    let before = text_of(&bot.ask(owner, "!serversettings").await);
    assert!(
        before.contains("Prefix: `!` (the default)")
            && before.contains("enabled (the default)")
            && before.contains("Role restrictions (`config`): None."),
        "{before}"
    );
    bot.ask(owner, "!setprefix ?").await;
    bot.ask(owner, "?mentionprefix disable").await;
    let mods = bot.sim.add_role(guild, "Mods", 0).expect("role");
    bot.ask(owner, "?config echo Mods").await;
    let after = text_of(&bot.ask(owner, "?serversettings").await);
    assert!(
        after.contains("Prefix: `?` (set here with `?setprefix`)")
            && after.contains("@mention prefix: disabled here")
            && after.contains(&format!("`echo`: <@&{mods}>"))
            && after.contains("`?command`"),
        "{after}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_counts_messages_users_and_the_top_commands() {
    let mut bot = TestBot::start_with_storage(&[HELLO]).await;
    let owner = bot.sim.owner().id;
    bot.ask(owner, "!echo hi").await;
    for _ in 0..3 {
        bot.ask(owner, "!ping").await;
    }
    bot.db
        .clone()
        .expect("sqlite")
        .flush()
        .await
        .expect("flush");
    let stats = text_of(&bot.ask(owner, "!stats").await);
    for wanted in [
        "Messages seen: 5",
        "Users:",
        "Shards: 1",
        "Gateway latency",
        "Top commands: 1. `ping` — 3\n2. `echo` — 1",
    ] {
        assert!(stats.contains(wanted), "`{wanted}` in {stats}");
    }
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botinfo_extensions_and_shardinfo_answer_with_what_the_bot_runs() {
    let mut bot = TestBot::start(&[HELLO], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    // `discordbotframework` and its aliases, for everyone.
    let info = text_of(&bot.ask(guest, "!botinfo").await);
    assert!(
        info.contains("Zoryx Discord Bot Framework")
            && info.contains(&format!("plugin API {}", zoryx_plugin_api::API_VERSION))
            && info.contains("Plugins (1 loaded)")
            && info.contains("hello 0.")
            && info.contains("serenity 0.12")
            && info.contains("rustc 1.")
            && info.contains(std::env::consts::OS),
        "{info}"
    );
    let again = text_of(&bot.ask(guest, "!framework").await);
    assert!(
        again.contains("on cooldown"),
        "one alias, one cooldown: {again}"
    );
    // `extensions` for everyone: names, versions, load times; the details for owners.
    let public = text_of(&bot.ask(guest, "!extensions").await);
    assert!(
        public.contains("Extensions (1 loaded)")
            && public.contains("**hello** v")
            && !public.contains("generation"),
        "{public}"
    );
    let detailed = text_of(&bot.ask(owner, "!exts").await);
    assert!(detailed.contains("generation: "), "{detailed}");
    // `shardinfo` (owners, as the seed): this server's shard and every shard.
    let refused = text_of(&bot.ask(guest, "!shardinfo").await);
    assert!(refused.contains("bot owners only"), "{refused}");
    let shards = text_of(&bot.ask(owner, "!shardinfo").await);
    assert!(
        shards.contains("This server's shard: Shard 0")
            && shards.contains("1 guilds")
            && shards.contains("Shards: 1 in all, 1 here")
            && shards.contains("`0` Connected"),
        "{shards}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_reload_suggests_extension_names_to_owners_and_sync_registers_now() {
    let mut bot = TestBot::start(&[HELLO], "").await;
    let (owner, guest, guild, channel) = (
        bot.sim.owner().id,
        bot.sim.guest().id,
        bot.guild(),
        bot.channel(),
    );
    bot.wait_registered("reload").await;
    let id = bot
        .sim
        .inject_autocomplete(guild, channel, owner, "reload", ("name", "he"), Value::Null)
        .await
        .expect("autocomplete");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(
        (kind, data["choices"].clone()),
        (8, serde_json::json!([{"name": "hello", "value": "hello"}]))
    );
    // The bot owners' commands are registered for administrators only: Discord offers
    // `reload` to no plain member, and to an administrator who is not a bot owner the host
    // suggests nothing.
    let registered = bot.sim.registered_commands(Some(guild));
    let reload = registered
        .iter()
        .find(|c| c["name"] == "reload")
        .expect("reload registered");
    assert_eq!(reload["default_member_permissions"], "0", "{reload}");
    let hidden = bot
        .sim
        .inject_autocomplete(guild, channel, guest, "reload", ("name", "he"), Value::Null)
        .await;
    assert!(hidden.is_err(), "not offered to members: {hidden:?}");
    let admins = bot.sim.add_role(guild, "Admins", 8).expect("role");
    bot.sim
        .add_member_role(guild, guest, admins)
        .expect("give role");
    let id = bot
        .sim
        .inject_autocomplete(guild, channel, guest, "reload", ("name", "he"), Value::Null)
        .await
        .expect("autocomplete");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(
        (kind, data["choices"].clone()),
        (8, serde_json::json!([])),
        "not for administrators who are not bot owners"
    );
    // The slash form runs the same handler.
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            owner,
            "reload",
            serde_json::json!([{"name": "name", "type": 3, "value": "hello"}]),
        )
        .await
        .expect("slash");
    let (_, data) = bot.callback(id).await;
    assert!(
        text_of(&data).contains("Reloaded") && text_of(&data).contains("`hello`: generation "),
        "{data}"
    );
    // `sync` registers now and lists what it registered.
    bot.sim.clear_requests();
    let synced = text_of(&bot.ask(owner, "!sync").await);
    assert!(
        synced.contains("Sync complete")
            && synced.contains(&format!("to the test guild {guild}"))
            && synced.contains("`reload`"),
        "{synced}"
    );
    assert!(
        bot.sim
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.ends_with(&format!("/guilds/{guild}/commands"))),
        "a bulk overwrite was sent"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autodelete_removes_error_replies_and_command_messages_per_guild() {
    let mut bot = TestBot::start_with_storage(&[HELLO]).await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let shown = text_of(&bot.ask(owner, "!autodelete").await);
    assert!(
        shown.contains("Error replies: after 10 s") && shown.contains("Command messages: never"),
        "the seed's defaults: {shown}"
    );
    let bad = text_of(&bot.ask(owner, "!autodelete errors 99999").await);
    assert!(bad.contains("from 1 to 3600"), "{bad}");
    let set = text_of(&bot.ask(owner, "!autodelete errors 1").await);
    assert!(set.contains("Error replies: after 1 s"), "{set}");
    let refused = text_of(&bot.ask(guest, "!autodelete errors 5").await);
    assert!(refused.contains("Administrator"), "{refused}");
    // A refusal is deleted after a second; a normal reply stays.
    let (_, reply, _) = bot.asked(guest, "!load hello").await;
    bot.wait_event(
        "the refusal deleted",
        |e| matches!(e, SimEvent::MessageDeleted { message_id, .. } if *message_id == reply),
    )
    .await;
    let (_, pong, _) = bot.asked(guest, "!ping").await;
    // The invoking message, once asked for.
    text_of(&bot.ask(owner, "!autodelete commands 1").await);
    let (asked, _, _) = bot.asked(guest, "!echo bye").await;
    bot.wait_event(
        "the command message deleted",
        |e| matches!(e, SimEvent::MessageDeleted { message_id, .. } if *message_id == asked),
    )
    .await;
    assert!(bot.sim.message(pong).is_some(), "a normal reply stays");
    let settings = text_of(&bot.ask(owner, "!serversettings").await);
    assert!(
        settings.contains("Error replies: after 1 s")
            && settings.contains("Command messages: after 1 s"),
        "{settings}"
    );
    // Kept in guild.db: `autodelete commands off` writes through, and reads back.
    text_of(&bot.ask(owner, "!autodelete commands off").await);
    let stored = bot
        .db
        .as_ref()
        .expect("storage")
        .databases()
        .guild_settings(bot.guild())
        .await
        .expect("read");
    assert_eq!(
        (stored.auto_delete.errors, stored.auto_delete.commands),
        (1, 0)
    );
    bot.shutdown().await;
}
