//! The first-party `help` plugin (a real compiled library) through the simulator: the category
//! menu, command pages, paging, the requester-only rule, what each member may run, the
//! invocation markers, `help COMMAND`, and the bare @mention answer.

mod support;

use serde_json::Value;
use support::bot::{TestBot, components, text_of};

const HELP: (&str, &str) = ("plugin-help.so", "help.so");
const BASIC: (&str, &str) = ("basic-v1.so", "basic.so");

fn custom_id(body: &Value, label_or_type: &str) -> String {
    components(body)
        .iter()
        .find(|c| {
            c["label"]
                .as_str()
                .is_some_and(|l| l.contains(label_or_type))
                || (label_or_type == "select" && c["type"] == 3)
        })
        .and_then(|c| c["custom_id"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no `{label_or_type}` component in {body}"))
}

fn options(body: &Value) -> Vec<String> {
    components(body)
        .iter()
        .find(|c| c["type"] == 3)
        .and_then(|c| c["options"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o["value"].as_str().map(str::to_owned))
        .collect()
}

/// Clicks (or picks `values` in) component `id` of message `message` as `user`; returns the
/// callback (type, data).
async fn click(
    bot: &mut TestBot,
    message: u64,
    user: u64,
    id: &str,
    values: Vec<String>,
) -> (u8, Value) {
    let interaction = bot
        .sim
        .inject_component(message, user, id, values)
        .await
        .expect("component");
    bot.callback(interaction).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_lists_categories_pages_and_only_what_the_member_may_run() {
    let mut bot = TestBot::start(&[HELP, BASIC], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let (_, id, menu) = bot.asked(guest, "!help").await;
    let text = text_of(&menu);
    assert!(
        text.contains("📚 Help Menu") && text.contains("Current prefix: !"),
        "{text}"
    );
    let categories = options(&menu);
    assert!(categories.contains(&"Core".to_owned()), "{categories:?}");
    // Owner-only commands live in the Owner category: the guest does not see it.
    assert!(!categories.iter().any(|c| c == "Owner"), "{categories:?}");
    let owner_menu = bot.ask(owner, "!help").await;
    assert!(
        options(&owner_menu).contains(&"Owner".to_owned()),
        "{owner_menu}"
    );

    // Picking a category turns the page in place (callback type 7).
    let pick = custom_id(&menu, "select");
    let (kind, core) = click(&mut bot, id, guest, &pick, vec!["Core".into()]).await;
    assert_eq!(kind, 7, "{core}");
    let text = text_of(&core);
    assert!(text.contains("📂 Core"), "{text}");
    assert!(text.contains("⚡ !ping (Slash & Prefix)"), "{text}");
    assert!(text.contains("Legend"), "{text}");
    // The fixture's commands (the default category, General), more than a page of them.
    let back = custom_id(&core, "Back");
    let (_, home) = click(&mut bot, id, guest, &back, Vec::new()).await;
    let pick = custom_id(&home, "select");
    let (_, page) = click(&mut bot, id, guest, &pick, vec!["General".into()]).await;
    let text = text_of(&page);
    assert!(
        text.contains("📂 General") && text.contains("Page 1/"),
        "{text}"
    );
    let fields = page["embeds"][0]["fields"].as_array().map_or(0, Vec::len);
    assert_eq!(fields, 6, "five commands and the legend: {page}");
    assert!(
        !text.contains("!owner_only"),
        "an owner-only command listed to a guest: {text}"
    );
    assert!(text.contains("⚡ !"), "hybrid markers: {text}");

    // Next turns to page 2; Back returns to the categories.
    let next = custom_id(&page, "Next");
    let (_, second) = click(&mut bot, id, guest, &next, Vec::new()).await;
    assert!(text_of(&second).contains("Page 2/"), "{second}");
    let back = custom_id(&second, "Back");
    let (_, home) = click(&mut bot, id, guest, &back, Vec::new()).await;
    assert!(text_of(&home).contains("📚 Help Menu"), "{home}");

    // Only the requester may use it.
    let (kind, refusal) = click(&mut bot, id, owner, &pick, vec!["Core".into()]).await;
    assert_eq!(kind, 4);
    assert_eq!(refusal["flags"], 64, "{refusal}");
    assert!(
        text_of(&refusal).contains("Only the requester"),
        "{refusal}"
    );

    // Credits: ephemeral, the menu stays.
    let credits = custom_id(&home, "Credits");
    let (kind, data) = click(&mut bot, id, guest, &credits, Vec::new()).await;
    assert_eq!((kind, data["flags"].clone()), (4, 64.into()), "{data}");
    assert!(text_of(&data).contains("Credits"), "{data}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_explains_one_command_and_names_what_is_missing() {
    // The guest asks `help` more often than the default cooldown (3 per 5 s) lets a member.
    let mut bot = TestBot::start(&[HELP, BASIC], r#""cooldowns": {"default_rate": 0}"#).await;
    let guest = bot.sim.guest().id;
    let ping = text_of(&bot.ask(guest, "!help ping").await);
    assert!(
        ping.contains("Usage: `!ping`") && ping.contains("You can run it here"),
        "{ping}"
    );
    let stats = text_of(&bot.ask(guest, "!help stats").await);
    assert!(
        stats.contains("Cooldown") && stats.contains("per 10s"),
        "{stats}"
    );
    let setprefix = text_of(&bot.ask(guest, "!help setprefix").await);
    assert!(
        setprefix.contains("Administrators") && setprefix.contains("You need Administrator"),
        "{setprefix}"
    );
    let category = text_of(&bot.ask(guest, "!help settings").await);
    assert!(category.contains("📂 Settings"), "{category}");
    let missing = text_of(&bot.ask(guest, "!help nosuch").await);
    assert!(
        missing.contains("no command or category `nosuch`"),
        "{missing}"
    );
    // The slash form answers the same.
    let id = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            guest,
            "help",
            serde_json::json!([{"name": "query", "type": 3, "value": "ping"}]),
        )
        .await
        .expect("slash");
    let (_, data) = bot.callback(id).await;
    assert!(text_of(&data).contains("Usage: `!ping`"), "{data}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_mention_answers_with_the_prefix_and_help() {
    let mut bot = TestBot::start(&[HELP], "").await;
    let me = bot.sim.bot_user().id;
    let reply = text_of(&bot.ask(bot.sim.guest().id, &format!("<@{me}>")).await);
    assert!(reply.contains("`!`") && reply.contains("!help"), "{reply}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_grants_hold_for_the_menus_components_too() {
    let mut bot = TestBot::start(&[HELP, BASIC], "").await;
    let (owner, guest, guild) = (bot.sim.owner().id, bot.sim.guest().id, bot.guild());
    let (_, id, menu) = bot.asked(guest, "!help").await;
    let pick = custom_id(&menu, "select");
    let helpers = bot.sim.add_role(guild, "Helpers", 0).expect("role");
    let granted = text_of(&bot.ask(owner, "!config help Helpers").await);
    assert!(granted.contains("Role granted"), "{granted}");
    // The menu's select is `help`'s: the gate refuses it like the command, in an ephemeral.
    let (kind, refusal) = click(&mut bot, id, guest, &pick, vec!["Core".into()]).await;
    assert_eq!((kind, refusal["flags"].clone()), (4, serde_json::json!(64)));
    assert!(
        text_of(&refusal).contains("`help` is restricted to these roles here"),
        "{refusal}"
    );
    // With the role, the menu answers again.
    bot.sim
        .add_member_role(guild, guest, helpers)
        .expect("give the role");
    let (kind, page) = click(&mut bot, id, guest, &pick, vec!["Core".into()]).await;
    assert_eq!(kind, 7, "the menu updates in place: {page}");
    assert!(text_of(&page).contains("Core"), "{page}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_member_may_run_follows_their_roles_though_members_are_not_cached() {
    // The host keeps no members in its cache (only guilds, roles and channels): the help
    // catalogue learns the member's roles from Discord.
    let mut bot = TestBot::start(&[HELP, BASIC], r#""cooldowns": {"default_rate": 0}"#).await;
    let (guest, guild) = (bot.sim.guest().id, bot.guild());
    let before = text_of(&bot.ask(guest, "!help setprefix").await);
    assert!(before.contains("You need Administrator"), "{before}");
    const ADMINISTRATOR: u64 = 1 << 3;
    let admins = bot
        .sim
        .add_role(guild, "Admins", ADMINISTRATOR)
        .expect("role");
    bot.sim
        .add_member_role(guild, guest, admins)
        .expect("give the role");
    let after = text_of(&bot.ask(guest, "!help setprefix").await);
    assert!(after.contains("You can run it here"), "{after}");
    bot.shutdown().await;
}
