//! The plugin registry: manifests, validation (dependencies, conflicts, cycles), load order, and
//! `data/plugin_registry.json`.

mod graph;
mod persist;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use graph::{LoadPlan, load_order};

/// A host-owned, checked copy of a plugin's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginManifest {
    /// Name.
    pub name: String,
    /// Version.
    pub version: semver::Version,
    /// Author.
    pub author: String,
    /// Description.
    pub description: String,
    /// Dependencies: name → requirement.
    pub dependencies: BTreeMap<String, semver::VersionReq>,
    /// Plugins it refuses to run beside.
    pub conflicts: Vec<String>,
}

/// A plugin's registry status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginStatus {
    /// All checks passed.
    Valid,
    /// Conflicts (or issues loaded anyway).
    Warnings,
    /// Dependencies missing or in the wrong version.
    MissingDependencies,
    /// Part of a dependency cycle.
    Cycle,
}

/// Whether dependency and conflict problems refuse a load (enforced) or only warn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// Enforce dependencies (and cycles).
    pub dependencies: bool,
    /// Enforce conflicts.
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

/// One problem found by validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issue {
    /// A dependency is not loaded.
    MissingDependency {
        /// Its name.
        name: String,
        /// The requirement.
        req: semver::VersionReq,
    },
    /// A dependency is loaded in a version that does not satisfy the requirement.
    VersionMismatch {
        /// Its name.
        name: String,
        /// The requirement.
        req: semver::VersionReq,
        /// The loaded version.
        found: semver::Version,
    },
    /// Two plugins refuse to run together.
    Conflict {
        /// The other plugin.
        with: String,
        /// Which of the two declared it.
        declared_by: String,
    },
    /// A dependency cycle, as its path.
    Cycle(Vec<String>),
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingDependency { name, req } => {
                write!(f, "missing dependency `{name}` ({req})")
            }
            Self::VersionMismatch { name, req, found } => {
                write!(f, "dependency `{name}` requires {req}, found {found}")
            }
            Self::Conflict { with, declared_by } => {
                write!(f, "conflict with `{with}` (declared by `{declared_by}`)")
            }
            Self::Cycle(path) => write!(f, "dependency cycle {}", path.join(" -> ")),
        }
    }
}

/// The result of validating a manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Everything found.
    pub issues: Vec<Issue>,
}

impl Validation {
    /// Whether the enforcement settings refuse this plugin.
    pub fn is_refused(&self, enforcement: &Enforcement) -> bool {
        self.issues.iter().any(|issue| match issue {
            Issue::Conflict { .. } => enforcement.conflicts,
            _ => enforcement.dependencies,
        })
    }

    /// The status the issues amount to.
    pub fn status(&self) -> PluginStatus {
        if self.issues.iter().any(|i| matches!(i, Issue::Cycle(_))) {
            PluginStatus::Cycle
        } else if self.issues.iter().any(|i| {
            matches!(
                i,
                Issue::MissingDependency { .. } | Issue::VersionMismatch { .. }
            )
        }) {
            PluginStatus::MissingDependencies
        } else if self.issues.is_empty() {
            PluginStatus::Valid
        } else {
            PluginStatus::Warnings
        }
    }

    /// One line naming every issue; empty when valid.
    pub fn reason(&self) -> String {
        self.issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What the registry remembers of a plugin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegistryEntry {
    /// Its manifest.
    pub manifest: PluginManifest,
    /// Its status.
    pub status: PluginStatus,
    /// Why, when not valid.
    pub reason: String,
    /// Its command names.
    pub commands: Vec<String>,
    /// Its file in `extensions/`.
    pub file: Option<String>,
    /// Load time of the last generation (ms).
    pub load_time_ms: Option<f64>,
    /// Whether it is loaded now.
    pub loaded: bool,
}

/// Why the registry could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Serialising failed.
    #[error("serialising the registry: {0}")]
    Json(#[from] serde_json::Error),
}

/// The registry.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    enforcement: Enforcement,
    entries: BTreeMap<String, RegistryEntry>,
    quarantined: Option<PathBuf>,
}

impl Registry {
    /// Reads `path` (missing: empty). A corrupt file is moved aside to
    /// `<name>.corrupt-<unix time>` and the registry starts empty.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, RegistryError> {
        let path = path.into();
        let (document, quarantined) = persist::read(&path)?;
        Ok(Self {
            path,
            enforcement: document.enforcement,
            entries: document.plugins,
            quarantined,
        })
    }

    /// Where a corrupt registry file was moved, if it was.
    pub fn quarantined(&self) -> Option<&Path> {
        self.quarantined.as_deref()
    }

    /// Writes the registry atomically (temp file, fsync, rename, fsync the folder).
    pub fn save(&self) -> Result<(), RegistryError> {
        persist::write(
            &self.path,
            &persist::Document {
                enforcement: self.enforcement,
                plugins: self.entries.clone(),
            },
        )
    }

    /// Current enforcement.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Changes enforcement.
    pub fn set_enforcement(&mut self, enforcement: Enforcement) {
        self.enforcement = enforcement;
    }

    /// Validates `candidate` against the `loaded` plugins.
    pub fn validate(&self, candidate: &PluginManifest, loaded: &[&PluginManifest]) -> Validation {
        let mut issues = Vec::new();
        for (name, req) in &candidate.dependencies {
            match loaded.iter().find(|m| &m.name == name) {
                None if name == &candidate.name => {}
                None => issues.push(Issue::MissingDependency {
                    name: name.clone(),
                    req: req.clone(),
                }),
                Some(dep) if !req.matches(&dep.version) => issues.push(Issue::VersionMismatch {
                    name: name.clone(),
                    req: req.clone(),
                    found: dep.version.clone(),
                }),
                Some(_) => {}
            }
        }
        for other in loaded {
            if candidate.conflicts.contains(&other.name) {
                issues.push(Issue::Conflict {
                    with: other.name.clone(),
                    declared_by: candidate.name.clone(),
                });
            } else if other.conflicts.contains(&candidate.name) {
                issues.push(Issue::Conflict {
                    with: other.name.clone(),
                    declared_by: other.name.clone(),
                });
            }
        }
        let mut all: Vec<&PluginManifest> = loaded
            .iter()
            .copied()
            .filter(|m| m.name != candidate.name)
            .collect();
        all.push(candidate);
        for cycle in graph::plan(&all).cycles {
            if cycle.contains(&candidate.name) {
                issues.push(Issue::Cycle(cycle));
            }
        }
        Validation { issues }
    }

    /// Loaded plugins depending on `name`, directly or not, in topological order.
    pub fn dependents(&self, name: &str, loaded: &[&PluginManifest]) -> Vec<String> {
        let mut found: BTreeSet<String> = BTreeSet::new();
        let mut frontier = vec![name.to_owned()];
        while let Some(current) = frontier.pop() {
            for m in loaded {
                if m.dependencies.contains_key(&current)
                    && m.name != name
                    && found.insert(m.name.clone())
                {
                    frontier.push(m.name.clone());
                }
            }
        }
        let subset: Vec<&PluginManifest> = loaded
            .iter()
            .copied()
            .filter(|m| found.contains(&m.name))
            .collect();
        let plan = graph::plan(&subset);
        let mut order = plan.order;
        for cycle in plan.cycles {
            for n in cycle {
                if !order.contains(&n) {
                    order.push(n);
                }
            }
        }
        order
    }

    /// Adds or replaces an entry.
    pub fn upsert(&mut self, entry: RegistryEntry) {
        self.entries.insert(entry.manifest.name.clone(), entry);
    }

    /// One entry.
    pub fn get(&self, name: &str) -> Option<&RegistryEntry> {
        self.entries.get(name)
    }

    /// All entries, by name.
    pub fn entries(&self) -> impl Iterator<Item = &RegistryEntry> {
        self.entries.values()
    }

    /// Marks a plugin as not loaded (its entry stays).
    pub fn mark_unloaded(&mut self, name: &str) {
        if let Some(entry) = self.entries.get_mut(name) {
            entry.loaded = false;
        }
    }

    /// Forgets a plugin.
    pub fn remove(&mut self, name: &str) {
        self.entries.remove(name);
    }
}

#[cfg(test)]
mod tests;
