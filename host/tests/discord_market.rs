//! The first-party `marketplace` plugin (a real compiled library) through the simulator, with
//! a local index server (axum) of real plugin libraries: browse with the category menu, info
//! with dependencies and licence, install with a confirm button, progress edited in place, and
//! the installed plugin (with its dependency) answering within 2 s of the click; a refused
//! install says which step refused and leaves `extensions/` as it was.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::bot::{TestBot, components, text_of};
use support::market::{MarketServer, entry, index, snapshot};
use zoryx_sim::SimEvent;

const MARKET: (&str, &str) = ("plugin-marketplace.so", "marketplace.so");

fn custom_id(body: &Value, label: &str) -> String {
    components(body)
        .iter()
        .find(|c| c["label"].as_str().is_some_and(|l| l.contains(label)))
        .and_then(|c| c["custom_id"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no `{label}` button in {body}"))
}

fn select_values(body: &Value) -> Vec<String> {
    components(body)
        .iter()
        .find(|c| c["type"] == 3)
        .and_then(|c| c["options"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|o| o["value"].as_str().map(str::to_owned))
        .collect()
}

fn config(server: &MarketServer) -> String {
    format!(
        r#""marketplace": {{"index_url": "{}", "trusted_keys": ["{}"], "cache_ttl_seconds": 300}}"#,
        server.index_url(),
        server.key.public()
    )
}

/// Waits for the last edit of the progress message (titled `title`); the edits on the way.
async fn progress_until(bot: &mut TestBot, title: &str) -> Vec<Value> {
    let mut edits = Vec::new();
    loop {
        let event = bot
            .wait_event("a progress edit", |e| {
                matches!(e, SimEvent::MessageEdited { .. })
            })
            .await;
        if let SimEvent::MessageEdited { body, .. } = event {
            let done = body["embeds"][0]["title"] == title;
            edits.push(body);
            if done {
                return edits;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_browses_confirms_an_install_and_the_plugin_answers_within_two_seconds() {
    let server = MarketServer::start().await;
    let (b, b_bytes) = entry("b", "1.0.0", "manifest-b.so", &[("c", "^1.0")]);
    let (c, c_bytes) = entry("c", "1.0.0", "manifest-c.so", &[]);
    server.put_file("b-1.0.0.so", b_bytes);
    server.put_file("c-1.0.0.so", c_bytes);
    server.publish(&index(3, vec![b, c]));
    let mut bot = TestBot::start(&[MARKET], &config(&server)).await;
    let owner = bot.sim.owner().id;

    // Browse: both plugins, the category menu.
    let browse = bot.ask(owner, "!marketplace").await;
    let text = text_of(&browse);
    assert!(
        text.contains("b 1.0.0") && text.contains("c 1.0.0"),
        "{text}"
    );
    assert!(
        select_values(&browse).contains(&"Testing".to_owned()),
        "{browse}"
    );

    // Info: dependencies and licence.
    let info = text_of(&bot.ask(owner, "!marketplace info b").await);
    assert!(
        info.contains("`c` ^1.0") && info.contains("MIT OR Apache-2.0"),
        "{info}"
    );

    // Install: a card with a confirm button; nothing installed before the click.
    let (_, card, body) = bot.asked(owner, "!marketplace install b").await;
    let confirm = custom_id(&body, "Confirm");
    let before_click = snapshot(&bot.host.extensions());
    assert_eq!(before_click.len(), 1, "{:?}", before_click.keys());
    let clicked = Instant::now();
    bot.sim
        .inject_component(card, owner, &confirm, Vec::new())
        .await
        .expect("click");
    let edits = progress_until(&mut bot, "Marketplace: done").await;
    let last = text_of(edits.last().expect("an edit"));
    assert!(
        last.contains("installed c 1.0.0") && last.contains("installed b 1.0.0"),
        "{last}"
    );
    let answer = bot.ask(owner, "!b_cmd").await;
    let elapsed = clicked.elapsed();
    assert_eq!(text_of(&answer), "b");
    assert!(
        elapsed < Duration::from_secs(2),
        "answered {elapsed:?} after the click"
    );
    assert_eq!(text_of(&bot.ask(owner, "!c_cmd").await), "c");
    let all_progress: Vec<String> = edits.iter().map(text_of).collect();
    assert!(
        all_progress.iter().any(|t| t.contains("checksum passed")),
        "{all_progress:?}"
    );

    // A member who is not an owner forges a confirm button naming themselves (clients can
    // send any custom id): the host refuses the click before the plugin sees it.
    let guest = bot.sim.guest().id;
    let before = snapshot(&bot.host.extensions());
    let forged = format!("mkt:{guest}:confirm:c:1.0.0");
    let interaction = bot
        .sim
        .inject_component(card, guest, &forged, Vec::new())
        .await
        .expect("forged click");
    let (_, refusal) = bot.callback(interaction).await;
    assert!(
        text_of(&refusal).contains("for the bot owners only"),
        "{refusal}"
    );
    assert_eq!(snapshot(&bot.host.extensions()), before);

    // A tampered library: refused at the checksum, shown in place, extensions/ unchanged.
    let (a, a_bytes) = entry("a", "1.0.0", "manifest-a.so", &[("b", "^1.0")]);
    let mut tampered = a_bytes;
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    server.put_file("a-1.0.0.so", tampered);
    let (b, _) = entry("b", "1.0.0", "manifest-b.so", &[("c", "^1.0")]);
    let (c, _) = entry("c", "1.0.0", "manifest-c.so", &[]);
    server.publish(&index(4, vec![a, b, c]));
    bot.ask(owner, "!marketplace refresh").await;
    let before = snapshot(&bot.host.extensions());
    let (_, card, body) = bot.asked(owner, "!marketplace install a").await;
    bot.sim
        .inject_component(card, owner, &custom_id(&body, "Confirm"), Vec::new())
        .await
        .expect("click");
    let edits = progress_until(&mut bot, "Marketplace: refused").await;
    let last = text_of(edits.last().expect("an edit"));
    assert!(
        last.contains("checksum") && last.contains("SHA-256 mismatch"),
        "{last}"
    );
    assert_eq!(snapshot(&bot.host.extensions()), before);

    bot.shutdown().await;
}
