//! Slash commands and components end to end against the simulator.

mod support;

use serde_json::json;
use support::bot::{TestBot, text_of};
use zoryx_sim::SimEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_are_registered_in_bulk_and_answered_by_callback() {
    let mut bot = TestBot::start(&[("plugin-hello.so", "hello.so")], "").await;
    let commands = bot.wait_registered("echo").await;
    let names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(
        names.contains(&"ping") && names.contains(&"hello"),
        "{names:?}"
    );
    // Prefix-only built-ins are not slash commands; load / unload / reload are hybrid.
    assert!(!names.contains(&"slashlimit"), "{names:?}");
    assert!(names.contains(&"load"), "{names:?}");
    let echo = commands.iter().find(|c| c["name"] == "echo").expect("echo");
    assert_eq!(echo["options"][0]["type"], 3);
    assert_eq!(echo["options"][0]["required"], true);
    // One bulk overwrite, not one request per command.
    let puts: Vec<_> = bot
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/commands"))
        .collect();
    assert!(puts.iter().all(|r| r.method == "PUT"), "{puts:?}");
    assert_eq!(puts.len(), 1, "{puts:?}");

    let guest = bot.sim.guest().id;
    let (guild, channel) = (bot.guild(), bot.channel());
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "echo",
            json!([{"name": "text", "type": 3, "value": "slash \"quoted\" words"}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 4);
    assert_eq!(data["content"], "slash \"quoted\" words");
    assert!(data.get("flags").is_none(), "{data}");

    // A denied built-in answers ephemerally.
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "setprefix",
            json!([{"name": "prefix", "type": 3, "value": "?"}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 4);
    assert_eq!(data["flags"], 64, "{data}");
    assert!(
        text_of(&data).contains("You need Administrator permission to use `setprefix`"),
        "{data}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_changes_reregister_once_and_only_when_the_set_changes() {
    let mut bot = TestBot::start(&[("plugin-hello.so", "hello.so")], "").await;
    bot.wait_registered("echo").await;
    bot.host.install("plugin-polls.so", "polls.so");
    bot.host.manager.load("polls").await.expect("load polls");
    bot.wait_registered("poll").await;
    // A reload with the same commands changes nothing: no new overwrite.
    bot.host.manager.reload("hello").await.expect("reload");
    bot.host
        .manager
        .unload("polls", false)
        .await
        .expect("unload");
    let count = |bot: &TestBot| {
        bot.sim
            .registered_commands(Some(bot.guild()))
            .iter()
            .any(|c| c["name"] == "poll")
    };
    bot.wait_event("the overwrite after unloading polls", |e| {
        matches!(e, SimEvent::CommandsOverwritten { .. })
    })
    .await;
    assert!(!count(&bot), "poll still registered after unload");
    let overwrites = bot
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .count();
    assert_eq!(overwrites, 3, "initial, polls loaded, polls unloaded");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_reach_their_plugin_until_it_is_unloaded() {
    let mut bot = TestBot::start(&[("plugin-polls.so", "polls.so")], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let asked = bot
        .sim
        .inject_message(bot.channel(), guest, "!poll \"Lunch?\" pizza | sushi")
        .await
        .expect("inject");
    let poll_message = match bot
        .wait_event(
            "the poll",
            |e| matches!(e, SimEvent::BotMessage { reply_to: Some(r), .. } if *r == asked),
        )
        .await
    {
        SimEvent::BotMessage {
            message_id, body, ..
        } => {
            let buttons = &body["components"][0]["components"];
            assert_eq!(buttons[0]["type"], 2, "{body}");
            assert_eq!(buttons[1]["label"], "sushi", "{body}");
            (
                message_id,
                buttons[1]["custom_id"].as_str().expect("id").to_owned(),
            )
        }
        _ => unreachable!(),
    };
    let (message_id, custom_id) = poll_message;
    let again = text_of(&bot.ask(guest, "!poll \"Dinner?\" soup | salad").await);
    assert!(again.contains("try again in"), "{again}");
    let click = bot
        .sim
        .inject_component(message_id, guest, &custom_id, Vec::new())
        .await
        .expect("click");
    let (kind, data) = bot.callback(click).await;
    assert_eq!(kind, 4);
    assert_eq!(data["flags"], 64, "{data}");
    assert!(text_of(&data).contains("sushi"), "{data}");

    let unloaded = text_of(&bot.ask(owner, "!unload polls").await);
    assert!(unloaded.contains("Unloaded"), "{unloaded}");
    let click = bot
        .sim
        .inject_component(message_id, guest, &custom_id, Vec::new())
        .await
        .expect("click");
    let (kind, data) = bot.callback(click).await;
    assert_eq!(kind, 4);
    assert_eq!(data["flags"], 64, "{data}");
    assert!(text_of(&data).contains("not loaded"), "{data}");
    bot.shutdown().await;
}

/// A plugin that uses every message feature: a rich embed, a button and a select menu, two
/// replies (the second ephemeral), a message to a channel, and a component handler that answers
/// nothing.
#[derive(Default)]
struct Rich;

impl zoryx_plugin_api::Plugin for Rich {
    fn manifest() -> zoryx_plugin_api::Manifest {
        zoryx_plugin_api::Manifest::new("rich", "1.0.0")
    }

    fn register(plugin: &mut zoryx_plugin_api::Registrar<Self>) {
        use zoryx_plugin_api::{
            Arg, Button, ButtonStyle, CommandContext, CommandSpec, ComponentContext, Embed,
            Message, SelectMenu,
        };
        plugin
            .command(
                CommandSpec::new("rich")
                    .description("Everything at once")
                    .arg(Arg::integer("count").optional())
                    .arg(Arg::text("label").optional()),
                |ctx: CommandContext<Rich>| async move {
                    let count: Option<i64> = ctx.arg("count")?;
                    let label: Option<String> = ctx.arg("label")?;
                    let embed = Embed::new()
                        .title("Rich")
                        .description(format!(
                            "count {} label {}",
                            count.unwrap_or(0),
                            label.unwrap_or_else(|| "-".into())
                        ))
                        .field("a", "1", true)
                        .field("b", "", false)
                        .colour(0x123456)
                        .footer("footer")
                        .timestamp("2026-11-25T01:00:00Z")
                        .thumbnail("https://example.com/t.png");
                    let first = Message::new()
                        .embed(embed)
                        .button(Button::new("rich:go", "Go").style(ButtonStyle::Success))
                        .select(
                            SelectMenu::new("rich:pick", "Pick")
                                .option("One", "1")
                                .option("Two", "2")
                                .choices(1, 2),
                        );
                    ctx.reply(first).await?;
                    ctx.reply(Message::text("second").ephemeral()).await?;
                    let channel = ctx.invocation().channel_id;
                    ctx.host().send(channel, "sent to the channel").await?;
                    Ok(())
                },
            )
            .component(
                "rich:",
                |_ctx: ComponentContext<Rich>| async move { Ok(()) },
            );
    }

    async fn init(_host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult<Self> {
        Ok(Self)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_replies_followups_sends_and_silent_components() {
    let mut bot = TestBot::start(&[], "").await;
    bot.host
        .manager
        .load_in_process(zoryx_plugin_api::ffi::ModuleOf::<Rich>::DECLARATION.module)
        .await
        .expect("load in process");
    let guest = bot.sim.guest().id;
    let (guild, channel) = (bot.guild(), bot.channel());

    // Prefix: two replies to the message, one plain channel message.
    let asked = bot
        .sim
        .inject_message(channel, guest, "!rich 3")
        .await
        .expect("inject");
    let first = bot.reply_to(asked).await;
    let embed = &first["embeds"][0];
    assert_eq!(embed["description"], "count 3 label -");
    assert_eq!(embed["color"], 0x123456);
    assert_eq!(embed["footer"]["text"], "footer");
    assert_eq!(embed["thumbnail"]["url"], "https://example.com/t.png");
    assert_eq!(first["components"][1]["components"][0]["type"], 3);
    let second = bot.reply_to(asked).await;
    assert_eq!(second["content"], "second");
    assert!(
        second.get("flags").is_none(),
        "channel messages are never ephemeral"
    );
    bot.wait_event("the plugin's channel message", |e| {
        matches!(e, SimEvent::BotMessage { reply_to: None, body, .. } if body["content"] == "sent to the channel")
    })
    .await;

    // Slash: the callback, then a followup.
    bot.wait_registered("rich").await;
    let id = bot
        .sim
        .inject_slash(
            guild,
            channel,
            guest,
            "rich",
            json!([{"name": "label", "type": 3, "value": "only \"this\""}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 4);
    // The skipped optional `count` does not swallow `label`.
    assert_eq!(
        data["embeds"][0]["description"],
        "count 0 label only \"this\""
    );
    match bot
        .wait_event(
            "the followup",
            |e| matches!(e, SimEvent::Followup { interaction_id, .. } if *interaction_id == id),
        )
        .await
    {
        SimEvent::Followup { body, .. } => {
            assert_eq!(body["content"], "second");
            assert_eq!(body["flags"], 64);
        }
        _ => unreachable!(),
    }

    // A component handler that replies nothing is acknowledged with a deferred update.
    let message_id = bot
        .sim
        .messages(channel)
        .into_iter()
        .find(|m| m.reply_to == Some(asked))
        .expect("the rich message")
        .id;
    let click = bot
        .sim
        .inject_component(message_id, guest, "rich:pick", vec!["2".into()])
        .await
        .expect("choose");
    let (kind, _) = bot.callback(click).await;
    assert_eq!(kind, 6);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_is_deferred_and_its_reply_edits_the_response() {
    let mut bot = TestBot::start_tuned(
        zoryx_sim::SimConfig::default(),
        &[("basic-v1.so", "basic.so")],
        "",
        |options| options.defer_after = std::time::Duration::from_millis(100),
    )
    .await;
    bot.wait_registered("slow").await;
    let id = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            bot.sim.guest().id,
            "slow",
            json!([{"name": "ms", "type": 4, "value": 1500}]),
        )
        .await
        .expect("slash");
    let (kind, _) = bot.callback(id).await;
    assert_eq!(kind, 5, "deferred while the handler sleeps");
    match bot
        .wait_event("the edited response", |e| {
            matches!(e, SimEvent::OriginalEdited { interaction_id, .. } if *interaction_id == id)
        })
        .await
    {
        SimEvent::OriginalEdited { body, deleted, .. } => {
            assert!(!deleted);
            assert_eq!(body["content"], "v1");
        }
        _ => unreachable!(),
    }
    bot.shutdown().await;
}
