use super::*;

fn m(name: &str, version: &str, deps: &[(&str, &str)], conflicts: &[&str]) -> PluginManifest {
    PluginManifest {
        name: name.into(),
        version: semver::Version::parse(version).expect("version"),
        author: String::new(),
        description: String::new(),
        dependencies: deps
            .iter()
            .map(|(n, r)| ((*n).to_owned(), semver::VersionReq::parse(r).expect("req")))
            .collect(),
        conflicts: conflicts.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn registry() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = Registry::open(dir.path().join("plugin_registry.json")).expect("open");
    (dir, registry)
}

#[test]
fn missing_and_mismatched_dependencies() {
    let (_d, r) = registry();
    let economy = m("economy", "1.4.0", &[], &[]);
    let v = r.validate(
        &m("shop", "1.0.0", &[("economy", "^2"), ("bank", "^1")], &[]),
        &[&economy],
    );
    assert_eq!(v.status(), PluginStatus::MissingDependencies);
    let reason = v.reason();
    assert!(reason.contains("missing dependency `bank`"), "{reason}");
    assert!(reason.contains("requires ^2, found 1.4.0"), "{reason}");
    assert!(v.is_refused(&Enforcement::default()));
    assert!(!v.is_refused(&Enforcement {
        dependencies: false,
        conflicts: true
    }));
}

#[test]
fn conflicts_both_ways() {
    let (_d, r) = registry();
    let old = m("old", "1.0.0", &[], &["new"]);
    let v = r.validate(&m("new", "1.0.0", &[], &[]), &[&old]);
    assert_eq!(v.status(), PluginStatus::Warnings);
    assert!(v.reason().contains("declared by `old`"));
    let plain = m("plain", "1.0.0", &[], &[]);
    let v = r.validate(&m("picky", "1.0.0", &[], &["plain"]), &[&plain]);
    assert!(v.reason().contains("conflict with `plain`"));
    assert!(!v.is_refused(&Enforcement {
        dependencies: true,
        conflicts: false
    }));
}

#[test]
fn cycles_with_paths() {
    let all = [
        m("a", "1.0.0", &[("b", "*")], &[]),
        m("b", "1.0.0", &[("c", "*")], &[]),
        m("c", "1.0.0", &[("a", "*")], &[]),
        m("d", "1.0.0", &[], &[]),
    ];
    let plan = load_order(&all);
    assert_eq!(plan.cycles, vec![vec!["a", "b", "c", "a"]]);
    assert_eq!(plan.order, vec!["d"]);
    let (_d, r) = registry();
    let v = r.validate(&m("selfish", "1.0.0", &[("selfish", "*")], &[]), &[]);
    assert!(v.reason().contains("selfish -> selfish"), "{}", v.reason());
}

#[test]
fn diamond_order_and_dependents() {
    let all = [
        m("d", "1.0.0", &[("b", "*"), ("c", "*")], &[]),
        m("c", "1.0.0", &[("a", "*")], &[]),
        m("b", "1.0.0", &[("a", "*")], &[]),
        m("a", "1.0.0", &[], &[]),
    ];
    assert_eq!(load_order(&all).order, vec!["a", "b", "c", "d"]);
    let (_d, r) = registry();
    let refs: Vec<&PluginManifest> = all.iter().collect();
    assert_eq!(r.dependents("a", &refs), vec!["b", "c", "d"]);
    assert_eq!(r.dependents("d", &refs), Vec::<String>::new());
}

#[test]
fn save_open_round_trip_and_corrupt_file_is_kept_aside() {
    let (dir, mut r) = registry();
    r.set_enforcement(Enforcement {
        dependencies: false,
        conflicts: true,
    });
    r.upsert(RegistryEntry {
        manifest: m("x", "1.2.3", &[("y", "^1")], &["z"]),
        status: PluginStatus::Valid,
        reason: String::new(),
        commands: vec!["cmd".into()],
        file: Some("x.so".into()),
        load_time_ms: Some(1.5),
        loaded: true,
    });
    r.save().expect("save");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp files left: {names:?}");
    let back = Registry::open(dir.path().join("plugin_registry.json")).expect("reopen");
    assert_eq!(back.enforcement(), r.enforcement());
    assert_eq!(back.get("x"), r.get("x"));

    let path = dir.path().join("plugin_registry.json");
    std::fs::write(&path, b"{ not json").expect("corrupt");
    let fresh = Registry::open(&path).expect("opens anyway");
    assert!(fresh.entries().next().is_none());
    let aside = fresh.quarantined().expect("moved aside");
    assert!(
        aside
            .to_string_lossy()
            .contains("plugin_registry.json.corrupt-")
    );
    assert_eq!(std::fs::read(aside).expect("kept"), b"{ not json");
}
