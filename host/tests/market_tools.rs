//! `zoryx market`, the publisher's tools, as the real binary on real plugin libraries: a key
//! pair, an index built from libraries the loader checks, its signature, and the verification a
//! host does, which refuses a changed artifact, a changed index and an untrusted key.

mod support;

use std::path::Path;
use std::process::Command;

use support::fixture;

/// Runs `zoryx market ARGS`; (success, stdout, stderr).
fn market(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_zoryx"))
        .arg("market")
        .args(args)
        .output()
        .expect("run zoryx market");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn public_key(keygen_output: &str) -> String {
    keygen_output
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .expect("a public key line")
        .to_owned()
}

#[test]
fn a_folder_is_indexed_signed_and_verified_and_any_change_is_caught() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (secret, folder) = (dir.path().join("publisher.key"), dir.path().join("market"));
    let (ok, out, err) = market(&["keygen", "--secret", path(&secret)]);
    assert!(ok, "{err}");
    let key = public_key(&out);
    assert!(key.starts_with("zoryx-ed25519:"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the secret key is readable by others");
    }
    // A second keygen never overwrites a key.
    let (ok, _, err) = market(&["keygen", "--secret", path(&secret)]);
    assert!(!ok && err.contains("publisher.key"), "{err}");

    let help = fixture("plugin-help.so");
    let basic = fixture("basic-v1.so");
    let (ok, out, err) = market(&[
        "index",
        "--out",
        path(&folder),
        "--name",
        "Test market",
        "--category",
        "Core",
        path(&help),
        path(&basic),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("index version 1"), "{out}");

    // A file the loader refuses is not published, and the index is left as it was.
    let before = std::fs::read(folder.join("index.json")).expect("index");
    let (ok, _, err) = market(&[
        "index",
        "--out",
        path(&folder),
        path(&fixture("not-a-plugin.so")),
    ]);
    assert!(!ok && err.contains("not published"), "{err}");
    assert_eq!(
        std::fs::read(folder.join("index.json")).expect("index"),
        before
    );

    let index: serde_json::Value = serde_json::from_slice(&before).expect("the index is JSON");
    let names: Vec<&str> = index["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"help") && names.len() == 2, "{index}");
    let help_entry = index["plugins"]
        .as_array()
        .and_then(|p| p.iter().find(|e| e["name"] == "help"))
        .expect("help");
    assert_eq!(help_entry["category"], "Core");
    assert_eq!(
        help_entry["api_version"],
        zoryx_plugin_api::API_VERSION.to_string()
    );

    let index_file = folder.join("index.json");
    let (ok, _, err) = market(&["sign", "--secret", path(&secret), path(&index_file)]);
    assert!(ok, "{err}");
    let (ok, out, err) = market(&["verify", "--key", &key, path(&index_file)]);
    assert!(ok, "{err}");
    assert!(out.contains("2 artifacts match"), "{out}");

    // Another publisher's key: refused as untrusted.
    let other = dir.path().join("other.key");
    let (_, other_out, _) = market(&["keygen", "--secret", path(&other)]);
    let (ok, _, err) = market(&[
        "verify",
        "--key",
        &public_key(&other_out),
        path(&index_file),
    ]);
    assert!(!ok && err.contains("not a trusted key"), "{err}");

    // One byte of one library changed: that entry is named.
    let artifact = help_entry["artifacts"]
        .as_object()
        .and_then(|a| a.values().next())
        .and_then(|a| a["url"].as_str())
        .expect("artifact url");
    let library = folder.join(artifact);
    let original = std::fs::read(&library).expect("library");
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0xff;
    std::fs::write(&library, &changed).expect("tamper");
    let (ok, _, err) = market(&["verify", "--key", &key, path(&index_file)]);
    assert!(
        !ok && err.contains("help") && err.contains("SHA-256 mismatch"),
        "{err}"
    );
    std::fs::write(&library, &original).expect("restore");

    // The index changed after signing (a hash swapped): the signature no longer matches.
    let text = String::from_utf8(before.clone()).expect("utf-8");
    std::fs::write(&index_file, text.replace("Test market", "Test markef")).expect("tamper");
    let (ok, _, err) = market(&["verify", "--key", &key, path(&index_file)]);
    assert!(!ok && err.contains("does not match its contents"), "{err}");
}

/// The example index in `market/index/`: signed by the documented key, valid, and listing
/// every first-party plugin of `plugins/`.
#[test]
fn the_first_party_example_index_is_signed_and_lists_every_first_party_plugin() {
    let folder = support::root().join("market/index");
    let key = std::fs::read_to_string(folder.join("example-key.pub")).expect("example key");
    let trusted = [zoryx_market::PublicKey::parse(&key).expect("a public key")];
    let index = std::fs::read(folder.join("index.json")).expect("index");
    let signature = zoryx_market::SignatureFile::parse(
        &std::fs::read(folder.join("index.json.sig")).expect("signature"),
    )
    .expect("signature file");
    let verified =
        zoryx_market::signing::verify(&index, &signature, &trusted, None).expect("verified");
    let mut listed: Vec<String> = verified
        .index
        .latest()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    listed.sort();
    let mut crates: Vec<String> = std::fs::read_dir(support::root().join("plugins"))
        .expect("plugins/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    assert_eq!(listed, crates, "market/index/index.json is out of date");
    for entry in verified.index.latest() {
        assert!(
            !entry.category.is_empty() && !entry.license.is_empty(),
            "{entry:?}"
        );
    }
}
