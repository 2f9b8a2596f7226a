//! The plugin registry: the manifest of every plugin the host knows, validation of manifests
//! against each other (dependencies, versions, conflicts, cycles), load order, dependents, and
//! persistence in `plugin_registry.json`.
//!
//! - `record`: [`PluginManifest`], [`PluginStatus`], [`Enforcement`], [`RegistryEntry`];
//! - `validate`: [`Validation`] and its [`Issue`]s;
//! - `graph`: [`load_order`] / [`LoadPlan`] and dependents, with petgraph;
//! - `persist`: reading (a corrupt file is moved aside) and atomic writing.

mod graph;
mod persist;
mod record;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use graph::{LoadPlan, load_order};
pub use record::{Enforcement, PluginManifest, PluginStatus, RegistryEntry};
pub use validate::{Issue, IssueKind, Validation};

/// Why the registry could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A file system operation failed.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done ("reading", "renaming over", …).
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The registry could not be serialised.
    #[error("serialising the plugin registry: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Writing or moving aside the file failed.
    #[error(transparent)]
    File(#[from] crate::storage::atomic::AtomicError),
}

/// The registry of every plugin the host knows, backed by `plugin_registry.json`.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    enforcement: Enforcement,
    entries: BTreeMap<String, RegistryEntry>,
    quarantined: Option<PathBuf>,
}

impl Registry {
    /// Opens the registry stored at `path` (the `plugin_registry.json` file itself).
    ///
    /// A missing file gives an empty registry with default enforcement. A corrupt file is not
    /// overwritten: it is renamed to `<name>.corrupt-<unix timestamp>`, a warning names it, and
    /// the registry starts empty; [`Registry::quarantined`] tells where it went.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Io`] if the file exists but cannot be read, or if a corrupt file cannot
    /// be moved aside.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, RegistryError> {
        let path = path.into();
        let loaded = persist::read(&path)?;
        let entries = loaded
            .document
            .plugins
            .into_values()
            .map(|entry| (entry.manifest.name.clone(), entry))
            .collect();
        Ok(Self {
            path,
            enforcement: loaded.document.enforcement,
            entries,
            quarantined: loaded.quarantined,
        })
    }

    /// Where a corrupt registry file was moved by [`Registry::open`], if it was.
    pub fn quarantined(&self) -> Option<&Path> {
        self.quarantined.as_deref()
    }

    /// The file the registry is stored in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the enforcement settings and every entry atomically: a temp file in the same
    /// folder, synced, renamed over the file, then the folder synced.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Io`] if any step fails (the previous file is then left as it was and
    /// the temp file removed), [`RegistryError::Serialize`] if serialising fails.
    pub fn save(&self) -> Result<(), RegistryError> {
        persist::write(
            &self.path,
            &persist::DocumentRef {
                enforcement: self.enforcement,
                plugins: &self.entries,
            },
        )
    }

    /// The current enforcement settings.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Changes the enforcement settings (saved by the next [`Registry::save`]).
    pub fn set_enforcement(&mut self, enforcement: Enforcement) {
        self.enforcement = enforcement;
    }

    /// Checks `candidate` against the `loaded` plugins: every dependency present in a
    /// satisfying version, no conflict either way, no dependency cycle closed by the candidate.
    /// A loaded plugin with the candidate's name is taken as the one it replaces and ignored.
    pub fn validate(&self, candidate: &PluginManifest, loaded: &[&PluginManifest]) -> Validation {
        let validation = validate::check(candidate, loaded);
        if !validation.is_valid() {
            tracing::debug!(
                plugin = %candidate.name,
                refused = validation.is_refused(&self.enforcement),
                "validation: {}",
                validation.reason()
            );
        }
        validation
    }

    /// Every loaded plugin that depends on `name`, directly or transitively, in topological
    /// order (a plugin before those depending on it). Unload them in reverse of this order,
    /// reload them in this order.
    pub fn dependents(&self, name: &str, loaded: &[&PluginManifest]) -> Vec<String> {
        graph::dependents(name, loaded)
    }

    /// Adds an entry, or replaces the one with the same plugin name.
    pub fn upsert(&mut self, entry: RegistryEntry) {
        self.entries.insert(entry.manifest.name.clone(), entry);
    }

    /// The entry of the plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&RegistryEntry> {
        self.entries.get(name)
    }

    /// Every entry, in name order.
    pub fn entries(&self) -> impl Iterator<Item = &RegistryEntry> {
        self.entries.values()
    }

    /// Marks the plugin called `name` as not loaded; its entry stays.
    pub fn mark_unloaded(&mut self, name: &str) {
        if let Some(entry) = self.entries.get_mut(name) {
            entry.loaded = false;
        }
    }

    /// Forgets the plugin called `name`, returning its entry if it had one.
    pub fn remove(&mut self, name: &str) -> Option<RegistryEntry> {
        self.entries.remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "plugin_registry.json";

    fn manifest(name: &str, version: &str, deps: &[(&str, &str)]) -> PluginManifest {
        let mut m = PluginManifest::new(name, semver::Version::parse(version).expect("version"));
        m.dependencies = deps
            .iter()
            .map(|(n, r)| ((*n).to_owned(), semver::VersionReq::parse(r).expect("req")))
            .collect();
        m
    }

    fn open_in(dir: &tempfile::TempDir) -> Registry {
        Registry::open(dir.path().join(FILE)).expect("open")
    }

    fn full_entry() -> RegistryEntry {
        let mut m = manifest("x", "1.2.3", &[("y", "^1")]);
        m.author = "someone".into();
        m.description = "does x".into();
        m.conflicts = vec!["z".into()];
        RegistryEntry {
            manifest: m,
            status: PluginStatus::Warnings,
            reason: "conflict with `z` (declared by `x`)".into(),
            commands: vec!["cmd".into(), "other".into()],
            file: Some("x.so".into()),
            load_time_ms: Some(1.5),
            loaded: true,
        }
    }

    #[test]
    fn missing_file_opens_empty_with_default_enforcement() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = open_in(&dir);
        assert_eq!(registry.entries().count(), 0);
        assert_eq!(registry.enforcement(), Enforcement::default());
        assert!(registry.quarantined().is_none());
    }

    #[test]
    fn save_then_open_round_trips_entries_and_enforcement() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = open_in(&dir);
        let enforcement = Enforcement {
            dependencies: false,
            conflicts: true,
        };
        registry.set_enforcement(enforcement);
        registry.upsert(full_entry());
        registry.upsert(RegistryEntry::new(
            manifest("y", "1.0.0", &[]),
            PluginStatus::Valid,
            "",
        ));
        registry.save().expect("save");

        let back = open_in(&dir);
        assert_eq!(back.enforcement(), enforcement);
        let all: Vec<&RegistryEntry> = back.entries().collect();
        let expected: Vec<&RegistryEntry> = registry.entries().collect();
        assert_eq!(all, expected);
        assert_eq!(back.get("x"), Some(&full_entry()));
    }

    #[test]
    fn saved_file_is_pretty_json_with_snake_case_statuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = open_in(&dir);
        registry.upsert(RegistryEntry::new(
            manifest("needy", "1.0.0", &[("absent", "^1")]),
            PluginStatus::MissingDependencies,
            "missing dependency `absent` (^1)",
        ));
        registry.save().expect("save");
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert!(text.contains("\n  \"enforcement\": {"), "{text}");
        assert!(text.contains("\"missing_dependencies\""), "{text}");
        assert!(text.contains("\"absent\": \"^1\""), "{text}");
    }

    #[test]
    fn save_leaves_no_temp_files_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = open_in(&dir);
        for n in 0..5 {
            registry.upsert(RegistryEntry::new(
                manifest(&format!("p{n}"), "1.0.0", &[]),
                PluginStatus::Valid,
                "",
            ));
            registry.save().expect("save");
        }
        assert_eq!(persist::names(dir.path()), vec![FILE]);
        assert_eq!(open_in(&dir).entries().count(), 5);
    }

    #[test]
    fn corrupt_file_is_moved_aside_with_its_bytes_and_the_registry_starts_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE);
        let garbage = b"{ \"enforcement\": { not json \xff";
        std::fs::write(&path, garbage).expect("write");

        let mut registry = Registry::open(&path).expect("opens anyway");
        assert_eq!(registry.entries().count(), 0);
        assert_eq!(registry.enforcement(), Enforcement::default());
        let aside = registry.quarantined().expect("moved aside").to_owned();
        let aside_name = aside
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let stamp = aside_name
            .strip_prefix("plugin_registry.json.corrupt-")
            .expect("named <name>.corrupt-<ts>");
        assert!(stamp.parse::<u64>().expect("unix timestamp") > 1_600_000_000);
        assert_eq!(std::fs::read(&aside).expect("kept"), garbage);
        assert!(!path.exists(), "the corrupt file is not left in place");

        // Saving afterwards writes a fresh file and does not touch the quarantined one.
        registry.upsert(full_entry());
        registry.save().expect("save");
        assert_eq!(std::fs::read(&aside).expect("still kept"), garbage);
        assert_eq!(open_in(&dir).get("x"), Some(&full_entry()));
    }

    #[test]
    fn entries_are_keyed_by_manifest_name_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let json = r#"{"plugins": {"wrong_key": {"manifest": {"name": "right", "version": "1.0.0"}, "status": "valid"}}}"#;
        std::fs::write(dir.path().join(FILE), json).expect("write");
        let registry = open_in(&dir);
        assert!(registry.get("right").is_some());
        assert!(registry.get("wrong_key").is_none());
        assert_eq!(registry.enforcement(), Enforcement::default());
    }

    #[test]
    fn upsert_get_mark_unloaded_and_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = open_in(&dir);
        registry.upsert(full_entry());
        assert!(registry.get("x").is_some_and(|e| e.loaded));
        registry.mark_unloaded("x");
        registry.mark_unloaded("nobody");
        assert!(registry.get("x").is_some_and(|e| !e.loaded));
        let mut replaced = full_entry();
        replaced.manifest.version = semver::Version::new(2, 0, 0);
        registry.upsert(replaced);
        assert_eq!(registry.entries().count(), 1);
        assert_eq!(
            registry.get("x").map(|e| e.manifest.version.to_string()),
            Some("2.0.0".to_owned())
        );
        assert!(registry.remove("x").is_some());
        assert!(registry.get("x").is_none());
        assert!(registry.remove("x").is_none());
    }

    #[test]
    fn validate_and_dependents_through_the_registry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = open_in(&dir);
        let a = manifest("a", "1.0.0", &[]);
        let b = manifest("b", "1.0.0", &[("a", "^1")]);
        let c = manifest("c", "1.0.0", &[("a", "^1")]);
        let d = manifest("d", "1.0.0", &[("b", "*"), ("c", "*")]);
        let loaded = [&d, &c, &b, &a];
        assert_eq!(registry.dependents("a", &loaded), vec!["b", "c", "d"]);
        assert!(registry.validate(&d, &[&a, &b, &c]).is_valid());
        let v = registry.validate(&d, &[&a, &b]);
        assert_eq!(v.status(), PluginStatus::MissingDependencies);
        assert!(v.is_refused(&registry.enforcement()));
        let order = load_order(&[d.clone(), c.clone(), b.clone(), a.clone()]);
        assert_eq!(order.order, vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn io_errors_name_the_action_and_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE);
        std::fs::create_dir(&path).expect("mkdir");
        let error = Registry::open(&path).expect_err("a folder is not a registry file");
        let text = error.to_string();
        assert!(text.starts_with("reading `"), "{text}");
        assert!(text.contains(FILE), "{text}");
    }
}
