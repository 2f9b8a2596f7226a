//! The one command gate end to end, through the simulator: role grants per guild (`config`,
//! kept in guild.db) and everywhere (`command_permissions`), for built-ins and plugin commands,
//! prefix and slash alike; every refusal reason in words, and `whycant`.

mod support;

use serde_json::{Value, json};
use support::bot::{TestBot, text_of};

const BASIC: (&str, &str) = ("basic-v1.so", "basic.so");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_restricts_commands_to_roles_per_guild_and_keeps_it_on_disk() {
    let mut bot = TestBot::start_with_storage(&[BASIC]).await;
    let (owner, guest, guild) = (bot.sim.owner().id, bot.sim.guest().id, bot.guild());
    let helpers = bot.sim.add_role(guild, "Helpers", 0).expect("role");

    // Only the bot owners and the guild owner may set grants.
    let refused = text_of(&bot.ask(guest, "!config ping @Helpers").await);
    assert!(
        refused.contains("bot owners and the owner of this server"),
        "{refused}"
    );

    // A built-in and a plugin command restricted to Helpers.
    let granted = text_of(&bot.ask(owner, "!config ping Helpers").await);
    assert!(
        granted.contains("Role granted") && granted.contains(&format!("<@&{helpers}>")),
        "{granted}"
    );
    let granted = text_of(&bot.ask(owner, &format!("!config echo <@&{helpers}>")).await);
    assert!(granted.contains("Role granted"), "{granted}");
    let again = text_of(&bot.ask(owner, "!config echo helpers").await);
    assert!(again.contains("Already granted"), "{again}");

    let refused = text_of(&bot.ask(guest, "!ping").await);
    assert!(
        refused.contains("`ping` is restricted to these roles here")
            && refused.contains(&format!("<@&{helpers}>")),
        "{refused}"
    );
    let refused = text_of(&bot.ask(guest, "!echo 1 a yes").await);
    assert!(refused.contains("`echo` is restricted"), "{refused}");
    let why = text_of(&bot.ask(guest, "!whycant echo").await);
    assert!(
        why.contains("Why you cannot run it") && why.contains("restricted"),
        "{why}"
    );
    // The owner passes (bot owner and guild owner alike).
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));

    // The slash form is gated the same way.
    let id = bot
        .sim
        .inject_slash(guild, bot.channel(), guest, "ping", Value::Null)
        .await
        .expect("slash");
    let (_, data) = bot.callback(id).await;
    assert_eq!(data["flags"], 64, "ephemeral: {data}");
    assert!(text_of(&data).contains("`ping` is restricted"), "{data}");

    // Holding the role opens both.
    bot.sim
        .add_member_role(guild, guest, helpers)
        .expect("grant Helpers");
    assert!(text_of(&bot.ask(guest, "!ping").await).contains("Pong"));
    assert_eq!(text_of(&bot.ask(guest, "!echo 1 a yes").await), "1|a|true|");
    let why = text_of(&bot.ask(guest, "!whycant echo").await);
    assert!(why.contains("You can run it"), "{why}");

    // Listed, read back from guild.db once the cache is gone, and lifted.
    let list = text_of(&bot.ask(owner, "!config list").await);
    assert!(
        list.contains(&format!("`echo`: <@&{helpers}>"))
            && list.contains(&format!("`ping`: <@&{helpers}>")),
        "{list}"
    );
    let db = bot.db.clone().expect("sqlite settings");
    let stored = db
        .databases()
        .get_setting(guild, "command_roles")
        .await
        .expect("read")
        .expect("stored");
    let stored: Value = serde_json::from_str(&stored).expect("json");
    assert_eq!(stored, json!({"echo": [helpers], "ping": [helpers]}));
    bot.sim
        .remove_member_role(guild, guest, helpers)
        .expect("take Helpers");
    db.evict(zoryx_plugin_api::GuildId(guild));
    let refused = text_of(&bot.ask(guest, "!ping").await);
    assert!(
        refused.contains("restricted"),
        "read back from disk: {refused}"
    );

    let removed = text_of(&bot.ask(owner, "!config ping remove Helpers").await);
    assert!(
        removed.contains("no role restriction any more"),
        "{removed}"
    );
    let cleared = text_of(&bot.ask(owner, "!config echo none").await);
    assert!(cleared.contains("Restriction lifted"), "{cleared}");
    assert!(text_of(&bot.ask(guest, "!ping").await).contains("Pong"));
    assert_eq!(text_of(&bot.ask(guest, "!echo 2 b no").await), "2|b|false|");
    assert_eq!(
        db.databases()
            .get_setting(guild, "command_roles")
            .await
            .expect("read"),
        None,
        "no grants left: the row is gone"
    );

    // What cannot be granted, and what does not exist.
    let owner_only = text_of(&bot.ask(owner, "!config owner_only Helpers").await);
    assert!(owner_only.contains("cannot be granted"), "{owner_only}");
    let missing = text_of(&bot.ask(owner, "!config nosuch Helpers").await);
    assert!(
        missing.contains("There is no command `nosuch`"),
        "{missing}"
    );
    let no_role = text_of(&bot.ask(owner, "!config ping Nobody").await);
    assert!(no_role.contains("There is no role `Nobody`"), "{no_role}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guild_owner_configures_and_bot_owners_pass_without_roles() {
    // The operator owns the guild; the bot's owner is someone else.
    let sim_owner_is_not_bot_owner = |options: &mut zoryx_host::discord::DiscordOptions| {
        options.owners = vec![4242];
    };
    let mut bot = TestBot::start_tuned(
        zoryx_sim::SimConfig::default(),
        &[BASIC],
        "",
        sim_owner_is_not_bot_owner,
    )
    .await;
    let (guild_owner, guest, guild) = (bot.sim.owner().id, bot.sim.guest().id, bot.guild());
    bot.sim.add_role(guild, "Mods", 0).expect("role");
    let granted = text_of(&bot.ask(guild_owner, "!config ping Mods").await);
    assert!(granted.contains("Role granted"), "{granted}");
    // The guild owner is not locked out by their own grant; a member without the role is.
    assert!(text_of(&bot.ask(guild_owner, "!ping").await).contains("Pong"));
    assert!(text_of(&bot.ask(guest, "!ping").await).contains("restricted"));
    // Owner-only commands stay closed to the guild owner.
    let load = text_of(&bot.ask(guild_owner, "!load hello").await);
    assert!(load.contains("`load` is for the bot owners only"), "{load}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_permissions_in_config_restrict_everywhere() {
    // A role no member holds: the command is closed to everyone but the owners.
    let mut bot = TestBot::start(&[BASIC], r#""command_permissions": {"echo": [777]}"#).await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let refused = text_of(&bot.ask(guest, "!echo 1 a yes").await);
    assert!(refused.contains("<@&777>"), "{refused}");
    assert_eq!(text_of(&bot.ask(owner, "!echo 1 a yes").await), "1|a|true|");
    // A guild with its own grant adds to it.
    let list = text_of(&bot.ask(owner, "!config").await);
    assert!(
        list.contains("`echo`: <@&777>") && list.contains("config.json"),
        "{list}"
    );
    // In a DM, a restricted command is refused: roles are a server's.
    let (_, asked) = bot.sim.inject_dm(guest, "!echo 1 a yes").await.expect("dm");
    let reply = text_of(&bot.reply_to(asked).await);
    assert!(reply.contains("only works in servers"), "{reply}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whycant_names_each_reason() {
    // The guest asks `whycant` more often than the default cooldown (3 per 5 s) lets a member.
    let mut bot = TestBot::start(
        &[BASIC, ("interactions.so", "interactions.so")],
        r#""cooldowns": {"default_rate": 10}"#,
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let why = |reply: Value| text_of(&reply);
    let level = why(bot.ask(guest, "!whycant mentionprefix").await);
    assert!(
        level.contains("You need Administrator permission"),
        "{level}"
    );
    let owner_only = why(bot.ask(guest, "!whycant load").await);
    assert!(
        owner_only.contains("for the bot owners only"),
        "{owner_only}"
    );
    let discord = why(bot.ask(guest, "!whycant setup").await);
    assert!(discord.contains("Manage Server permission"), "{discord}");
    // A cooldown with its time left (`stats`: once per 10 s per member).
    assert!(why(bot.ask(guest, "!stats").await).contains("Bot statistics"));
    let again = why(bot.ask(guest, "!stats").await);
    assert!(
        again.contains("`stats` is on cooldown: try again in"),
        "{again}"
    );
    let cooldown = why(bot.ask(guest, "!whycant stats").await);
    assert!(
        cooldown.contains("On cooldown") && cooldown.contains("try again in"),
        "{cooldown}"
    );
    let fine = why(bot.ask(guest, "!whycant ping").await);
    assert!(fine.contains("You can run it"), "{fine}");
    let nothing = why(bot.ask(guest, "!whycant nosuch").await);
    assert!(
        nothing.contains("There is no command `nosuch`"),
        "{nothing}"
    );
    // From a DM: the servers-only rule.
    let (_, asked) = bot
        .sim
        .inject_dm(guest, "!whycant setup")
        .await
        .expect("dm");
    let dm = text_of(&bot.reply_to(asked).await);
    assert!(dm.contains("only works in servers"), "{dm}");
    // The owner passes where the guest does not.
    let owner_fine = why(bot.ask(owner, "!whycant load").await);
    assert!(owner_fine.contains("You can run it"), "{owner_fine}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cooldown_holds_commands_without_their_own_and_spares_owners() {
    // `cooldowns.default_rate` uses per `default_per` seconds, per user.
    let mut bot = TestBot::start(
        &[BASIC],
        r#""cooldowns": {"default_rate": 2, "default_per": 3600}"#,
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    for _ in 0..2 {
        assert_eq!(text_of(&bot.ask(guest, "!echo 1 a yes").await), "1|a|true|");
    }
    let held = text_of(&bot.ask(guest, "!echo 1 a yes").await);
    assert!(
        held.contains("`echo` is on cooldown: try again in"),
        "{held}"
    );
    // Per command: another command has its own window.
    assert!(text_of(&bot.ask(guest, "!ping").await).contains("Pong"));
    // Owners are not held by the default.
    for _ in 0..3 {
        assert_eq!(text_of(&bot.ask(owner, "!echo 1 a yes").await), "1|a|true|");
    }
    bot.shutdown().await;

    // 0 turns it off.
    let mut bot = TestBot::start(&[BASIC], r#""cooldowns": {"default_rate": 0}"#).await;
    let guest = bot.sim.guest().id;
    for _ in 0..4 {
        assert_eq!(text_of(&bot.ask(guest, "!echo 1 a yes").await), "1|a|true|");
    }
    bot.shutdown().await;
}
