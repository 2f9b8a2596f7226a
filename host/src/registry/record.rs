//! The records the registry keeps: manifests, statuses, enforcement settings and entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The host-owned, checked copy of a plugin's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginManifest {
    /// The plugin's unique name.
    pub name: String,
    /// The plugin's version.
    pub version: semver::Version,
    /// Who wrote it.
    #[serde(default)]
    pub author: String,
    /// What it does, in one line.
    #[serde(default)]
    pub description: String,
    /// The plugins it needs: name → version requirement.
    #[serde(default)]
    pub dependencies: BTreeMap<String, semver::VersionReq>,
    /// Plugin names this one refuses to run beside.
    #[serde(default)]
    pub conflicts: Vec<String>,
}

impl PluginManifest {
    /// A manifest with no author, description, dependencies or conflicts.
    pub fn new(name: impl Into<String>, version: semver::Version) -> Self {
        Self {
            name: name.into(),
            version,
            author: String::new(),
            description: String::new(),
            dependencies: BTreeMap::new(),
            conflicts: Vec::new(),
        }
    }
}

/// What the registry concluded about a plugin the last time it was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginStatus {
    /// Every check passed.
    Valid,
    /// Problems that do not concern dependencies (conflicts).
    Warnings,
    /// A dependency is absent or loaded in a version that does not satisfy the requirement.
    MissingDependencies,
    /// The plugin is part of a dependency cycle.
    Cycle,
}

/// Which problems refuse a load (enforced) rather than only warn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Enforcement {
    /// Refuse plugins with missing or mismatched dependencies, or in a dependency cycle.
    pub dependencies: bool,
    /// Refuse plugins that conflict with a loaded plugin.
    pub conflicts: bool,
}

impl Default for Enforcement {
    fn default() -> Self {
        Self {
            dependencies: true,
            conflicts: true,
        }
    }
}

/// Everything the registry remembers about one plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryEntry {
    /// Its manifest.
    pub manifest: PluginManifest,
    /// Its status when last checked.
    pub status: PluginStatus,
    /// Why it is not valid, in one line; empty when valid.
    #[serde(default)]
    pub reason: String,
    /// The names of its commands.
    #[serde(default)]
    pub commands: Vec<String>,
    /// Its library file in `extensions/`.
    #[serde(default)]
    pub file: Option<String>,
    /// How long its last load took, in milliseconds.
    #[serde(default)]
    pub load_time_ms: Option<f64>,
    /// Whether it is loaded now.
    #[serde(default)]
    pub loaded: bool,
}

impl RegistryEntry {
    /// An entry for `manifest` with the given status and reason, not loaded, with no commands,
    /// file or load time.
    pub fn new(manifest: PluginManifest, status: PluginStatus, reason: impl Into<String>) -> Self {
        Self {
            manifest,
            status,
            reason: reason.into(),
            commands: Vec::new(),
            file: None,
            load_time_ms: None,
            loaded: false,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serialises_in_snake_case() {
        let json = serde_json::to_string(&PluginStatus::MissingDependencies).expect("serialise");
        assert_eq!(json, "\"missing_dependencies\"");
        let back: PluginStatus = serde_json::from_str("\"cycle\"").expect("deserialise");
        assert_eq!(back, PluginStatus::Cycle);
    }

    #[test]
    fn enforcement_defaults_to_both_enforced_even_when_fields_are_absent() {
        assert_eq!(
            Enforcement::default(),
            Enforcement {
                dependencies: true,
                conflicts: true
            }
        );
        let partial: Enforcement =
            serde_json::from_str(r#"{"conflicts": false}"#).expect("deserialise");
        assert!(partial.dependencies);
        assert!(!partial.conflicts);
    }

    #[test]
    fn entry_optional_fields_default_when_absent() {
        let json = r#"{"manifest": {"name": "x", "version": "1.0.0"}, "status": "valid"}"#;
        let entry: RegistryEntry = serde_json::from_str(json).expect("deserialise");
        assert_eq!(entry.name(), "x");
        assert!(entry.commands.is_empty());
        assert!(entry.file.is_none());
        assert!(!entry.loaded);
    }
}
