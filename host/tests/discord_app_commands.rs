//! Plugin-api 1.3's application commands end to end: option rules, subcommands, default
//! permissions and DM use, autocomplete, modals and context menus, from a real plugin library
//! through the simulator, in-process and isolated. Every request body is checked against
//! Discord's OpenAPI spec at shutdown.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::bot::{TestBot, text_of};
use support::{Mode, TestHost};
use zoryx_sim::{SimError, SimEvent};

async fn start(mode: Mode) -> TestBot {
    let config = match mode {
        Mode::InProcess => "",
        Mode::Isolated => r#""isolation": {"plugins": ["*"]}"#,
    };
    let mut bot = TestBot::start(&[("interactions.so", "interactions.so")], config).await;
    bot.wait_registered("Quote").await;
    bot
}

fn command<'a>(commands: &'a [Value], name: &str) -> &'a Value {
    commands
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("`{name}` registered: {commands:?}"))
}

/// Gives the guest a role with Manage Server.
fn make_manager(bot: &TestBot) {
    let role = bot.sim.add_role(bot.guild(), "Managers", 32).expect("role");
    bot.sim
        .add_member_role(bot.guild(), bot.sim.guest().id, role)
        .expect("give role");
}

async fn options_and_rules_are_registered_and_enforced(mode: Mode) {
    let mut bot = start(mode).await;
    let commands = bot.sim.registered_commands(Some(bot.guild()));
    let paint = command(&commands, "paint");
    assert_eq!(
        paint["options"][0]["choices"],
        json!([{"name": "Red", "value": "red"}, {"name": "Blue", "value": "blue"}, {"name": "Green", "value": "green"}])
    );
    assert_eq!(
        (
            paint["options"][1]["min_value"].clone(),
            paint["options"][1]["max_value"].clone()
        ),
        (json!(1), json!(3))
    );
    assert_eq!(
        (
            paint["options"][2]["min_length"].clone(),
            paint["options"][2]["max_length"].clone()
        ),
        (json!(2), json!(10))
    );
    // Declared by `derive(CommandArgs)` attributes.
    let mix = command(&commands, "mix");
    assert_eq!(
        mix["options"][0]["choices"][1],
        json!({"name": "blue", "value": "blue"})
    );
    assert_eq!(mix["options"][1]["max_value"], 99);
    assert_eq!(
        command(&commands, "buy")["options"][0]["autocomplete"],
        true
    );

    // Prefix commands get the same rules, with the usage.
    let guest = bot.sim.guest().id;
    for (line, expected) in [
        ("!paint purple", "`colour` must be one of: Red, Blue, Green"),
        ("!paint RED 4", "`coats` must be at most 3"),
        (
            "!paint red 2 x",
            "`name` must be at least 2 characters long",
        ),
        ("!mix green 5", "`first` must be one of: red, blue"),
    ] {
        let reply = text_of(&bot.ask(guest, line).await);
        assert!(reply.contains(expected), "{line}: {reply}");
        assert!(reply.contains("Usage"), "{line}: {reply}");
    }
    // A choice's name or value, any case, is the value.
    assert_eq!(
        text_of(&bot.ask(guest, "!paint Green 3 Bob").await),
        "green|3|Bob"
    );

    // Slash: Discord's client sends only what the rules allow.
    let (guild, channel) = (bot.guild(), bot.channel());
    let refused = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "paint",
            json!([{"name": "colour", "type": 3, "value": "purple"}]),
        )
        .await;
    assert!(matches!(refused, Err(SimError::Invalid(_))), "{refused:?}");
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "paint",
            json!([{"name": "colour", "type": 3, "value": "blue"}, {"name": "coats", "type": 4, "value": 2}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!((kind, data["content"].clone()), (4, json!("blue|2|")));
    bot.shutdown().await;
}

async fn subcommands_route_to_their_handlers(mode: Mode) {
    let mut bot = start(mode).await;
    let commands = bot.sim.registered_commands(Some(bot.guild()));
    let config = command(&commands, "setup");
    let names: Vec<(Value, Value)> = config["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| (o["name"].clone(), o["type"].clone()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("show"), json!(1)),
            (json!("set"), json!(1)),
            (json!("role"), json!(2))
        ]
    );
    let add = &config["options"][2]["options"][0];
    assert_eq!(
        (add["name"].clone(), add["type"].clone()),
        (json!("add"), json!(1))
    );
    assert_eq!(
        add["options"][0]["type"], 8,
        "role, from the typed arguments"
    );
    assert!(
        commands.iter().all(|c| c["name"] != "setup set"),
        "subcommands are not commands of their own"
    );

    let owner = bot.sim.owner().id;
    assert_eq!(
        text_of(&bot.ask(owner, "!setup set size large").await),
        "set size=large"
    );
    assert_eq!(
        text_of(&bot.ask(owner, "!setup role add <@&55>").await),
        "role added: 55"
    );
    assert_eq!(
        text_of(&bot.ask(owner, "!setup").await),
        "setup: show, set or role add"
    );
    let reply = text_of(&bot.ask(owner, "!setup reset").await);
    assert!(
        reply.contains("`reset` is not a subcommand: expected one of show, set, role"),
        "{reply}"
    );
    assert!(reply.contains("!setup <show|set|role>"), "{reply}");

    make_manager(&bot);
    let (guild, channel, guest) = (bot.guild(), bot.channel(), bot.sim.guest().id);
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "setup set",
            json!([{"name": "key", "type": 3, "value": "colour"}, {"name": "value", "type": 3, "value": "teal"}]),
        )
        .await
        .expect("slash");
    assert_eq!(bot.callback(id).await.1["content"], "set colour=teal");
    let role = bot.sim.add_role(guild, "Painters", 0).expect("role");
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "setup role add",
            json!([{"name": "role", "type": 8, "value": role.to_string()}]),
        )
        .await
        .expect("slash");
    assert_eq!(
        bot.callback(id).await.1["content"],
        format!("role added: {role}")
    );
    bot.shutdown().await;
}

async fn default_permissions_and_dm_use_are_enforced(mode: Mode) {
    let mut bot = start(mode).await;
    let commands = bot.sim.registered_commands(Some(bot.guild()));
    let config = command(&commands, "setup");
    assert_eq!(config["default_member_permissions"], "32");
    assert_eq!(config["contexts"], json!([0]));
    assert_eq!(command(&commands, "Quote")["contexts"], json!([0]));

    let (guild, channel, guest) = (bot.guild(), bot.channel(), bot.sim.guest().id);
    // Without Manage Server: Discord does not offer the slash command, the host refuses the
    // prefix one.
    let refused = bot
        .sim
        .inject_slash(guild, channel, guest, "setup show", Value::Null)
        .await;
    assert!(
        matches!(refused, Err(SimError::Invalid(ref m)) if m.contains("default member permissions")),
        "{refused:?}"
    );
    let reply = text_of(&bot.ask(guest, "!setup show").await);
    assert!(
        reply.contains("Permission denied")
            && reply.contains("⛔ You need the Manage Server permission to use `setup show`."),
        "{reply}"
    );
    // With it, both work.
    make_manager(&bot);
    assert_eq!(
        text_of(&bot.ask(guest, "!setup show").await),
        "setup show: colour=red"
    );
    let id = bot
        .sim
        .inject_slash(guild, channel, guest, "setup show", Value::Null)
        .await
        .expect("offered");
    assert_eq!(
        bot.callback(id).await.1["content"],
        "setup show: colour=red"
    );
    // Not in DMs.
    let (_, asked) = bot.sim.inject_dm(guest, "!setup show").await.expect("dm");
    let reply = text_of(&bot.reply_to(asked).await);
    assert!(
        reply.contains("`setup show` only works in servers"),
        "{reply}"
    );
    bot.shutdown().await;
}

async fn autocomplete_answers_with_suggestions(mode: Mode) {
    let mut bot = start(mode).await;
    let (guild, channel, guest) = (bot.guild(), bot.channel(), bot.sim.guest().id);
    let id = bot
        .sim
        .inject_autocomplete(
            guild,
            channel,
            guest,
            "buy",
            ("fruit", "a"),
            json!([{"name": "limit", "type": 4, "value": 2}]),
        )
        .await
        .expect("autocomplete");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 8);
    assert_eq!(
        data["choices"],
        json!([{"name": "APPLE", "value": "apple"}, {"name": "APRICOT", "value": "apricot"}])
    );
    // More than 25 are cut to the first 25.
    let id = bot
        .sim
        .inject_autocomplete(guild, channel, guest, "buy", ("fruit", "many"), Value::Null)
        .await
        .expect("autocomplete");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 8);
    let choices = data["choices"].as_array().expect("choices");
    assert_eq!(
        (choices.len(), choices[24]["name"].clone()),
        (25, json!("fruit 24"))
    );
    // A failing or slow handler shows no suggestions, within Discord's 3 seconds.
    for typed in ["fail", "slow"] {
        let started = Instant::now();
        let id = bot
            .sim
            .inject_autocomplete(guild, channel, guest, "buy", ("fruit", typed), Value::Null)
            .await
            .expect("autocomplete");
        let (kind, data) = bot.callback(id).await;
        assert_eq!((kind, data["choices"].clone()), (8, json!([])), "{typed}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{typed}: {:?}",
            started.elapsed()
        );
    }
    // The command itself still runs with whatever was typed.
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "buy",
            json!([{"name": "fruit", "type": 3, "value": "kiwi"}]),
        )
        .await
        .expect("slash");
    assert_eq!(bot.callback(id).await.1["content"], "bought kiwi");
    bot.shutdown().await;
}

async fn modals_round_trip(mode: Mode) {
    let mut bot = start(mode).await;
    let (guild, channel, guest) = (bot.guild(), bot.channel(), bot.sim.guest().id);
    // From a slash command: the modal, then its submission to the modal handler.
    let id = bot
        .sim
        .inject_slash(guild, channel, guest, "feedback", Value::Null)
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 9);
    assert_eq!(data["title"], "Feedback");
    assert_eq!(data["components"][1]["components"][0]["style"], 2);
    assert_eq!(
        data["components"][0]["components"][0]["placeholder"],
        "What about?"
    );
    let refused = bot
        .sim
        .inject_modal_submit(id, &[("body", "no topic")])
        .await;
    assert!(
        matches!(refused, Err(SimError::Invalid(_))),
        "the topic is required: {refused:?}"
    );
    let submit = bot
        .sim
        .inject_modal_submit(id, &[("topic", "docs"), ("body", "more please")])
        .await
        .expect("submit");
    let (kind, data) = bot.callback(submit).await;
    assert_eq!(kind, 4);
    assert_eq!(
        data["content"],
        "feedback:command: topic=docs body=more please"
    );
    assert_eq!(data["flags"], 64);

    // Past Discord's limits the host refuses the modal, naming the field.
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "feedback",
            json!([{"name": "size", "type": 3, "value": "long-title"}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 4);
    assert_eq!(
        data["content"],
        "refused: host: modal not shown: title has 46 characters; Discord allows at most 45"
    );

    // From a button: the submission updates the button's message in place.
    let asked = bot
        .sim
        .inject_message(channel, guest, "!form")
        .await
        .expect("inject");
    let form = match bot
        .wait_event(
            "the form message",
            |e| matches!(e, SimEvent::BotMessage { reply_to: Some(r), .. } if *r == asked),
        )
        .await
    {
        SimEvent::BotMessage { message_id, .. } => message_id,
        _ => unreachable!(),
    };
    let click = bot
        .sim
        .inject_component(form, guest, "form:open", Vec::new())
        .await
        .expect("click");
    assert_eq!(bot.callback(click).await.0, 9);
    let submit = bot
        .sim
        .inject_modal_submit(click, &[("topic", "ok")])
        .await
        .expect("submit");
    let (kind, data) = bot.callback(submit).await;
    assert_eq!(
        (kind, data["content"].clone()),
        (7, json!("form closed: ok"))
    );
    assert_eq!(
        bot.sim.message(form).expect("form").content,
        "form closed: ok"
    );
    bot.shutdown().await;
}

async fn context_menus_reach_their_handlers(mode: Mode) {
    let mut bot = start(mode).await;
    let commands = bot.sim.registered_commands(Some(bot.guild()));
    assert_eq!(command(&commands, "Inspect")["type"], 2);
    assert_eq!(command(&commands, "Quote")["type"], 3);
    let (guild, channel) = (bot.guild(), bot.channel());
    let (owner, guest) = (bot.sim.owner(), bot.sim.guest());
    let id = bot
        .sim
        .inject_user_command(guild, channel, owner.id, "Inspect", guest.id)
        .await
        .expect("user command");
    assert_eq!(
        bot.callback(id).await.1["content"],
        format!("{} is {} (member: true)", owner.name, guest.name)
    );
    let message = bot
        .sim
        .inject_message(channel, guest.id, "quote me")
        .await
        .expect("message");
    let id = bot
        .sim
        .inject_message_command(message, owner.id, "Quote")
        .await
        .expect("message command");
    assert_eq!(
        bot.callback(id).await.1["content"],
        format!("> quote me (by {})", guest.name)
    );
    bot.shutdown().await;
}

async fn a_command_past_discords_limits_is_refused(mode: Mode) {
    let host = TestHost::in_mode(&[("interactions-bad.so", "interactions.so")], mode);
    let report = host.manager.load_all().await;
    let refusals: Vec<String> = report.refused.iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].contains("command `pick`, option `n`: 26 choices; Discord allows at most 25"),
        "{refusals:?}"
    );
    host.manager.shutdown().await;
}

both_modes!(
    options_and_rules_are_registered_and_enforced,
    subcommands_route_to_their_handlers,
    default_permissions_and_dm_use_are_enforced,
    autocomplete_answers_with_suggestions,
    modals_round_trip,
    context_menus_reach_their_handlers,
    a_command_past_discords_limits_is_refused,
);
