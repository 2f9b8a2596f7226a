//! Dependencies, versions, conflicts, cycles and load order with real plugin libraries.

mod support;

use support::TestHost;
use zoryx_host::manager::OpError;
use zoryx_host::registry::PluginStatus;

/// Every plugin the registry knows, with its status.
async fn statuses(host: &TestHost) -> Vec<(String, PluginStatus)> {
    host.manager
        .list()
        .await
        .into_iter()
        .map(|p| (p.name, p.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_order_is_topological_and_dependents_follow() {
    // a depends on b, b on c.
    let host = TestHost::new(&[
        ("manifest-a.so", "a.so"),
        ("manifest-b.so", "b.so"),
        ("manifest-c.so", "c.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["c", "b", "a"], "{:?}", report.refused);

    // c is needed: refused unless forced; forced unloads a, then b, then c.
    match host.manager.unload("c", false).await {
        Err(OpError::HasDependents { dependents, .. }) => assert_eq!(dependents, vec!["b", "a"]),
        other => panic!("{other:?}"),
    }
    let mut events = host.manager.subscribe();
    let reloaded = host.manager.reload("c").await.expect("reload");
    let names: Vec<&str> = reloaded.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["c", "b", "a"],
        "dependents reload in topological order"
    );
    drop(events.try_recv());
    assert_eq!(
        host.manager.unload("c", true).await.expect("forced"),
        vec!["a", "b", "c"]
    );
    assert!(host.manager.list().await.iter().all(|p| !p.loaded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_dependency_version_mismatch_and_conflict() {
    let host = TestHost::new(&[
        ("manifest-c.so", "c.so"),
        ("manifest-needs-missing.so", "needy.so"),
        ("manifest-needs-v2.so", "picky.so"),
        ("manifest-conflicts.so", "rival.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["c"], "{:?}", report.refused);
    let reason = |file: &str| {
        report
            .refused
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, e)| e.to_string())
            .unwrap_or_else(|| panic!("{file} not refused"))
    };
    let needy = reason("needy.so");
    assert!(needy.contains("absent"), "{needy}");
    let picky = reason("picky.so");
    assert!(
        picky.contains("^2") && picky.contains("1.0.0"),
        "names required and found: {picky}"
    );
    let rival = reason("rival.so");
    assert!(rival.contains("conflict"), "{rival}");
    let statuses = statuses(&host).await;
    assert!(
        statuses.contains(&("needy".into(), PluginStatus::MissingDependencies)),
        "{statuses:?}"
    );

    // Not enforced: warn and load.
    let mut enforcement = host.manager.enforcement().await;
    enforcement.dependencies = false;
    enforcement.conflicts = false;
    host.manager.set_enforcement(enforcement).await;
    host.manager
        .load("needy")
        .await
        .expect("loads with a warning");
    host.manager
        .load("rival")
        .await
        .expect("loads with a warning");
    let saved = std::fs::read_to_string(host.dir.path().join("data/plugin_registry.json"))
        .expect("registry file");
    assert!(
        saved.contains("needy") && saved.contains("false"),
        "{saved}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_cycle_is_reported_with_its_path() {
    let host = TestHost::new(&[
        ("manifest-cyc-a.so", "cyc_a.so"),
        ("manifest-cyc-b.so", "cyc_b.so"),
        ("manifest-cyc-c.so", "cyc_c.so"),
        ("manifest-c.so", "c.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["c"]);
    assert_eq!(report.refused.len(), 3);
    for (_, error) in &report.refused {
        let text = error.to_string();
        assert!(text.contains("cyc_a -> cyc_b -> cyc_c -> cyc_a"), "{text}");
    }
    let info = host.manager.info("cyc_b").await.expect("registry keeps it");
    assert_eq!(info.status, PluginStatus::Cycle);
}

/// `framework.enable_plugin_registry: false` (or `framework.load_cogs: false`, which turns every
/// framework system off): a missing dependency and a conflict are warnings, as without the
/// seed's registry cog, whatever the registry file says; the console says nothing is enforced.
/// With `load_cogs: false` the event hooks are off too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_registry_off_dependencies_and_conflicts_do_not_refuse() {
    let files = [
        ("manifest-c.so", "c.so"),
        ("manifest-needs-missing.so", "needy.so"),
        ("manifest-conflicts.so", "rival.so"),
        ("basic-v1.so", "basic.so"),
    ];
    for (config, hooks) in [
        (r#"{"framework": {"enable_plugin_registry": false}}"#, 1),
        (r#"{"framework": {"load_cogs": false}}"#, 0),
    ] {
        let host = TestHost::with_config(&files, config);
        let report = host.manager.load_all().await;
        let mut loaded = report.loaded.clone();
        loaded.sort();
        assert_eq!(
            loaded,
            ["basic", "c", "needy", "rival"],
            "{config}: {:?}",
            report.refused
        );
        assert!(!host.manager.registry_on(), "{config}");
        let statuses = statuses(&host).await;
        assert!(
            statuses.contains(&("needy".into(), PluginStatus::MissingDependencies)),
            "the problem is still recorded: {statuses:?}"
        );
        let ran = host
            .manager
            .dispatcher()
            .emit("fixture_event", serde_json::json!({"n": 1}))
            .await;
        assert_eq!(ran, hooks, "{config}: hooks that ran");
    }
    // The default: the registry refuses both.
    let host = TestHost::new(&files);
    let report = host.manager.load_all().await;
    let mut loaded = report.loaded.clone();
    loaded.sort();
    assert_eq!(loaded, ["basic", "c"], "{:?}", report.refused);
    assert!(host.manager.registry_on());
}
