//! The chat automations of the first-party `automations` plugin through the simulator, made
//! with the real `!hooks create`: reaction roles (given, taken, one of a set, custom emojis),
//! the message filter (words, invites, caps, mentions; delete, warn, time out, log) and XP
//! leveling (a cooldown on the host's clock, level-ups, rewards, `rank` and `leaderboard`).
//! A permission the bot lacks — or a role above its own — turns the automation off and says so
//! in the alert channel; the common conditions (`except_channels`) apply.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::Mutex;
use zoryx_host::clock;
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const AUTOMATIONS: (&str, &str) = ("plugin-automations.so", "automations.so");

/// 2026-11-30 12:00 UTC (before the simulator's wall clock: time-outs stay within 28 days).
const NOON: u64 = 1_795_996_800 + 12 * 3600;

/// Every permission, and the ones the tests take away from the bot's role.
const ALL: u64 = (1 << 51) - 1;
const ADMINISTRATOR: u64 = 1 << 3;
const MANAGE_MESSAGES: u64 = 1 << 13;
const MANAGE_ROLES: u64 = 1 << 28;
const MODERATE_MEMBERS: u64 = 1 << 40;

/// The clock is the process's and time-outs read it: one test at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// Runs `!hooks create …` as the owner; the answer's text, checked to be a creation.
async fn create(bot: &mut TestBot, line: &str) -> String {
    let owner = bot.sim.owner().id;
    let body = bot.ask(owner, &format!("!hooks create {line}")).await;
    let text = text_of(&body);
    assert!(text.contains("Automation created"), "{line}: {body}");
    text
}

/// The text of `/hooks info NAME`.
///
/// Slash commands (here and for `toggle`) post no message: no event of theirs reaches the
/// automations while the server's list of them changes.
async fn info(bot: &mut TestBot, name: &str) -> String {
    hooks(bot, "info", name).await
}

/// `/hooks SUBCOMMAND automation:NAME` as the owner; the answer's text.
async fn hooks(bot: &mut TestBot, subcommand: &str, name: &str) -> String {
    let owner = bot.sim.owner().id;
    let options = json!([{"name": "automation", "type": 3, "value": name}]);
    text_of(&slash(bot, owner, &format!("hooks {subcommand}"), options).await)
}

/// Asks `/hooks info NAME` until it shows `needle` (counters are saved after a run).
async fn info_shows(bot: &mut TestBot, name: &str, needle: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = info(bot, name).await;
        if text.contains(needle) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{name}` never showed {needle}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Gives the bot's role every permission but `without` (and Administrator, unless
/// `without` is 0).
fn bot_permissions(bot: &TestBot, without: u64) {
    let guild = bot.guild();
    let role = bot.sim.bot_role(guild).expect("the bot's role");
    let permissions = if without == 0 {
        ALL
    } else {
        ALL & !ADMINISTRATOR & !without
    };
    bot.sim
        .set_role_permissions(guild, role, permissions)
        .expect("permissions");
}

/// Waits (10 s at most) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lets events already delivered finish (after a later one was seen handled).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

fn has_role(bot: &TestBot, user: u64, role: u64) -> bool {
    bot.sim
        .member(bot.guild(), user)
        .and_then(|m| m["roles"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .any(|r| r.as_str() == Some(role.to_string().as_str()))
}

fn exists(bot: &TestBot, message: u64) -> bool {
    bot.sim.message(message).is_some()
}

/// Waits for the bot's next message in `channel`; its body.
async fn posted_in(bot: &mut TestBot, channel: u64, what: &str) -> Value {
    match bot
        .wait_event(
            what,
            |e| matches!(e, SimEvent::BotMessage { channel_id, .. } if *channel_id == channel),
        )
        .await
    {
        SimEvent::BotMessage { body, .. } => body,
        _ => unreachable!("matched a BotMessage"),
    }
}

/// The value of the field `name` of a message's first embed.
fn field(body: &Value, name: &str) -> String {
    body["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name}: {body}"))
        .to_owned()
}

/// The Unix seconds of an ISO 8601 UTC timestamp (`2026-12-01T19:33:08.000+00:00`).
fn unix_seconds(iso: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| -> i64 {
        iso.get(range)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a timestamp: {iso}"))
    };
    let (y, m, d) = (number(0..4), number(5..7), number(8..10));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + number(11..13) * 3600 + number(14..16) * 60 + number(17..19)
}

/// A new member of the default guild.
fn member(bot: &TestBot, name: &str) -> u64 {
    let user = bot.sim.add_user(name).id;
    bot.sim.add_member(bot.guild(), user).expect("member");
    user
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaction_roles_give_take_keep_one_of_the_set_and_stop_without_manage_roles() {
    let _serial = SERIAL.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    bot.wait_registered("hooks").await;
    let (guild, general) = (bot.guild(), bot.channel());
    let guest = bot.sim.guest().id;
    let members = bot.sim.add_role(guild, "Member", 0).expect("role");
    let gamers = bot.sim.add_role(guild, "Gamer", 0).expect("role");
    let artists = bot.sim.add_role(guild, "Artist", 0).expect("role");
    let party = bot.sim.add_emoji(guild, "party").expect("emoji");

    // Refused before anything is posted: a role that does not exist.
    let owner = bot.sim.owner().id;
    let refused = text_of(
        &bot.ask(
            owner,
            "!hooks create reaction_roles nope channel=#general roles=\"👍 @Nobody\"",
        )
        .await,
    );
    assert!(refused.contains("no role `Nobody`"), "{refused}");

    // The custom emoji named by its name alone is found on the server.
    let created = create(
        &mut bot,
        "reaction_roles picker channel=#general roles=\"👍 @Member, 🎮 @Gamer, :party: @Artist\" \
         unique=yes text=\"Pick one\"",
    )
    .await;
    assert!(created.contains("Members react on"), "{created}");
    let bot_id = bot.sim.bot_user().id;
    let panel = bot
        .sim
        .messages(general)
        .into_iter()
        .find(|m| m.author_id == bot_id && m.payload["embeds"][0]["title"] == "Roles")
        .expect("the roles message");
    let description = panel.payload["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(description.starts_with("Pick one"), "{description}");
    assert!(
        description.contains(&format!("👍 → <@&{members}>"))
            && description.contains(&format!("<:party:{party}> → <@&{artists}>")),
        "{description}"
    );
    let reactions = panel.payload["reactions"].as_array().expect("reactions");
    assert_eq!(reactions.len(), 3, "{reactions:?}");
    assert!(reactions.iter().all(|r| r["me"] == true && r["count"] == 1));
    // The message's id and the emoji's id are kept in the settings.
    let details = info(&mut bot, "picker").await;
    assert!(details.contains(&panel.id.to_string()), "{details}");
    assert!(
        details.contains(&format!("party:{party} → <@&{artists}>")),
        "{details}"
    );

    // React: the role. Another emoji of the set: its role instead, the first reaction gone.
    bot.sim
        .inject_reaction(general, panel.id, guest, "👍")
        .await
        .expect("react");
    until("the Member role", || has_role(&bot, guest, members)).await;
    bot.sim
        .inject_reaction(general, panel.id, guest, "🎮")
        .await
        .expect("react");
    bot.wait_event("the 👍 of the guest taken back", |e| {
        matches!(e, SimEvent::BotReactionRemoved { emoji, user_id, .. }
            if emoji == "👍" && *user_id == guest)
    })
    .await;
    assert!(has_role(&bot, guest, gamers));
    assert!(!has_role(&bot, guest, members));

    // The custom emoji, by its `name:id`.
    bot.sim
        .inject_reaction(general, panel.id, guest, &format!("party:{party}"))
        .await
        .expect("react");
    until("the Artist role", || has_role(&bot, guest, artists)).await;
    until("the Gamer role taken", || !has_role(&bot, guest, gamers)).await;

    // Taking the reaction back takes the role.
    bot.sim
        .inject_unreaction(general, panel.id, guest, &format!("party:{party}"))
        .await
        .expect("unreact");
    until("the Artist role taken", || !has_role(&bot, guest, artists)).await;

    // Bots get nothing; another member does.
    let robot = bot.sim.add_bot_user("robot").id;
    bot.sim.add_member(guild, robot).expect("member");
    bot.sim
        .inject_reaction(general, panel.id, robot, "👍")
        .await
        .expect("react");
    let ada = member(&bot, "ada");
    bot.sim
        .inject_reaction(general, panel.id, ada, "👍")
        .await
        .expect("react");
    until("ada's Member role", || has_role(&bot, ada, members)).await;
    settle().await;
    assert!(!has_role(&bot, robot, members), "a bot got a role");

    // Without Manage Roles the automation turns itself off and says why in the alert channel
    // (the system channel, #general).
    bot_permissions(&bot, MANAGE_ROLES);
    bot.sim
        .inject_reaction(general, panel.id, ada, "🎮")
        .await
        .expect("react");
    let alert = bot.nth_alert("Automation `picker` turned off", 1).await;
    assert!(alert.contains("Manage Roles"), "{alert}");
    assert!(!has_role(&bot, ada, gamers));
    assert!(info(&mut bot, "picker").await.contains("⚪ off"));

    // Given back and turned on again, the same message works (no second one is posted).
    bot_permissions(&bot, 0);
    let on = hooks(&mut bot, "toggle", "picker").await;
    assert!(on.contains("is on"), "{on}");
    // (A member taking a reaction back and giving it again at once may be seen in either
    // order: events are handled concurrently. Another member shows it works again.)
    let bob = member(&bot, "bob");
    bot.sim
        .inject_reaction(general, panel.id, bob, "🎮")
        .await
        .expect("react");
    until("bob's Gamer role", || has_role(&bot, bob, gamers)).await;
    let panels = bot
        .sim
        .messages(general)
        .into_iter()
        .filter(|m| m.author_id == bot_id && m.payload["embeds"][0]["title"] == "Roles")
        .count();
    assert_eq!(panels, 1);
    let details = info(&mut bot, "picker").await;
    assert!(
        details.contains("🟢 on") && details.contains("Failures: 1"),
        "{details}"
    );

    // `remove=no`: the role stays when the reaction goes; an existing message by its link.
    let voters = bot.sim.add_role(guild, "Voter", 0).expect("role");
    let own = bot
        .sim
        .inject_message(general, owner, "Vote with ✅")
        .await
        .expect("post");
    create(
        &mut bot,
        &format!(
            "reaction_roles keeper channel=#general roles=\"✅ @Voter\" remove=no \
             message=https://discord.com/channels/{guild}/{general}/{own}"
        ),
    )
    .await;
    until("the bot's ✅", || {
        bot.sim
            .message(own)
            .is_some_and(|m| m.payload["reactions"][0]["me"] == true)
    })
    .await;
    bot.sim
        .inject_reaction(general, own, ada, "✅")
        .await
        .expect("react");
    until("ada's Voter role", || has_role(&bot, ada, voters)).await;
    bot.sim
        .inject_unreaction(general, own, ada, "✅")
        .await
        .expect("unreact");
    // A reaction on the picker as a marker that the removal was seen.
    bot.sim
        .inject_reaction(general, panel.id, ada, &format!("party:{party}"))
        .await
        .expect("react");
    until("ada's Artist role", || has_role(&bot, ada, artists)).await;
    settle().await;
    assert!(has_role(&bot, ada, voters), "remove=no took the role");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_deletes_warns_times_out_and_logs_and_stops_without_its_permissions() {
    let _serial = SERIAL.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    bot.wait_registered("hooks").await;
    let (guild, general) = (bot.guild(), bot.channel());
    let commands = bot.sim.commands_channel();
    let log = bot.sim.add_channel(guild, "mod-log").expect("channel");
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    create(
        &mut bot,
        "filter guard words=\"free nitro, darn\" invites=yes caps=70 caps_min=8 mentions=3 \
         action=warn log=#mod-log except_channels=#bot-commands",
    )
    .await;

    // A blocked phrase, whatever its case and spacing: deleted, the author warned, the log told.
    let spam = bot
        .sim
        .inject_message(general, guest, "get FREE   nitro today")
        .await
        .expect("post");
    let warning = posted_in(&mut bot, general, "the warning").await;
    assert_eq!(
        warning["content"],
        format!("<@{guest}>, your message was removed: it contains a blocked word.")
    );
    until("the message deleted", || !exists(&bot, spam)).await;
    let logged = posted_in(&mut bot, log, "the log").await;
    assert_eq!(logged["embeds"][0]["title"], "Message filtered", "{logged}");
    assert_eq!(field(&logged, "Member"), format!("<@{guest}> ({guest})"));
    assert_eq!(field(&logged, "Channel"), format!("<#{general}>"));
    assert_eq!(field(&logged, "Reason"), "it contains a blocked word");
    assert_eq!(field(&logged, "Content"), "get FREE   nitro today");

    // Inside a longer word, in a skipped channel, from an administrator or a bot: left alone.
    let fine = bot
        .sim
        .inject_message(general, guest, "a darned fine day")
        .await
        .expect("post");
    let skipped = bot
        .sim
        .inject_message(commands, guest, "darn discord.gg/zoryx")
        .await
        .expect("post");
    let admin = bot
        .sim
        .inject_message(general, owner, "darn it")
        .await
        .expect("post");
    let robot = bot.sim.add_bot_user("robot").id;
    bot.sim.add_member(guild, robot).expect("member");
    let robotic = bot
        .sim
        .inject_message(general, robot, "darn")
        .await
        .expect("post");
    // An invite link is caught (and marks that the messages before it were seen).
    let invite = bot
        .sim
        .inject_message(general, guest, "join https://discord.gg/zoryx now")
        .await
        .expect("post");
    until("the invite deleted", || !exists(&bot, invite)).await;
    let logged = posted_in(&mut bot, log, "the invite's log").await;
    assert_eq!(field(&logged, "Reason"), "invite links are not allowed");
    settle().await;
    for (what, id) in [
        ("a longer word", fine),
        ("a skipped channel", skipped),
        ("an administrator", admin),
        ("a bot", robotic),
    ] {
        assert!(exists(&bot, id), "{what}: deleted");
    }

    // Capitals and mentions over their limits; a long message is cut in the log.
    let loud = bot
        .sim
        .inject_message(general, guest, "WHY IS EVERYTHING SO LOUD")
        .await
        .expect("post");
    let logged = posted_in(&mut bot, log, "the caps' log").await;
    assert_eq!(field(&logged, "Reason"), "too many capitals (100%)");
    until("the loud one deleted", || !exists(&bot, loud)).await;
    let pings = bot
        .sim
        .inject_message(general, guest, "<@1> <@!2> <@3> <@&4> <@1>")
        .await
        .expect("post");
    let logged = posted_in(&mut bot, log, "the mentions' log").await;
    assert_eq!(field(&logged, "Reason"), "too many mentions (4, at most 3)");
    until("the pings deleted", || !exists(&bot, pings)).await;
    let long = format!("darn {}", "z".repeat(1500));
    bot.sim
        .inject_message(general, guest, &long)
        .await
        .expect("post");
    let logged = posted_in(&mut bot, log, "the long one's log").await;
    let content = field(&logged, "Content");
    assert_eq!(content.chars().count(), 1001, "{content}");
    assert!(content.starts_with("darn zzz") && content.ends_with('…'));
    // Counted once each run is over.
    info_shows(&mut bot, "guard", "Runs: 5").await;

    // A pattern that times the author out, with its own warning.
    create(
        &mut bot,
        "filter mute pattern=sp[a4]m+ action=timeout timeout=5 warning=\"{mention} muted: {reason}\"",
    )
    .await;
    let mallory = member(&bot, "mallory");
    let spam = bot
        .sim
        .inject_message(general, mallory, "SP4MMM everywhere")
        .await
        .expect("post");
    let warning = posted_in(&mut bot, general, "the mute warning").await;
    assert_eq!(
        warning["content"],
        format!("<@{mallory}> muted: it matches a blocked pattern")
    );
    until("the spam deleted", || !exists(&bot, spam)).await;
    until("mallory timed out", || {
        bot.sim
            .member(guild, mallory)
            .is_some_and(|m| m["communication_disabled_until"].is_string())
    })
    .await;
    let until_text =
        bot.sim.member(guild, mallory).expect("member")["communication_disabled_until"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    let expected = i64::try_from(clock::now()).expect("secs") + 5 * 60;
    assert!(
        (unix_seconds(&until_text) - expected).abs() < 60,
        "{until_text} is not five minutes from now"
    );

    // Without Manage Messages, the guard cannot delete: it turns itself off and says so.
    bot_permissions(&bot, MANAGE_MESSAGES);
    let eve = member(&bot, "eve");
    let kept = bot
        .sim
        .inject_message(general, eve, "darn")
        .await
        .expect("post");
    let alert = bot.nth_alert("Automation `guard` turned off", 1).await;
    assert!(alert.contains("Manage Messages"), "{alert}");
    assert!(exists(&bot, kept));
    assert!(info(&mut bot, "guard").await.contains("⚪ off"));

    // Without Moderate Members ("Timeout Members" to the host), the mute deletes and warns,
    // then cannot time out: off too.
    bot_permissions(&bot, MODERATE_MEMBERS);
    let spam = bot
        .sim
        .inject_message(general, eve, "spam now")
        .await
        .expect("post");
    let alert = bot.nth_alert("Automation `mute` turned off", 1).await;
    assert!(alert.contains("Timeout Members"), "{alert}");
    assert!(!exists(&bot, spam));
    assert!(
        bot.sim.member(guild, eve).expect("member")["communication_disabled_until"].is_null(),
        "eve was timed out"
    );
    // Off, it leaves messages alone.
    bot_permissions(&bot, 0);
    let later = bot
        .sim
        .inject_message(general, eve, "spam again")
        .await
        .expect("post");
    info(&mut bot, "mute").await;
    settle().await;
    assert!(exists(&bot, later));
    bot.shutdown().await;
}

/// Runs `/name` with `options` as `user` in #general; the answer.
async fn slash(bot: &mut TestBot, user: u64, name: &str, options: Value) -> Value {
    let id = bot
        .sim
        .inject_slash(bot.guild(), bot.channel(), user, name, options)
        .await
        .expect("slash");
    let (kind, body) = bot.callback(id).await;
    assert_eq!(kind, 4, "{body}");
    body
}

/// (xp, level, messages) of `user` in the guild's levels table.
async fn score(bot: &TestBot, user: u64) -> Option<(i64, i64, i64)> {
    let path = bot
        .host
        .dir
        .path()
        .join(format!("data/{}/guild.db", bot.guild()));
    if !path.exists() {
        return None;
    }
    let pool = support::db::inspect(&path).await;
    let row = sqlx::query("SELECT xp, level, messages FROM p_automations__levels WHERE user = ?1")
        .bind(i64::try_from(user).expect("id"))
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten();
    pool.close().await;
    row.map(|r| (r.get("xp"), r.get("level"), r.get("messages")))
}

/// Waits until `user` has `messages` messages counted; their (xp, level).
async fn counted(bot: &TestBot, user: u64, messages: i64) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = score(bot, user).await;
        if let Some((xp, level, n)) = now
            && n >= messages
        {
            assert_eq!(n, messages, "more messages counted than posted");
            return (xp, level);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "message {messages} of {user} was never counted: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leveling_earns_xp_per_cooldown_levels_up_rewards_and_ranks() {
    let _serial = SERIAL.lock().await;
    clock::set_manual(NOON);
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    bot.wait_registered("rank").await;
    let (guild, general) = (bot.guild(), bot.channel());
    let guest = bot.sim.guest().id;
    let commands = bot.sim.commands_channel();
    let levels = bot.sim.add_channel(guild, "levels").expect("channel");

    // Before any leveling automation, the commands say so.
    let none = slash(&mut bot, guest, "rank", Value::Null).await;
    assert!(text_of(&none).contains("no XP leveling"), "{none}");

    let regular = bot.sim.add_role(guild, "Regular", 0).expect("role");
    let veteran = bot.sim.add_role(guild, "Veteran", 0).expect("role");
    let legend = bot.sim.add_role(guild, "Legend", 0).expect("role");
    // Above the bot's own role: out of its reach.
    let top = u32::try_from(bot.sim.roles(guild).len()).expect("count");
    bot.sim
        .set_role_position(guild, legend, top)
        .expect("position");
    // Made with the slash command: a prefix command would be a message of the owner's.
    let owner = bot.sim.owner().id;
    let created = slash(
        &mut bot,
        owner,
        "hooks create",
        json!([
            {"name": "template", "type": 3, "value": "leveling"},
            {"name": "name", "type": 3, "value": "xp"},
            {"name": "settings", "type": 3, "value":
                "xp_min=100 xp_max=100 xp_cooldown=60 channel=#levels stack=no \
                 rewards=\"1 @Regular, 2 @Veteran, 3 @Legend\" except_channels=#bot-commands"},
        ]),
    )
    .await;
    assert_eq!(
        created["embeds"][0]["title"], "Automation created: xp",
        "{created}"
    );

    // 100 XP: level 1, announced in #levels, Regular given.
    bot.sim
        .inject_message(general, guest, "hello")
        .await
        .expect("post");
    let up = posted_in(&mut bot, levels, "level 1").await;
    assert_eq!(up["content"], format!("<@{guest}> reached level **1**!"));
    assert_eq!(counted(&bot, guest, 1).await, (100, 1));
    until("the Regular role", || has_role(&bot, guest, regular)).await;

    // Within the cooldown: counted, no XP. In a skipped channel: not even counted.
    bot.sim
        .inject_message(commands, guest, "elsewhere")
        .await
        .expect("post");
    bot.sim
        .inject_message(general, guest, "again")
        .await
        .expect("post");
    assert_eq!(counted(&bot, guest, 2).await, (100, 1));
    clock::advance(Duration::from_secs(59));
    bot.sim
        .inject_message(general, guest, "not yet")
        .await
        .expect("post");
    assert_eq!(counted(&bot, guest, 3).await, (100, 1));

    // A minute after the last XP: 200, then 300 (level 2: Veteran given, Regular taken, as
    // rewards do not stack here).
    clock::advance(Duration::from_secs(1));
    bot.sim
        .inject_message(general, guest, "now")
        .await
        .expect("post");
    assert_eq!(counted(&bot, guest, 4).await, (200, 1));
    clock::advance(Duration::from_secs(60));
    bot.sim
        .inject_message(general, guest, "more")
        .await
        .expect("post");
    let up = posted_in(&mut bot, levels, "level 2").await;
    assert_eq!(up["content"], format!("<@{guest}> reached level **2**!"));
    assert_eq!(counted(&bot, guest, 5).await, (300, 2));
    until("the Veteran role", || has_role(&bot, guest, veteran)).await;
    until("the Regular role taken", || !has_role(&bot, guest, regular)).await;

    // Another member, for the ranks.
    let ada = member(&bot, "ada");
    bot.sim
        .inject_message(general, ada, "hi all")
        .await
        .expect("post");
    let up = posted_in(&mut bot, levels, "ada's level 1").await;
    assert_eq!(up["content"], format!("<@{ada}> reached level **1**!"));
    assert_eq!(counted(&bot, ada, 1).await, (100, 1));

    // Level 3's reward is above the bot's role: the level-up is announced, the role refused,
    // the automation turned off with the reason.
    clock::advance(Duration::from_secs(60));
    bot.sim
        .inject_message(general, guest, "four")
        .await
        .expect("post");
    assert_eq!(counted(&bot, guest, 6).await, (400, 2));
    clock::advance(Duration::from_secs(60));
    bot.sim
        .inject_message(general, guest, "five")
        .await
        .expect("post");
    let up = posted_in(&mut bot, levels, "level 3").await;
    assert_eq!(up["content"], format!("<@{guest}> reached level **3**!"));
    let alert = bot.nth_alert("Automation `xp` turned off", 1).await;
    assert!(alert.contains("highest role"), "{alert}");
    assert!(!has_role(&bot, guest, legend));
    assert_eq!(counted(&bot, guest, 7).await, (500, 3));

    // Off, it counts nothing; the commands still read its scores.
    clock::advance(Duration::from_secs(60));
    bot.sim
        .inject_message(general, guest, "ignored")
        .await
        .expect("post");
    let rank = slash(&mut bot, guest, "rank", Value::Null).await;
    assert_eq!(field(&rank, "Rank"), "#1 of 2", "{rank}");
    assert_eq!(field(&rank, "Level"), "3");
    assert_eq!(field(&rank, "XP"), "500");
    // Level 3 starts at 475 XP; level 4 takes 295 more.
    assert_eq!(
        field(&rank, "Progress to level 4"),
        "▱▱▱▱▱▱▱▱▱▱ 25 / 295 XP"
    );
    assert_eq!(field(&rank, "Messages"), "7");
    let theirs = slash(
        &mut bot,
        guest,
        "rank",
        json!([{"name": "user", "type": 6, "value": ada.to_string()}]),
    )
    .await;
    assert_eq!(theirs["embeds"][0]["title"], "ada's rank", "{theirs}");
    assert_eq!(field(&theirs, "Rank"), "#2 of 2");
    assert_eq!(
        field(&theirs, "Progress to level 2"),
        "▱▱▱▱▱▱▱▱▱▱ 0 / 155 XP"
    );
    let board = slash(&mut bot, ada, "leaderboard", Value::Null).await;
    let text = text_of(&board);
    assert!(
        text.contains(&format!(
            "**1.** <@{guest}> · level 3 · 500 XP\n**2.** <@{ada}> · level 1 · 100 XP"
        )),
        "{text}"
    );
    let footer = board["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(footer.starts_with("Page 1/1 · 2 member(s)"), "{board}");
    assert_eq!(counted(&bot, guest, 7).await, (500, 3));

    // The prefix forms answer too.
    let prefixed = text_of(&bot.ask(owner, &format!("!rank <@{guest}>")).await);
    assert!(prefixed.contains("guest's rank"), "{prefixed}");
    bot.shutdown().await;
    clock::set_system();
}
