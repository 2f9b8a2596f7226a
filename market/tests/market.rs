//! The marketplace's trust chain end to end on real bytes: keys, signatures, replays, artifact
//! checks and install plans.

use std::collections::BTreeMap;

use zoryx_market::artifact::sha256_hex;
use zoryx_market::plan::{self, PlanError};
use zoryx_market::signing::{self, KeyPair, PublicKey, SignatureFile, SigningError};
use zoryx_market::{Artifact, ArtifactCheck, ArtifactError, Entry, Index, IndexError, Installed};

const TARGET: &str = "x86_64-unknown-linux-gnu";

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

fn entry(name: &str, version: &str, deps: &[(&str, &str)], library: &[u8]) -> Entry {
    Entry {
        name: name.to_owned(),
        version: v(version),
        description: format!("{name} does things"),
        category: "Utility".to_owned(),
        author: "Zoryx".to_owned(),
        license: "MIT".to_owned(),
        homepage: String::new(),
        api_version: v("1.3.0"),
        dependencies: deps
            .iter()
            .map(|(n, r)| ((*n).to_owned(), semver::VersionReq::parse(r).expect("req")))
            .collect(),
        artifacts: BTreeMap::from([(
            TARGET.to_owned(),
            Artifact {
                url: format!("{name}-{version}.so"),
                size: library.len() as u64,
                sha256: sha256_hex(library),
            },
        )]),
    }
}

fn index(version: u64, plugins: Vec<Entry>) -> Index {
    Index {
        format: 1,
        name: "test".to_owned(),
        version,
        plugins,
    }
}

#[test]
fn a_signed_index_verifies_and_any_changed_byte_does_not() {
    let keys = KeyPair::generate().expect("key");
    let bytes = index(3, vec![entry("greeter", "1.0.0", &[], b"lib")]).to_bytes();
    let signature = keys.sign(&bytes);
    // Through the file format, as a host reads it.
    let signature = SignatureFile::parse(&signature.to_bytes()).expect("signature file");
    let trusted = [PublicKey::parse(&keys.public().to_string()).expect("public key")];
    let verified = signing::verify(&bytes, &signature, &trusted, None).expect("verified");
    assert_eq!(verified.index.plugins[0].name, "greeter");
    assert_eq!(verified.key, keys.public());

    for at in [0, bytes.len() / 2, bytes.len() - 2] {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        assert_eq!(
            signing::verify(&tampered, &signature, &trusted, None),
            Err(SigningError::BadSignature),
            "byte {at} changed"
        );
    }
}

#[test]
fn only_trusted_keys_count_and_a_key_survives_its_file_round_trip() {
    let publisher = KeyPair::generate().expect("key");
    let other = KeyPair::generate().expect("key");
    let bytes = index(1, vec![entry("greeter", "1.0.0", &[], b"lib")]).to_bytes();
    // Signed by a key nobody trusts: refused, naming the key.
    let forged = other.sign(&bytes);
    let refused = signing::verify(&bytes, &forged, &[publisher.public()], None);
    assert!(
        matches!(&refused, Err(SigningError::UntrustedKey(k)) if *k == other.public().to_string()),
        "{refused:?}"
    );
    // A signature from the untrusted key presented as the trusted one's: the bytes disagree.
    let mut swapped = forged.clone();
    swapped.key = publisher.public().to_string();
    assert_eq!(
        signing::verify(&bytes, &swapped, &[publisher.public()], None),
        Err(SigningError::BadSignature)
    );
    // The secret key file gives back the same key.
    let again = KeyPair::parse(&publisher.secret_text()).expect("secret key");
    assert_eq!(again.public(), publisher.public());
    assert!(!format!("{publisher:?}").contains(publisher.secret_text().trim()));
}

#[test]
fn an_older_index_is_a_replay() {
    let keys = KeyPair::generate().expect("key");
    let old = index(4, vec![entry("greeter", "1.0.0", &[], b"lib")]).to_bytes();
    let signature = keys.sign(&old);
    let trusted = [keys.public()];
    assert_eq!(
        signing::verify(&old, &signature, &trusted, Some(5)),
        Err(SigningError::Replay { got: 4, seen: 5 })
    );
    // The same version again is fine (a cache refreshed), as is a newer one.
    assert!(signing::verify(&old, &signature, &trusted, Some(4)).is_ok());
}

#[test]
fn bad_keys_signatures_and_indexes_are_refused_with_their_reason() {
    assert!(matches!(
        PublicKey::parse("ssh-ed25519 AAAA"),
        Err(SigningError::BadKey(_))
    ));
    // The identity point: a weak key.
    let weak = format!(
        "zoryx-ed25519:{}",
        base64_of(&{
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        })
    );
    assert!(matches!(
        PublicKey::parse(&weak),
        Err(SigningError::BadKey(_))
    ));
    assert!(matches!(
        SignatureFile::parse(b"not json"),
        Err(SigningError::BadSignatureFile(_))
    ));
    let keys = KeyPair::generate().expect("key");
    let mut short = keys.sign(b"x");
    short.signature = "AAAA".to_owned();
    assert!(matches!(
        signing::verify(b"x", &short, &[keys.public()], None),
        Err(SigningError::BadSignatureFile(_))
    ));
    // Signed, but not an index: refused after the signature, as an index error.
    let garbage = keys.sign(b"{\"format\": 1}");
    assert!(matches!(
        signing::verify(b"{\"format\": 1}", &garbage, &[keys.public()], None),
        Err(SigningError::Index(IndexError::Malformed(_)))
    ));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn index_rules_refuse_traversal_duplicates_and_bad_hashes() {
    let mut bad_url = entry("greeter", "1.0.0", &[], b"lib");
    if let Some(a) = bad_url.artifacts.get_mut(TARGET) {
        a.url = "../../extensions/evil.so".to_owned();
    }
    assert!(matches!(
        Index::parse(&index(1, vec![bad_url]).to_bytes()),
        Err(IndexError::Entry { problem, .. }) if problem.contains("neither relative")
    ));
    let twice = index(
        1,
        vec![
            entry("greeter", "1.0.0", &[], b"a"),
            entry("greeter", "1.0.0", &[], b"b"),
        ],
    );
    assert!(
        matches!(twice.check(), Err(IndexError::Entry { problem, .. }) if problem == "listed twice")
    );
    let mut bad_hash = entry("greeter", "1.0.0", &[], b"lib");
    if let Some(a) = bad_hash.artifacts.get_mut(TARGET) {
        a.sha256 = "ABC".to_owned();
    }
    assert!(index(1, vec![bad_hash]).check().is_err());
    let mut bad_name = entry("greeter", "1.0.0", &[], b"lib");
    bad_name.name = "../x".to_owned();
    assert!(index(1, vec![bad_name]).check().is_err());
    let mut future = index(1, Vec::new());
    future.format = 2;
    assert_eq!(future.check(), Err(IndexError::Format(2)));
    assert!(matches!(
        Index::parse(&vec![b' '; zoryx_market::index::MAX_INDEX_BYTES + 1]),
        Err(IndexError::TooLarge(_))
    ));
}

#[test]
fn a_download_must_be_the_indexed_bytes_no_more_no_less() {
    let library = vec![7u8; 10_000];
    let good = entry("greeter", "1.0.0", &[], &library);
    let artifact = good.artifact(TARGET).expect("artifact");

    let mut check = ArtifactCheck::new(artifact);
    check.announced(10_000).expect("announced");
    for chunk in library.chunks(1000) {
        check.update(chunk).expect("chunk");
    }
    check.finish().expect("good download");

    // A 2 GB Content-Length is refused before a byte is read.
    let check = ArtifactCheck::new(artifact);
    assert!(matches!(
        check.announced(2_000_000_000),
        Err(ArtifactError::TooLarge { .. })
    ));
    // A server that sends more than it said: refused at the first byte over.
    let mut check = ArtifactCheck::new(artifact);
    check.update(&library).expect("all of it");
    assert!(matches!(
        check.update(b"x"),
        Err(ArtifactError::TooLarge { got: 10_001, .. })
    ));
    // Cut halfway.
    let mut check = ArtifactCheck::new(artifact);
    check.update(&library[..5000]).expect("half");
    assert_eq!(
        check.finish(),
        Err(ArtifactError::Truncated {
            got: 5000,
            expected: 10_000
        })
    );
    // Tampered: same size, other bytes.
    let mut check = ArtifactCheck::new(artifact);
    let mut tampered = library.clone();
    tampered[42] = 0;
    check.update(&tampered).expect("bytes");
    assert!(matches!(
        check.finish(),
        Err(ArtifactError::HashMismatch { .. })
    ));
}

fn api() -> semver::Version {
    v("1.3.0")
}

fn any() -> semver::VersionReq {
    semver::VersionReq::STAR
}

#[test]
fn an_install_plans_missing_dependencies_first() {
    let market = index(
        1,
        vec![
            entry(
                "tickets",
                "2.0.0",
                &[("storage", "^1.1"), ("ui", "^1")],
                b"t",
            ),
            entry("storage", "1.0.0", &[], b"s1"),
            entry("storage", "1.2.0", &[], b"s2"),
            entry("ui", "1.0.0", &[("storage", "^1")], b"u"),
        ],
    );
    let plan = plan::plan(
        &market,
        "tickets",
        &any(),
        &Installed::new(),
        TARGET,
        &api(),
    )
    .expect("plan");
    let order: Vec<String> = plan
        .steps
        .iter()
        .map(|s| format!("{} {}", s.entry.name, s.entry.version))
        .collect();
    assert_eq!(order, ["storage 1.2.0", "ui 1.0.0", "tickets 2.0.0"]);

    // Installed dependencies that fit are kept.
    let installed = Installed::from([("storage".to_owned(), v("1.1.5"))]);
    let plan = plan::plan(&market, "tickets", &any(), &installed, TARGET, &api()).expect("plan");
    let names: Vec<&str> = plan.steps.iter().map(|s| s.entry.name.as_str()).collect();
    assert_eq!(names, ["ui", "tickets"]);
}

#[test]
fn conflicts_cycles_targets_and_api_versions_are_refused_before_any_download() {
    let market = index(
        1,
        vec![
            entry("tickets", "2.0.0", &[("storage", "^2")], b"t"),
            entry("storage", "2.0.0", &[], b"s"),
            entry("a", "1.0.0", &[("b", "*")], b"a"),
            entry("b", "1.0.0", &[("c", "*")], b"b"),
            entry("c", "1.0.0", &[("a", "*")], b"c"),
        ],
    );
    let installed = Installed::from([("storage".to_owned(), v("1.4.0"))]);
    let conflict = plan::plan(&market, "tickets", &any(), &installed, TARGET, &api());
    assert!(
        matches!(&conflict, Err(PlanError::Conflict { name, present, .. }) if name == "storage" && present == "1.4.0"),
        "{conflict:?}"
    );
    let cycle = plan::plan(&market, "a", &any(), &Installed::new(), TARGET, &api());
    assert_eq!(
        cycle,
        Err(PlanError::Cycle(vec![
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "a".to_owned()
        ]))
    );
    let wrong_target = plan::plan(
        &market,
        "storage",
        &any(),
        &Installed::new(),
        "aarch64-apple-darwin",
        &api(),
    );
    assert!(
        matches!(&wrong_target, Err(PlanError::Incompatible { reason, .. }) if reason.contains("aarch64-apple-darwin")),
        "{wrong_target:?}"
    );
    let old_host = plan::plan(
        &market,
        "storage",
        &any(),
        &Installed::new(),
        TARGET,
        &v("1.2.0"),
    );
    assert!(
        matches!(&old_host, Err(PlanError::Incompatible { reason, .. }) if reason.contains("plugin API 1.3.0")),
        "{old_host:?}"
    );
    let next_major = plan::plan(
        &market,
        "storage",
        &any(),
        &Installed::new(),
        TARGET,
        &v("2.0.0"),
    );
    assert!(matches!(next_major, Err(PlanError::Incompatible { .. })));
    assert!(matches!(
        plan::plan(&market, "nosuch", &any(), &Installed::new(), TARGET, &api()),
        Err(PlanError::NotFound { .. })
    ));
}

#[test]
fn updates_replace_and_the_same_version_is_already_installed() {
    let market = index(
        2,
        vec![
            entry("greeter", "1.0.0", &[], b"1"),
            entry("greeter", "1.1.0", &[], b"2"),
        ],
    );
    let installed = Installed::from([("greeter".to_owned(), v("1.0.0"))]);
    let plan = plan::plan(&market, "greeter", &any(), &installed, TARGET, &api()).expect("plan");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].replaces, Some(v("1.0.0")));
    assert_eq!(plan.steps[0].entry.version, v("1.1.0"));
    // Pinned to 1.0: the installed one.
    let pinned = semver::VersionReq::parse("=1.0.0").expect("req");
    assert_eq!(
        plan::plan(&market, "greeter", &pinned, &installed, TARGET, &api()),
        Err(PlanError::AlreadyInstalled {
            name: "greeter".to_owned(),
            version: "1.0.0".to_owned()
        })
    );
}
