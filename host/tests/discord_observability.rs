//! The owner's observability commands through the simulator: event hooks (`eh_*`), the plugin
//! registry (`pr_*`), and the alerts they raise in the channel the owner chose.

mod support;

use support::bot::{TestBot, text_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_commands_list_switch_reset_and_alert_once() {
    let mut bot = TestBot::start(&[("basic-v1.so", "basic.so")], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let dispatcher = std::sync::Arc::clone(bot.host.manager.dispatcher());
    let refused = bot.ask(guest, "!eh_list").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );

    let list = text_of(&bot.ask(owner, "!eh_list").await);
    assert!(list.contains("basic/fixture_event#1 (p:5"), "{list}");
    assert!(list.contains("basic/fixture_fail#2 (p:0"), "{list}");
    assert!(list.contains("Alerts: none"), "{list}");

    // Alerts go to this channel from now on, and the choice is saved.
    let set = text_of(&bot.ask(owner, "!eh_alert_channel").await);
    assert!(set.contains(&format!("<#{}>", bot.channel())), "{set}");
    let saved =
        std::fs::read_to_string(bot.host.dir.path().join("data/alerts.json")).expect("alerts.json");
    assert!(saved.contains(&bot.channel().to_string()), "{saved}");

    // Five failures open the circuit: one alert, naming the hook and the last error.
    for _ in 0..5 {
        assert_eq!(
            dispatcher.emit("fixture_fail", serde_json::json!({})).await,
            0
        );
    }
    let alert = bot.nth_alert("🪝 Event Hooks Alert", 1).await;
    assert!(
        alert.contains("Circuit breaker opened for `basic/fixture_fail#2`")
            && alert.contains("hook failed on purpose"),
        "{alert}"
    );
    let list = text_of(&bot.ask(owner, "!eh_list").await);
    assert!(list.contains("⚠️ basic/fixture_fail#2"), "{list}");
    assert!(list.contains("skip:0"), "{list}");

    // Reset by hand: it runs (and fails) again at once; opening again within the quarter
    // hour is the same incident, so no second alert.
    let reset = text_of(
        &bot.ask(owner, "!eh_reset_circuit basic/fixture_fail#2")
            .await,
    );
    assert!(reset.contains("runs again"), "{reset}");
    for _ in 0..5 {
        dispatcher.emit("fixture_fail", serde_json::json!({})).await;
    }
    let stats = dispatcher
        .hook_health()
        .stats_of(&("basic".into(), "fixture_fail".into(), 2));
    assert_eq!((stats.failures, stats.circuit_open), (10, true));
    bot.ask(owner, "!ping").await;
    assert_eq!(bot.alerts("🪝 Event Hooks Alert").len(), 1);

    // Disabled by hand: skipped, saved, and enabled again.
    let disabled = text_of(&bot.ask(owner, "!eh_disable basic/fixture_event#1").await);
    assert!(disabled.contains("skipped until `eh_enable`"), "{disabled}");
    assert_eq!(
        dispatcher
            .emit("fixture_event", serde_json::json!({}))
            .await,
        0
    );
    let saved = std::fs::read_to_string(bot.host.dir.path().join("data/event_hooks.json"))
        .expect("event_hooks.json");
    assert!(saved.contains("basic/fixture_event#1"), "{saved}");
    let list = text_of(&bot.ask(owner, "!eh_list").await);
    assert!(list.contains("🔴 basic/fixture_event#1"), "{list}");
    let again = text_of(&bot.ask(owner, "!eh_disable basic/fixture_event#1").await);
    assert!(again.contains("was disabled already"), "{again}");
    let enabled = text_of(&bot.ask(owner, "!eh_enable basic/fixture_event#1").await);
    assert!(enabled.contains("runs again"), "{enabled}");
    assert_eq!(
        dispatcher
            .emit("fixture_event", serde_json::json!({}))
            .await,
        1
    );

    // History, newest first, as many as asked.
    let history = text_of(&bot.ask(owner, "!eh_history 3").await);
    assert!(history.contains("The last 3 hook executions"), "{history}");
    assert!(history.contains("✅ basic/fixture_event#1"), "{history}");

    // Bad names say what a name looks like; unknown ones say where to look.
    let bad = text_of(&bot.ask(owner, "!eh_disable nonsense").await);
    assert!(bad.contains("plugin/event#index"), "{bad}");
    let unknown = text_of(&bot.ask(owner, "!eh_enable basic/nothing#0").await);
    assert!(
        unknown.contains("No loaded plugin registered `basic/nothing#0`"),
        "{unknown}"
    );

    // The slash form suggests hook names to owners.
    bot.wait_registered("eh_disable").await;
    let (guild, channel) = (bot.guild(), bot.channel());
    let id = bot
        .sim
        .inject_autocomplete(
            guild,
            channel,
            owner,
            "eh_disable",
            ("hook", "fail"),
            serde_json::Value::Null,
        )
        .await
        .expect("autocomplete");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(
        (kind, data["choices"].clone()),
        (
            8,
            serde_json::json!([{"name": "basic/fixture_fail#2", "value": "basic/fixture_fail#2"}])
        )
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_commands_show_validate_enforce_and_alert_on_a_refusal() {
    let mut bot = TestBot::start(
        &[("basic-v1.so", "basic.so"), ("plugin-polls.so", "polls.so")],
        "",
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);

    // Everyone may list; the details are for owners.
    let listed = bot.ask(guest, "!pr_list").await;
    let list = text_of(&listed);
    assert!(list.contains("basic") && list.contains("polls"), "{list}");
    let footer = listed["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(footer.starts_with("Page 1/1 · 2 plugins"), "{listed}");
    let refused = bot.ask(guest, "!pr_info basic").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    let info = text_of(&bot.ask(owner, "!pr_info polls").await);
    assert!(
        info.contains("Version: 0.1.0") && info.contains("Commands:"),
        "{info}"
    );
    let missing = text_of(&bot.ask(owner, "!pr_info nothing").await);
    assert!(missing.contains("does not know `nothing`"), "{missing}");
    let valid = text_of(&bot.ask(owner, "!pr_validate basic").await);
    assert!(valid.contains("✅ Every dependency is loaded"), "{valid}");

    // Enforcement: shown, switched, saved in the registry.
    let shown = text_of(&bot.ask(owner, "!pr_enforce").await);
    assert!(shown.contains("Conflicts: on (refused)"), "{shown}");
    let off = text_of(&bot.ask(owner, "!pr_enforce conflicts off").await);
    assert!(off.contains("Conflicts: off (warned)"), "{off}");
    assert!(!bot.host.manager.enforcement().await.conflicts);
    let bad = bot.ask(owner, "!pr_enforce conflicts maybe").await;
    assert!(
        text_of(&bad).contains("`mode` must be one of: on, off"),
        "{bad}"
    );

    // A plugin refused for a missing dependency raises a registry alert.
    bot.ask(owner, "!pr_alert_channel").await;
    bot.host.install("manifest-needs-missing.so", "needy.so");
    let load = text_of(&bot.ask(owner, "!load needy").await);
    assert!(load.contains("Load failed"), "{load}");
    let alert = bot.nth_alert("🧩 Plugin Registry Alert", 1).await;
    assert!(
        alert.contains("`needy` 1.0.0 was refused") && alert.contains("absent"),
        "{alert}"
    );
    let validation = text_of(&bot.ask(owner, "!pr_validate needy").await);
    assert!(validation.contains("would be **refused**"), "{validation}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_commands_validate_show_and_change_keys_live_with_secrets_hidden() {
    let mut bot = TestBot::start(&[("basic-v1.so", "basic.so")], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let path = bot.host.dir.path().join("config.json");
    std::fs::write(&path, "{\"prefix\": \"!\"}\n").expect("config.json");
    let shared = std::sync::Arc::clone(bot.host.manager.dispatcher().shared());
    shared.set_config_file(path.clone());

    let valid = text_of(&bot.ask(owner, "!fw_config_validate").await);
    assert!(valid.contains("Config valid"), "{valid}");
    let schema = text_of(&bot.ask(owner, "!fw_config_schema diagnostics").await);
    assert!(
        schema.contains("diagnostics.lag_degraded_ms: number = 500.0"),
        "{schema}"
    );
    assert!(!schema.contains("cooldowns"), "{schema}");

    // A live key: the guest's second `ping` within 5 s is now held by the cooldown.
    let set = text_of(
        &bot.ask(owner, "!fw_config_set cooldowns.default_rate 1")
            .await,
    );
    assert!(set.contains("Applied now"), "{set}");
    bot.ask(guest, "!ping").await;
    let held = text_of(&bot.ask(guest, "!ping").await);
    assert!(
        held.contains("cooldown") || held.contains("again in"),
        "{held}"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(saved["cooldowns"]["default_rate"], 1);
    let got = text_of(
        &bot.ask(owner, "!fw_config_get cooldowns.default_rate")
            .await,
    );
    assert!(
        got.contains("1") && got.contains("set in config.json"),
        "{got}"
    );

    // A key read at start only says so; a bad value and an unknown key change nothing.
    let later = text_of(&bot.ask(owner, "!fw_config_set prefix ?").await);
    assert!(later.contains("at the next start"), "{later}");
    let before = std::fs::read_to_string(&path).expect("read");
    let bad = text_of(
        &bot.ask(owner, "!fw_config_set limits.plugin_threads 1")
            .await,
    );
    assert!(
        bad.contains("Not changed") && bad.contains("limits.plugin_threads"),
        "{bad}"
    );
    let unknown = text_of(&bot.ask(owner, "!fw_config_set cooldowns.rate 2").await);
    assert!(unknown.contains("is not a config key"), "{unknown}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);

    // The plugin described its section: listed, checked, its secret saved and shown to no one.
    let schema = text_of(&bot.ask(owner, "!fw_config_schema plugins.basic").await);
    assert!(
        schema.contains("limit: integer = 3 (1..10) ⚡")
            && schema.contains("passphrase: text 🔒")
            && schema.contains("mode: text [calm|loud]"),
        "{schema}"
    );
    let over = text_of(
        &bot.ask(owner, "!fw_config_set plugins.basic.limit 20")
            .await,
    );
    assert!(
        over.contains("plugins.basic: `limit` must be at most 10, got 20"),
        "{over}"
    );
    let stray = text_of(
        &bot.ask(owner, "!fw_config_set plugins.basic.api_key x")
            .await,
    );
    assert!(
        stray.contains("`api_key` is not a setting of this plugin"),
        "{stray}"
    );
    let limit = text_of(&bot.ask(owner, "!fw_config_set plugins.basic.limit 5").await);
    assert!(limit.contains("Applied now"), "{limit}");
    let secret = text_of(
        &bot.ask(owner, "!fw_config_set plugins.basic.passphrase open-sesame")
            .await,
    );
    assert!(
        secret.contains("••••••••") && !secret.contains("open-sesame"),
        "{secret}"
    );
    let section = text_of(&bot.ask(owner, "!fw_config_get plugins.basic").await);
    assert!(
        section.contains("passphrase") && section.contains('5') && !section.contains("open-sesame"),
        "{section}"
    );
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("open-sesame")
    );
    assert!(shared.config_document()["plugins"]["basic"]["passphrase"] == "open-sesame");
    let refused = bot.ask(guest, "!fw_config_get plugins.basic").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );

    // A plugin section broken by hand is reported with the plugin's own rules.
    std::fs::write(
        &path,
        "{\"plugins\": {\"basic\": {\"mode\": \"shouty\"}}}\n",
    )
    .expect("write");
    let plugin = text_of(&bot.ask(owner, "!fw_config_validate").await);
    assert!(
        plugin.contains("Plugin settings invalid")
            && plugin.contains("plugins.basic: `mode` must be one of: calm, loud"),
        "{plugin}"
    );

    // A file broken by hand is reported, not loaded.
    std::fs::write(&path, "{\"prefix\": \"\"}\n").expect("break it");
    let invalid = text_of(&bot.ask(owner, "!fw_config_validate").await);
    assert!(
        invalid.contains("Config invalid") && invalid.contains("prefix"),
        "{invalid}"
    );
    bot.shutdown().await;
}
