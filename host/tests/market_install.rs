//! The marketplace's install pipeline on real parts: a local index server (axum), real fixture
//! libraries, a real plugin manager over temp folders. A good plugin comes with its dependency
//! and answers commands; each bad case is refused at its step, with its reason, and leaves
//! `extensions/` byte-identical; updates keep the old version when the new one is refused;
//! pins, removal and the offline cache.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::market::{MarketServer, entry, index, snapshot};
use support::{TestHost, call_as, checker};
use zoryx_host::market::{MarketError, MarketOptions, Marketplace, Progress};
use zoryx_market::{KeyPair, PublicKey};
use zoryx_plugin_api::market::{MarketReport, MarketRequest};

/// A host with a marketplace over `server`, its cache always stale (every request fetches).
fn market_for(host: &TestHost, server: &MarketServer) -> Marketplace {
    let options = MarketOptions {
        index_url: Some(server.index_url()),
        trusted_keys: vec![server.key.public()],
        cache_ttl: Duration::ZERO,
        data: host.dir.path().join("data"),
        extensions: host.extensions(),
        checker: Some(checker()),
    };
    Marketplace::new(options, Some(Arc::downgrade(&host.manager))).expect("marketplace")
}

async fn ask(market: &Marketplace, request: MarketRequest) -> Result<MarketReport, MarketError> {
    let steps = std::sync::Mutex::new(Vec::new());
    let progress = |p: Progress| steps.lock().expect("lock").push(p);
    market.handle(request, &progress).await
}

fn install(name: &str) -> MarketRequest {
    MarketRequest::Install {
        name: name.to_owned(),
        version: None,
    }
}

/// Asserts `request` is refused at `step` with a reason containing `reason`, and that
/// `extensions/` and the loaded plugins are as they were.
async fn refused(
    host: &TestHost,
    market: &Marketplace,
    request: MarketRequest,
    step: &str,
    reason: &str,
) {
    let before = snapshot(&host.extensions());
    let loaded: Vec<String> = host.manager.table().plugins.keys().cloned().collect();
    let error = ask(market, request.clone())
        .await
        .expect_err(&format!("{request:?} must be refused at {step}"));
    assert_eq!(error.step(), step, "{error}");
    assert!(error.to_string().contains(reason), "{error}");
    assert_eq!(
        snapshot(&host.extensions()),
        before,
        "extensions/ changed after a refusal at {step}"
    );
    let after: Vec<String> = host.manager.table().plugins.keys().cloned().collect();
    assert_eq!(after, loaded, "the loaded plugins changed after {error}");
    let downloads = host.dir.path().join("data/marketplace/downloads");
    assert!(
        snapshot(&downloads).is_empty(),
        "a download was left behind after {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_and_its_dependency_install_and_every_bad_case_is_refused() {
    let host = TestHost::new(&[]);
    let server = MarketServer::start().await;
    let market = market_for(&host, &server);

    // The good plugin `b` needs `c`: both are installed, dependency first, and answer.
    let (b, b_bytes) = entry("b", "1.0.0", "manifest-b.so", &[("c", "^1.0")]);
    let (c, c_bytes) = entry("c", "1.0.0", "manifest-c.so", &[]);
    server.put_file("b-1.0.0.so", b_bytes);
    server.put_file("c-1.0.0.so", c_bytes);
    server.publish(&index(5, vec![b.clone(), c.clone()]));
    let report = ask(&market, install("b")).await.expect("install b");
    assert_eq!(
        report.changes,
        vec!["installed c 1.0.0", "installed b 1.0.0"],
        "{report:?}"
    );
    let (_, replies) = call_as(&host.manager, "b_cmd", "", false).await;
    assert_eq!(replies, vec!["b"]);
    let (_, replies) = call_as(&host.manager, "c_cmd", "", false).await;
    assert_eq!(replies, vec!["c"]);
    assert!(host.extensions().join("b.so").is_file());
    // Twice: said so, nothing changes.
    refused(&host, &market, install("b"), "request", "already installed").await;

    // A tampered artifact: the bytes differ from the signed hash.
    let (a, a_bytes) = entry("a", "1.0.0", "manifest-a.so", &[("b", "^1.0")]);
    let mut tampered = a_bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    server.put_file("a-1.0.0.so", tampered);
    server.publish(&index(6, vec![a.clone(), b.clone(), c.clone()]));
    refused(&host, &market, install("a"), "checksum", "SHA-256 mismatch").await;
    server.put_file("a-1.0.0.so", a_bytes.clone());

    // A signature by a key the host does not trust.
    let stranger = KeyPair::generate().expect("key");
    server.publish_signed_by(&index(7, vec![a.clone(), b.clone(), c.clone()]), &stranger);
    refused(
        &host,
        &market,
        install("a"),
        "signature",
        "not a trusted key",
    )
    .await;

    // The trusted key's signature over other bytes.
    let good = index(7, vec![a.clone(), b.clone(), c.clone()]);
    let signature = server.key.sign(&good.to_bytes()).to_bytes();
    let mut changed = good.clone();
    changed.name = "Test markef".to_owned();
    server.publish_raw(changed.to_bytes(), signature);
    refused(&host, &market, install("a"), "signature", "does not match").await;

    // A replay: an older index than the one accepted (version 6).
    server.publish(&index(4, vec![a.clone(), b.clone(), c.clone()]));
    refused(&host, &market, install("a"), "signature", "replay").await;

    // No library for this host's target.
    let mut elsewhere = a.clone();
    let artifact = elsewhere
        .artifacts
        .pop_first()
        .map(|(_, artifact)| artifact)
        .expect("artifact");
    elsewhere
        .artifacts
        .insert("riscv64gc-unknown-none-elf".to_owned(), artifact);
    server.publish(&index(8, vec![elsewhere, b.clone(), c.clone()]));
    refused(&host, &market, install("a"), "compatibility", "target").await;

    // Built against a plugin API this host cannot load.
    let (mut newer, newer_bytes) = entry("basic", "1.0.0", "newer-api.so", &[]);
    newer.api_version = semver::Version::new(1, 99, 0);
    server.put_file("basic-1.0.0.so", newer_bytes);
    server.publish(&index(9, vec![newer, b.clone(), c.clone()]));
    refused(
        &host,
        &market,
        install("basic"),
        "compatibility",
        "plugin API",
    )
    .await;

    // A dependency cycle.
    let (x, _) = entry("cyc_a", "1.0.0", "manifest-cyc-a.so", &[("cyc_b", "*")]);
    let (y, _) = entry("cyc_b", "1.0.0", "manifest-cyc-b.so", &[("cyc_c", "*")]);
    let (z, _) = entry("cyc_c", "1.0.0", "manifest-cyc-c.so", &[("cyc_a", "*")]);
    server.publish(&index(10, vec![x, y, z, b.clone(), c.clone()]));
    refused(&host, &market, install("cyc_a"), "dependencies", "cycle").await;

    // A download cut halfway.
    let mut cut = a.clone();
    for artifact in cut.artifacts.values_mut() {
        artifact.url = "cut/a-1.0.0.so".to_owned();
    }
    server.publish(&index(11, vec![cut, b.clone(), c.clone()]));
    refused(&host, &market, install("a"), "download", "cut off").await;

    // A valid ELF library that is not a plugin.
    let (mut impostor, impostor_bytes) = entry("notplugin", "1.0.0", "not-a-plugin.so", &[]);
    impostor.name = "notplugin".to_owned();
    server.put_file("notplugin-1.0.0.so", impostor_bytes);
    server.publish(&index(12, vec![impostor, b.clone(), c.clone()]));
    refused(
        &host,
        &market,
        install("notplugin"),
        "library check",
        "not a Zoryx plugin",
    )
    .await;

    // A 2 GB Content-Length: refused before any byte.
    let mut huge = a.clone();
    for artifact in huge.artifacts.values_mut() {
        artifact.url = "huge/a-1.0.0.so".to_owned();
    }
    server.publish(&index(13, vec![huge, b.clone(), c.clone()]));
    refused(&host, &market, install("a"), "download", "before any byte").await;

    // A library that is another plugin than the index says (a real plugin, its real hash).
    let (disguised, disguised_bytes) = entry("d", "1.0.0", "manifest-c.so", &[]);
    server.put_file("d-1.0.0.so", disguised_bytes);
    server.publish(&index(14, vec![disguised, b.clone(), c.clone()]));
    refused(
        &host,
        &market,
        install("d"),
        "library check",
        "the library is c 1.0.0, not the index's d 1.0.0",
    )
    .await;

    // After all that, the good one still installs.
    server.publish(&index(15, vec![a, b, c]));
    let report = ask(&market, install("a")).await.expect("install a");
    assert_eq!(report.changes, vec!["installed a 1.0.0"]);
    let (_, replies) = call_as(&host.manager, "a_cmd", "", false).await;
    assert_eq!(replies, vec!["a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_reload_keep_the_old_version_on_failure_and_respect_pins() {
    let host = TestHost::new(&[]);
    let server = MarketServer::start().await;
    let market = market_for(&host, &server);
    let (v1, v1_bytes) = entry("basic", "1.0.0", "basic-v1.so", &[]);
    let (v2, v2_bytes) = entry("basic", "2.0.0", "basic-v2.so", &[]);
    server.put_file("basic-1.0.0.so", v1_bytes);
    server.put_file("basic-2.0.0.so", v2_bytes);
    server.publish(&index(1, vec![v1.clone()]));
    ask(&market, install("basic")).await.expect("install v1");
    let (_, replies) = call_as(&host.manager, "version", "", false).await;
    assert_eq!(replies, vec!["v1"]);

    // Nothing newer yet.
    refused(
        &host,
        &market,
        MarketRequest::Update {
            name: "basic".into(),
        },
        "request",
        "newest version",
    )
    .await;

    // A 3.0.0 whose library is not a plugin: refused, 1.0.0 keeps serving from the same file.
    let (mut broken, broken_bytes) = entry("basic", "3.0.0", "not-a-plugin.so", &[]);
    broken.name = "basic".to_owned();
    server.put_file("basic-3.0.0.so", broken_bytes);
    server.publish(&index(2, vec![v1.clone(), broken]));
    refused(
        &host,
        &market,
        MarketRequest::Update {
            name: "basic".into(),
        },
        "library check",
        "not a Zoryx plugin",
    )
    .await;
    let (_, replies) = call_as(&host.manager, "version", "", false).await;
    assert_eq!(replies, vec!["v1"]);

    // Pinned to 1.x, 2.0.0 is not offered.
    server.publish(&index(3, vec![v1.clone(), v2.clone()]));
    ask(
        &market,
        MarketRequest::Pin {
            name: "basic".into(),
            version: Some("~1".into()),
        },
    )
    .await
    .expect("pin");
    refused(
        &host,
        &market,
        MarketRequest::Update {
            name: "basic".into(),
        },
        "request",
        "pin",
    )
    .await;
    let listed = ask(&market, MarketRequest::List).await.expect("list");
    let basic = listed
        .plugins
        .iter()
        .find(|p| p.name == "basic")
        .expect("basic listed");
    assert_eq!(basic.version, "2.0.0");
    assert_eq!(basic.installed.as_deref(), Some("1.0.0"));
    assert_eq!(basic.pinned.as_deref(), Some("~1"));

    // Unpinned: updated through the reload path, same file, new version answering.
    ask(
        &market,
        MarketRequest::Pin {
            name: "basic".into(),
            version: None,
        },
    )
    .await
    .expect("unpin");
    let report = ask(
        &market,
        MarketRequest::Update {
            name: "basic".into(),
        },
    )
    .await
    .expect("update");
    assert_eq!(report.changes, vec!["updated basic 1.0.0 → 2.0.0"]);
    let (_, replies) = call_as(&host.manager, "version", "", false).await;
    assert_eq!(replies, vec!["v2"]);
    let files: Vec<String> = snapshot(&host.extensions()).into_keys().collect();
    assert_eq!(files, vec!["basic.so"]);

    // Removed: unloaded and gone.
    ask(
        &market,
        MarketRequest::Remove {
            name: "basic".into(),
        },
    )
    .await
    .expect("remove");
    assert!(snapshot(&host.extensions()).is_empty());
    assert!(host.manager.info("basic").await.is_none_or(|i| !i.loaded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_needed_plugin_is_not_removed_and_the_cache_serves_offline() {
    let host = TestHost::new(&[]);
    let server = MarketServer::start().await;
    let market = market_for(&host, &server);
    let (b, b_bytes) = entry("b", "1.0.0", "manifest-b.so", &[("c", "^1.0")]);
    let (c, c_bytes) = entry("c", "1.0.0", "manifest-c.so", &[]);
    server.put_file("b-1.0.0.so", b_bytes);
    server.put_file("c-1.0.0.so", c_bytes);
    server.publish(&index(1, vec![b, c]));
    ask(&market, install("b")).await.expect("install");
    refused(
        &host,
        &market,
        MarketRequest::Remove { name: "c".into() },
        "request",
        "needed by b",
    )
    .await;

    // The marketplace goes down: the cached index answers, marked offline.
    server.set_down(true);
    let listed = ask(
        &market,
        MarketRequest::Search {
            query: "test plugin".into(),
        },
    )
    .await
    .expect("search offline");
    assert!(listed.offline);
    assert_eq!(listed.plugins.len(), 2, "{listed:?}");

    // Without a cache (another host), a marketplace that is down is an index error.
    let other = TestHost::new(&[]);
    refused(
        &other,
        &market_for(&other, &server),
        MarketRequest::List,
        "index",
        "503",
    )
    .await;

    // Not configured: said so.
    let unconfigured = Marketplace::new(
        MarketOptions {
            index_url: None,
            trusted_keys: vec![PublicKey::parse(&server.key.public().to_string()).expect("key")],
            cache_ttl: Duration::from_secs(300),
            data: other.dir.path().join("data"),
            extensions: other.extensions(),
            checker: None,
        },
        None,
    )
    .expect("marketplace");
    let error = ask(&unconfigured, MarketRequest::List)
        .await
        .expect_err("not configured");
    assert_eq!(error.step(), "config");
}

/// Runs `zoryx market ARGS` over `dir` (its config.json, data/ and extensions/); (success,
/// stdout, stderr).
async fn zoryx_market(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let mut command = tokio::process::Command::new(checker());
    command
        .arg("--config")
        .arg(dir.join("config.json"))
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--extensions")
        .arg(dir.join("extensions"))
        .arg("market")
        .args(args)
        .env("NO_COLOR", "1");
    let output = command.output().await.expect("run zoryx market");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_installs_lists_and_refuses_with_progress_on_the_log() {
    let server = MarketServer::start().await;
    let (b, b_bytes) = entry("b", "1.0.0", "manifest-b.so", &[("c", "^1.0")]);
    let (c, c_bytes) = entry("c", "1.0.0", "manifest-c.so", &[]);
    let (a, a_bytes) = entry("a", "1.0.0", "manifest-a.so", &[("b", "^1.0")]);
    server.put_file("b-1.0.0.so", b_bytes);
    server.put_file("c-1.0.0.so", c_bytes);
    let mut tampered = a_bytes;
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    server.put_file("a-1.0.0.so", tampered);
    server.publish(&index(2, vec![a, b, c]));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{"marketplace": {{"index_url": "{}", "trusted_keys": ["{}"]}}}}"#,
            server.index_url(),
            server.key.public()
        ),
    )
    .expect("config");

    let (ok, out, err) = zoryx_market(dir.path(), &["install", "b"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("installed c 1.0.0, installed b 1.0.0"),
        "{out}"
    );
    let log = format!("{out}{err}");
    assert!(
        log.contains("downloading b 1.0.0") && log.contains("library check passed"),
        "{log}"
    );
    let files: Vec<String> = snapshot(&dir.path().join("extensions"))
        .into_keys()
        .collect();
    assert_eq!(files, vec!["b.so", "c.so"]);

    let (ok, out, err) = zoryx_market(dir.path(), &["list"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("b 1.0.0 [Testing] (installed)")
            && out.contains("a 1.0.0 [Testing] (available)"),
        "{out}"
    );

    let before = snapshot(&dir.path().join("extensions"));
    let (ok, out, err) = zoryx_market(dir.path(), &["install", "a"]).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("checksum of a 1.0.0") && err.contains("SHA-256 mismatch"),
        "{err}"
    );
    assert_eq!(snapshot(&dir.path().join("extensions")), before);

    let (ok, _, err) = zoryx_market(dir.path(), &["remove", "c"]).await;
    assert!(!ok && err.contains("needed by b"), "{err}");
    let (ok, out, err) = zoryx_market(dir.path(), &["remove", "b"]).await;
    assert!(ok && out.contains("removed b 1.0.0"), "{out}{err}");
}
