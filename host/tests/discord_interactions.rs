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
    // Owner-only prefix built-ins are not slash commands.
    assert!(!names.contains(&"load"), "{names:?}");
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
    assert!(text_of(&data).contains("administrators"), "{data}");
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
