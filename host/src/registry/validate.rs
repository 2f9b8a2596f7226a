//! Validation of one manifest against the loaded plugins: dependencies, versions, conflicts
//! (both ways) and the dependency cycles the candidate would close.

use std::collections::BTreeMap;
use std::fmt;

use super::graph;
use super::{Enforcement, PluginManifest, PluginStatus};

/// What kind of problem validation found, with its particulars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// A dependency is not loaded.
    MissingDependency {
        /// The dependency's name.
        name: String,
        /// The version it is required in.
        req: semver::VersionReq,
    },
    /// A dependency is loaded in a version that does not satisfy the requirement.
    VersionMismatch {
        /// The dependency's name.
        name: String,
        /// The version it is required in.
        req: semver::VersionReq,
        /// The version that is loaded.
        found: semver::Version,
    },
    /// The candidate and a loaded plugin refuse to run together.
    Conflict {
        /// The other plugin (the loaded one).
        with: String,
        /// The plugin whose manifest lists the conflict (the candidate or `with`).
        declared_by: String,
    },
    /// Loading the candidate would close a dependency cycle.
    Cycle {
        /// The cycle, first node repeated at the end: `["a", "b", "c", "a"]`.
        path: Vec<String>,
    },
}

impl IssueKind {
    /// Whether this kind of issue concerns dependencies (missing, mismatched, cycle).
    pub fn is_dependency(&self) -> bool {
        !matches!(self, Self::Conflict { .. })
    }

    /// Whether `enforcement` refuses a plugin with this issue.
    pub fn is_enforced(&self, enforcement: &Enforcement) -> bool {
        if self.is_dependency() {
            enforcement.dependencies
        } else {
            enforcement.conflicts
        }
    }

    /// The one-line description of the issue.
    fn describe(&self) -> String {
        match self {
            Self::MissingDependency { name, req } => {
                format!("missing dependency `{name}` ({req})")
            }
            Self::VersionMismatch { name, req, found } => {
                format!("dependency `{name}` requires {req}, found {found}")
            }
            Self::Conflict { with, declared_by } => {
                format!("conflict with `{with}` (declared by `{declared_by}`)")
            }
            Self::Cycle { path } => format!("dependency cycle {}", path.join(" -> ")),
        }
    }
}

/// One problem found by validation: its kind and a one-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    kind: IssueKind,
    message: String,
}

impl Issue {
    /// An issue of `kind`, with its standard message.
    pub fn new(kind: IssueKind) -> Self {
        let message = kind.describe();
        Self { kind, message }
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> &IssueKind {
        &self.kind
    }

    /// The one-line message, e.g. "missing dependency `economy` (>=1.2)".
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of validating a manifest: every issue found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Every issue found, dependencies first, then conflicts, then the cycle.
    pub issues: Vec<Issue>,
}

impl Validation {
    /// Whether no issue was found.
    pub fn is_valid(&self) -> bool {
        self.issues.is_empty()
    }

    /// Whether `enforcement` refuses the plugin: a dependency issue (missing, mismatched or a
    /// cycle) with dependencies enforced, or a conflict with conflicts enforced.
    pub fn is_refused(&self, enforcement: &Enforcement) -> bool {
        self.issues
            .iter()
            .any(|issue| issue.kind.is_enforced(enforcement))
    }

    /// The status the issues amount to (whatever the enforcement): a cycle wins over a
    /// dependency problem, which wins over conflicts.
    pub fn status(&self) -> PluginStatus {
        let kinds = || self.issues.iter().map(Issue::kind);
        if kinds().any(|k| matches!(k, IssueKind::Cycle { .. })) {
            PluginStatus::Cycle
        } else if kinds().any(IssueKind::is_dependency) {
            PluginStatus::MissingDependencies
        } else if self.is_valid() {
            PluginStatus::Valid
        } else {
            PluginStatus::Warnings
        }
    }

    /// Every issue's message on one line, separated by `; `; empty when valid.
    pub fn reason(&self) -> String {
        self.issues
            .iter()
            .map(Issue::message)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Validates `candidate` against `loaded`. A loaded plugin with the candidate's name is the one
/// it replaces, so it is ignored.
pub(super) fn check(candidate: &PluginManifest, loaded: &[&PluginManifest]) -> Validation {
    let others: BTreeMap<&str, &PluginManifest> = loaded
        .iter()
        .filter(|m| m.name != candidate.name)
        .map(|m| (m.name.as_str(), *m))
        .collect();
    let mut issues = dependency_issues(candidate, &others);
    issues.extend(conflict_issues(candidate, &others));
    issues.extend(cycle_issue(candidate, &others));
    Validation { issues }
}

/// Missing dependencies and version mismatches. A dependency on itself is left to the cycle
/// check.
fn dependency_issues(
    candidate: &PluginManifest,
    others: &BTreeMap<&str, &PluginManifest>,
) -> Vec<Issue> {
    candidate
        .dependencies
        .iter()
        .filter(|(name, _)| **name != candidate.name)
        .filter_map(|(name, req)| {
            let kind = match others.get(name.as_str()) {
                None => IssueKind::MissingDependency {
                    name: name.clone(),
                    req: req.clone(),
                },
                Some(dep) if !req.matches(&dep.version) => IssueKind::VersionMismatch {
                    name: name.clone(),
                    req: req.clone(),
                    found: dep.version.clone(),
                },
                Some(_) => return None,
            };
            Some(Issue::new(kind))
        })
        .collect()
}

/// Conflicts the candidate declares with a loaded plugin, and those a loaded plugin declares
/// with the candidate; both are reported when both declare it.
fn conflict_issues(
    candidate: &PluginManifest,
    others: &BTreeMap<&str, &PluginManifest>,
) -> Vec<Issue> {
    let conflict = |with: &str, declared_by: &str| {
        Issue::new(IssueKind::Conflict {
            with: with.to_owned(),
            declared_by: declared_by.to_owned(),
        })
    };
    let mut issues = Vec::new();
    for other in others.values() {
        if candidate.conflicts.contains(&other.name) {
            issues.push(conflict(&other.name, &candidate.name));
        }
        if other.conflicts.contains(&candidate.name) {
            issues.push(conflict(&other.name, &other.name));
        }
    }
    issues
}

/// The shortest dependency cycle through the candidate, if loading it would close one.
fn cycle_issue(
    candidate: &PluginManifest,
    others: &BTreeMap<&str, &PluginManifest>,
) -> Option<Issue> {
    let mut all: Vec<&PluginManifest> = others.values().copied().collect();
    all.push(candidate);
    graph::cycle_through(&candidate.name, &all).map(|path| Issue::new(IssueKind::Cycle { path }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(
        name: &str,
        version: &str,
        deps: &[(&str, &str)],
        conflicts: &[&str],
    ) -> PluginManifest {
        let mut m = PluginManifest::new(name, semver::Version::parse(version).expect("version"));
        m.dependencies = deps
            .iter()
            .map(|(n, r)| ((*n).to_owned(), semver::VersionReq::parse(r).expect("req")))
            .collect();
        m.conflicts = conflicts.iter().map(|c| (*c).to_owned()).collect();
        m
    }

    const DEPS_OFF: Enforcement = Enforcement {
        dependencies: false,
        conflicts: true,
    };
    const CONFLICTS_OFF: Enforcement = Enforcement {
        dependencies: true,
        conflicts: false,
    };

    #[test]
    fn valid_when_dependencies_are_satisfied() {
        let economy = manifest("economy", "1.4.0", &[], &[]);
        let v = check(
            &manifest("shop", "1.0.0", &[("economy", ">=1.2")], &[]),
            &[&economy],
        );
        assert!(v.is_valid());
        assert_eq!(v.status(), PluginStatus::Valid);
        assert_eq!(v.reason(), "");
        assert!(!v.is_refused(&Enforcement::default()));
    }

    #[test]
    fn missing_dependency_is_named_with_its_requirement() {
        let v = check(
            &manifest("shop", "1.0.0", &[("economy", ">=1.2")], &[]),
            &[],
        );
        assert_eq!(
            v.issues,
            vec![Issue::new(IssueKind::MissingDependency {
                name: "economy".into(),
                req: semver::VersionReq::parse(">=1.2").expect("req"),
            })]
        );
        assert_eq!(v.reason(), "missing dependency `economy` (>=1.2)");
        assert_eq!(v.status(), PluginStatus::MissingDependencies);
        assert!(v.is_refused(&Enforcement::default()));
        assert!(v.is_refused(&CONFLICTS_OFF));
    }

    #[test]
    fn version_mismatch_names_required_and_found_versions() {
        let economy = manifest("economy", "1.4.0", &[], &[]);
        let v = check(
            &manifest("shop", "1.0.0", &[("economy", "^2")], &[]),
            &[&economy],
        );
        assert!(matches!(
            v.issues.as_slice(),
            [issue] if matches!(issue.kind(), IssueKind::VersionMismatch { found, .. } if found.to_string() == "1.4.0")
        ));
        let reason = v.reason();
        assert!(reason.contains("`economy`"), "{reason}");
        assert!(reason.contains("^2"), "{reason}");
        assert!(reason.contains("1.4.0"), "{reason}");
        assert_eq!(v.status(), PluginStatus::MissingDependencies);
        assert!(v.is_refused(&Enforcement::default()));
    }

    #[test]
    fn conflict_declared_by_the_candidate() {
        let plain = manifest("plain", "1.0.0", &[], &[]);
        let v = check(&manifest("picky", "1.0.0", &[], &["plain"]), &[&plain]);
        assert_eq!(
            v.issues,
            vec![Issue::new(IssueKind::Conflict {
                with: "plain".into(),
                declared_by: "picky".into(),
            })]
        );
        assert_eq!(v.reason(), "conflict with `plain` (declared by `picky`)");
        assert_eq!(v.status(), PluginStatus::Warnings);
        assert!(v.is_refused(&Enforcement::default()));
        assert!(!v.is_refused(&CONFLICTS_OFF));
        assert!(v.is_refused(&DEPS_OFF));
    }

    #[test]
    fn conflict_declared_by_the_loaded_plugin() {
        let old = manifest("old", "1.0.0", &[], &["new"]);
        let v = check(&manifest("new", "1.0.0", &[], &[]), &[&old]);
        assert_eq!(
            v.issues,
            vec![Issue::new(IssueKind::Conflict {
                with: "old".into(),
                declared_by: "old".into(),
            })]
        );
        assert!(v.is_refused(&Enforcement::default()));
        assert!(!v.is_refused(&CONFLICTS_OFF));
    }

    #[test]
    fn conflict_declared_by_both_is_reported_twice() {
        let old = manifest("old", "1.0.0", &[], &["new"]);
        let v = check(&manifest("new", "1.0.0", &[], &["old"]), &[&old]);
        assert_eq!(v.issues.len(), 2, "{}", v.reason());
    }

    #[test]
    fn self_dependency_is_a_cycle_not_a_missing_dependency() {
        let v = check(&manifest("a", "1.0.0", &[("a", "*")], &[]), &[]);
        assert_eq!(
            v.issues,
            vec![Issue::new(IssueKind::Cycle {
                path: vec!["a".into(), "a".into()]
            })]
        );
        assert_eq!(v.reason(), "dependency cycle a -> a");
        assert_eq!(v.status(), PluginStatus::Cycle);
        assert!(v.is_refused(&Enforcement::default()));
        assert!(!v.is_refused(&DEPS_OFF));
    }

    #[test]
    fn candidate_closing_a_three_cycle_reports_its_full_path() {
        let a = manifest("a", "1.0.0", &[("b", "*")], &[]);
        let b = manifest("b", "1.0.0", &[("c", "*")], &[]);
        let c = manifest("c", "1.0.0", &[("a", "*")], &[]);
        for (candidate, loaded) in [(&a, [&b, &c]), (&c, [&a, &b])] {
            let v = check(candidate, &loaded);
            assert_eq!(v.reason(), "dependency cycle a -> b -> c -> a");
            assert_eq!(v.status(), PluginStatus::Cycle);
        }
    }

    #[test]
    fn a_cycle_among_loaded_plugins_is_not_the_candidates() {
        let a = manifest("a", "1.0.0", &[("b", "*")], &[]);
        let b = manifest("b", "1.0.0", &[("a", "*")], &[]);
        let v = check(&manifest("x", "1.0.0", &[("a", "*")], &[]), &[&a, &b]);
        assert!(v.is_valid(), "{}", v.reason());
    }

    #[test]
    fn the_plugin_being_replaced_is_ignored() {
        let old = manifest("x", "1.0.0", &[], &["x"]);
        let v = check(&manifest("x", "2.0.0", &[], &[]), &[&old]);
        assert!(v.is_valid(), "{}", v.reason());
    }

    #[test]
    fn unenforced_issues_are_not_refused_but_keep_their_status() {
        let off = Enforcement {
            dependencies: false,
            conflicts: false,
        };
        let missing = check(&manifest("shop", "1.0.0", &[("economy", "^1")], &[]), &[]);
        assert!(!missing.is_refused(&off));
        assert_eq!(missing.status(), PluginStatus::MissingDependencies);
        let plain = manifest("plain", "1.0.0", &[], &[]);
        let conflict = check(&manifest("picky", "1.0.0", &[], &["plain"]), &[&plain]);
        assert!(!conflict.is_refused(&off));
        assert_eq!(conflict.status(), PluginStatus::Warnings);
    }

    #[test]
    fn all_issues_are_collected_in_one_line() {
        let economy = manifest("economy", "1.4.0", &[], &["shop"]);
        let v = check(
            &manifest("shop", "1.0.0", &[("bank", "^1"), ("economy", "^2")], &[]),
            &[&economy],
        );
        assert_eq!(
            v.reason(),
            "missing dependency `bank` (^1); dependency `economy` requires ^2, found 1.4.0; \
             conflict with `economy` (declared by `economy`)"
        );
        assert!(!v.reason().contains('\n'));
    }
}
