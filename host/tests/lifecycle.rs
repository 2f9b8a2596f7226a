//! Load, unload and reload real plugin libraries; reload while 1,000 calls are in flight. Each
//! test runs in-process and isolated (every plugin in a worker process).

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use support::{Mode, TestHost, call_as};
use zoryx_host::gate::Refusal;
use zoryx_host::manager::OpError;
use zoryx_host::runtime::CommandOutcome;

async fn load_call_unload_reload(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    let report = host.manager.load_all().await;
    assert_eq!(
        report.loaded,
        vec!["basic".to_string()],
        "{:?}",
        report.refused
    );

    let (outcome, replies) = host.call("version", "").await;
    assert!(
        matches!(outcome, CommandOutcome::Done { .. }),
        "{outcome:?}"
    );
    assert_eq!(replies, vec!["v1"]);
    let worker = host.manager.info("basic").await.and_then(|i| i.worker);
    assert_eq!(worker.is_some(), mode == Mode::Isolated, "{worker:?}");

    // Loading again is refused the discord.py way.
    assert!(matches!(
        host.manager.load("basic").await,
        Err(OpError::AlreadyLoaded(_))
    ));

    // Reload to a new build.
    host.install("basic-v2.so", "basic.so");
    let reloaded = host.manager.reload("basic").await.expect("reload");
    assert_eq!(reloaded.len(), 1);
    assert!(reloaded[0].to > reloaded[0].from);
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
    let info = host.manager.info("basic").await.expect("info");
    assert_eq!(info.version, "2.0.0");
    assert_eq!(info.generation, Some(reloaded[0].to));
    assert!(info.load_time_ms.is_some_and(|ms| ms > 0.0));

    // The old generation retires once its calls are done; wait for it so the count below is
    // about the unload alone.
    assert!(
        host.manager
            .tracker()
            .wait_closed(1, std::time::Duration::from_secs(5))
            .await
    );

    // Unload: the command is gone, the library is closed and unmapped.
    let before = host.manager.library_stats().closed;
    assert_eq!(
        host.manager.unload("basic", false).await.expect("unload"),
        vec!["basic"]
    );
    assert!(matches!(
        host.call("version", "").await.0,
        CommandOutcome::Unknown
    ));
    assert!(
        host.manager
            .tracker()
            .wait_closed(before + 1, std::time::Duration::from_secs(5))
            .await
    );
    let stats = host.manager.library_stats();
    assert_eq!(stats.live, 0);
    assert!(stats.pinned.is_empty(), "{:?}", stats.pinned);
    assert!(matches!(
        host.manager.unload("basic", false).await,
        Err(OpError::NotLoaded(_))
    ));

    // And back.
    assert_eq!(host.manager.load("basic").await.expect("load"), "basic");
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
}

async fn failed_reload_keeps_the_old_generation_serving(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;
    let generation = host.manager.info("basic").await.and_then(|i| i.generation);
    // Replace the file with something that is not a library at all.
    std::fs::write(host.extensions().join("basic.so"), b"definitely not ELF").expect("write");
    let error = host.manager.reload("basic").await.expect_err("must fail");
    assert!(error.to_string().contains("basic.so"), "{error}");
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
    assert_eq!(
        host.manager.info("basic").await.and_then(|i| i.generation),
        generation
    );
}

async fn reload_with_1000_calls_in_flight(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;
    host.install("basic-v2.so", "basic.so");
    let manager = Arc::clone(&host.manager);
    let spawn_call = |manager: &Arc<zoryx_host::manager::Manager>| {
        let caller = Arc::clone(manager);
        tokio::spawn(async move { call_as(&caller, "slow", "40", true).await })
    };

    // 500 calls are running (each sleeps 40 ms inside the plugin) when the reload starts...
    let mut calls: Vec<_> = (0..500).map(|_| spawn_call(&manager)).collect();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let reload = {
        let manager = Arc::clone(&manager);
        tokio::spawn(async move { manager.reload("basic").await })
    };
    // ...250 more arrive while it runs, and 250 after it finished.
    calls.extend((0..250).map(|_| spawn_call(&manager)));
    let reloaded = reload.await.expect("task").expect("reload");
    assert_eq!(reloaded.len(), 1);
    calls.extend((0..250).map(|_| spawn_call(&manager)));

    let mut answered: HashMap<String, usize> = HashMap::new();
    let mut failures = Vec::new();
    for call in calls {
        let (outcome, replies) = call.await.expect("task");
        match outcome {
            CommandOutcome::Done { .. } if replies.len() == 1 => {
                *answered.entry(replies[0].clone()).or_default() += 1;
            }
            other => failures.push(format!("{other:?} {replies:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(
        answered.values().sum::<usize>(),
        1000,
        "each call answered exactly once: {answered:?}"
    );
    assert!(
        answered.keys().all(|v| v == "v1" || v == "v2"),
        "{answered:?}"
    );
    let v1 = answered.get("v1").copied().unwrap_or(0);
    let v2 = answered.get("v2").copied().unwrap_or(0);
    assert!(
        v1 >= 500,
        "calls in flight finish on the old generation: {answered:?}"
    );
    assert!(
        v2 >= 250,
        "calls after the reload go to the new one: {answered:?}"
    );
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
}

async fn typed_arguments_permissions_and_usage(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;
    let (_, replies) = host
        .call("echo", r#"42 "two words" yes and the rest"#)
        .await;
    assert_eq!(replies, vec!["42|two words|true|and the rest"]);
    match host.call("echo", "nope word yes").await.0 {
        CommandOutcome::Refused(Refusal::Arguments { error, usage }) => {
            assert!(
                error.to_string().contains("`nope` is not a valid integer"),
                "{error}"
            );
            assert_eq!(
                usage,
                "!echo <n: integer> <word: text> <flag: yes/no> [rest: text...]"
            );
        }
        other => panic!("{other:?}"),
    }
    // The same through a struct (`derive(CommandArgs)`): declared from its fields, read into
    // them; a wrong value names the field.
    let (_, replies) = host.call("give", "<@42> 5 for the help").await;
    assert_eq!(replies, vec!["42|5|for the help"]);
    assert_eq!(host.call("give", "<@42> 5").await.1, vec!["42|5|"]);
    match host.call("give", "<@42> five").await.0 {
        CommandOutcome::Refused(Refusal::Arguments { error, usage }) => {
            assert!(
                error.to_string().contains("`five` is not a valid integer"),
                "{error}"
            );
            assert_eq!(usage, "!give <to: user> <amount: integer> [note: text...]");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        call_as(&host.manager, "owner_only", "", false).await.0,
        CommandOutcome::Refused(Refusal::Level { .. } | Refusal::OwnerOnly)
    ));
    assert_eq!(
        call_as(&host.manager, "owner_only", "", true).await.1,
        vec!["ok"]
    );
}

async fn a_command_name_clash_is_refused(mode: Mode) {
    let host = TestHost::in_mode(
        &[("basic-v1.so", "basic.so"), ("plugin-hello.so", "hello.so")],
        mode,
    );
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["basic"]);
    let (file, error) = &report.refused[0];
    assert_eq!(file, "hello.so");
    assert!(
        error
            .to_string()
            .contains("command `echo` is already registered by plugin `basic`"),
        "{error}"
    );
}

both_modes!(
    load_call_unload_reload,
    failed_reload_keeps_the_old_generation_serving,
    reload_with_1000_calls_in_flight,
    typed_arguments_permissions_and_usage,
    a_command_name_clash_is_refused,
);
