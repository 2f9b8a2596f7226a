//! What an install needs, in order: the plugin asked for and the dependencies it lacks, each
//! checked for this host's target and plugin API before anything is downloaded.
//!
//! Installed plugins are never changed behind the owner's back: a dependency that is installed
//! at a version the request does not accept is a conflict, not a silent upgrade.

use std::collections::BTreeMap;

use crate::index::{Artifact, Entry, Index};

/// A plugin this host already has, by name.
pub type Installed = BTreeMap<String, semver::Version>;

/// One plugin to download and publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The index's entry.
    pub entry: Entry,
    /// Its artifact for this target.
    pub artifact: Artifact,
    /// The installed version it replaces, for an update.
    pub replaces: Option<semver::Version>,
}

/// The steps of an install, dependencies first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// In the order to publish them.
    pub steps: Vec<Step>,
}

/// Why an install cannot go ahead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// Nothing of that name (or version) in the index.
    #[error("`{name}` {requirement} is not in the index")]
    NotFound {
        /// The plugin.
        name: String,
        /// The versions asked for.
        requirement: String,
    },
    /// Versions exist, none for this host; says why for the newest.
    #[error("`{name}` {version}: {reason}")]
    Incompatible {
        /// The plugin.
        name: String,
        /// The newest version that matched the requirement.
        version: String,
        /// Which check refused it.
        reason: String,
    },
    /// The same version is installed.
    #[error("`{name}` {version} is already installed")]
    AlreadyInstalled {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
    },
    /// A dependency is installed (or planned) at a version the requester does not accept.
    #[error(
        "`{requester}` needs `{name}` {requirement}, but `{name}` {present} is {where_}: update or remove it first"
    )]
    Conflict {
        /// Who needs it.
        requester: String,
        /// The dependency.
        name: String,
        /// What the requester accepts.
        requirement: String,
        /// The version there.
        present: String,
        /// "installed" or "needed by another plugin of this install".
        where_: &'static str,
    },
    /// Dependencies that go round.
    #[error("dependency cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
}

/// Whether a plugin built against plugin API `built` runs on a host of API `host`: the same
/// major version, and no newer minor than the host's (a 1.2 plugin runs on a 1.3 host).
pub fn api_compatible(built: &semver::Version, host: &semver::Version) -> bool {
    built.major == host.major && built.minor <= host.minor
}

/// Plans installing `name` (the newest version `requirement` accepts) on a host of `target` and
/// plugin API `api`, with `installed` already there.
pub fn plan(
    index: &Index,
    name: &str,
    requirement: &semver::VersionReq,
    installed: &Installed,
    target: &str,
    api: &semver::Version,
) -> Result<Plan, PlanError> {
    let entry = choose(index, name, requirement, target, api)?;
    if installed.get(name) == Some(&entry.version) {
        return Err(PlanError::AlreadyInstalled {
            name: name.to_owned(),
            version: entry.version.to_string(),
        });
    }
    let mut planner = Planner {
        index,
        installed,
        target,
        api,
        plan: Plan::default(),
        visiting: Vec::new(),
    };
    planner.visit(entry)?;
    Ok(planner.plan)
}

/// The newest entry of `name` that `requirement` accepts and that runs here.
fn choose<'a>(
    index: &'a Index,
    name: &str,
    requirement: &semver::VersionReq,
    target: &str,
    api: &semver::Version,
) -> Result<&'a Entry, PlanError> {
    let candidates: Vec<&Entry> = index
        .versions(name)
        .into_iter()
        .filter(|e| requirement.matches(&e.version))
        .collect();
    let Some(newest) = candidates.first() else {
        return Err(PlanError::NotFound {
            name: name.to_owned(),
            requirement: requirement.to_string(),
        });
    };
    if let Some(found) = candidates
        .iter()
        .find(|e| e.artifact(target).is_some() && api_compatible(&e.api_version, api))
    {
        return Ok(found);
    }
    let reason = if newest.artifact(target).is_none() {
        let offered: Vec<&str> = newest.artifacts.keys().map(String::as_str).collect();
        format!(
            "no library for this host's target {target} (offered: {})",
            offered.join(", ")
        )
    } else {
        format!(
            "built for plugin API {}, which this host (plugin API {api}) cannot load",
            newest.api_version
        )
    };
    Err(PlanError::Incompatible {
        name: name.to_owned(),
        version: newest.version.to_string(),
        reason,
    })
}

struct Planner<'a> {
    index: &'a Index,
    installed: &'a Installed,
    target: &'a str,
    api: &'a semver::Version,
    plan: Plan,
    /// The path being resolved, to name a cycle.
    visiting: Vec<String>,
}

impl Planner<'_> {
    fn visit(&mut self, entry: &Entry) -> Result<(), PlanError> {
        if let Some(at) = self.visiting.iter().position(|n| *n == entry.name) {
            let mut cycle = self.visiting[at..].to_vec();
            cycle.push(entry.name.clone());
            return Err(PlanError::Cycle(cycle));
        }
        self.visiting.push(entry.name.clone());
        for (dependency, requirement) in &entry.dependencies {
            if let Some(present) = self.installed.get(dependency) {
                if requirement.matches(present) {
                    continue;
                }
                // The plugin being updated is replaced by this install.
                if *dependency != self.visiting[0] {
                    return Err(PlanError::Conflict {
                        requester: entry.name.clone(),
                        name: dependency.clone(),
                        requirement: requirement.to_string(),
                        present: present.to_string(),
                        where_: "installed",
                    });
                }
            }
            if let Some(step) = self.plan.steps.iter().find(|s| s.entry.name == *dependency) {
                if requirement.matches(&step.entry.version) {
                    continue;
                }
                return Err(PlanError::Conflict {
                    requester: entry.name.clone(),
                    name: dependency.clone(),
                    requirement: requirement.to_string(),
                    present: step.entry.version.to_string(),
                    where_: "needed by another plugin of this install",
                });
            }
            if self.visiting.contains(dependency) {
                let at = self
                    .visiting
                    .iter()
                    .position(|n| n == dependency)
                    .unwrap_or(0);
                let mut cycle = self.visiting[at..].to_vec();
                cycle.push(dependency.clone());
                return Err(PlanError::Cycle(cycle));
            }
            let chosen = choose(self.index, dependency, requirement, self.target, self.api)?;
            self.visit(chosen)?;
        }
        self.visiting.pop();
        if let Some(artifact) = entry.artifact(self.target) {
            self.plan.steps.push(Step {
                entry: entry.clone(),
                artifact: artifact.clone(),
                replaces: self.installed.get(&entry.name).cloned(),
            });
        }
        Ok(())
    }
}
