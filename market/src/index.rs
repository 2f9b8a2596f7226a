//! The index: every plugin a marketplace offers, as JSON.
//!
//! ```json
//! {
//!   "format": 1,
//!   "name": "Zoryx first-party plugins",
//!   "version": 3,
//!   "plugins": [{
//!     "name": "help", "version": "1.0.0", "description": "The help menu",
//!     "category": "Core", "author": "Zoryx", "license": "MIT OR Apache-2.0",
//!     "homepage": "https://example.org/help", "api_version": "1.3.0",
//!     "dependencies": {"storage": "^1.0"},
//!     "artifacts": {"x86_64-unknown-linux-gnu": {
//!       "url": "help-1.0.0-x86_64-unknown-linux-gnu.so", "size": 123456,
//!       "sha256": "…64 hex digits…"}}
//!   }]
//! }
//! ```
//!
//! `version` only ever grows: a host remembers the highest it accepted and refuses an older
//! one, so an old index (with plugins since found vulnerable) cannot be served again. An
//! artifact's `url` is absolute or relative to the index's own address.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The one index format this crate reads and writes.
pub const FORMAT: u32 = 1;

/// Limits on what an index may hold, so a hostile one costs little to refuse.
pub const MAX_INDEX_BYTES: usize = 8 * 1024 * 1024;
const MAX_TEXT: usize = 4096;

/// A marketplace's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// [`FORMAT`].
    pub format: u32,
    /// The marketplace's name, shown to owners.
    #[serde(default)]
    pub name: String,
    /// Grows with every published index (see the module's notes).
    pub version: u64,
    /// The plugins, each name once per version.
    pub plugins: Vec<Entry>,
}

/// One plugin version in the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The plugin's name (its manifest's), `[a-z0-9_-]`, 1 to 64 characters.
    pub name: String,
    /// Its version (its manifest's).
    pub version: semver::Version,
    /// One line about it.
    #[serde(default)]
    pub description: String,
    /// The category the browser lists it under.
    #[serde(default)]
    pub category: String,
    /// Who publishes it.
    #[serde(default)]
    pub author: String,
    /// Its licence (an SPDX expression).
    #[serde(default)]
    pub license: String,
    /// Where to read about it.
    #[serde(default)]
    pub homepage: String,
    /// The plugin API version it was built against.
    pub api_version: semver::Version,
    /// Other plugins it needs, by name, with the versions it accepts.
    #[serde(default)]
    pub dependencies: BTreeMap<String, semver::VersionReq>,
    /// Its library per target triple.
    pub artifacts: BTreeMap<String, Artifact>,
}

/// A plugin library for one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Where to download it: absolute (`https://…`) or relative to the index.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, 64 lowercase hex digits.
    pub sha256: String,
}

/// Why an index is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
    /// Larger than [`MAX_INDEX_BYTES`].
    #[error("the index is {0} bytes, over the {MAX_INDEX_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not JSON of the index's shape.
    #[error("the index is not valid: {0}")]
    Malformed(String),
    /// A format this build does not read.
    #[error("index format {0} is not supported (this host reads format {FORMAT})")]
    Format(u32),
    /// An entry that breaks a rule; names the entry.
    #[error("index entry `{entry}`: {problem}")]
    Entry {
        /// `name version`.
        entry: String,
        /// What is wrong.
        problem: String,
    },
}

impl Index {
    /// Parses and checks an index (see [`Index::check`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, IndexError> {
        if bytes.len() > MAX_INDEX_BYTES {
            return Err(IndexError::TooLarge(bytes.len()));
        }
        let index: Self =
            serde_json::from_slice(bytes).map_err(|e| IndexError::Malformed(e.to_string()))?;
        index.check()?;
        Ok(index)
    }

    /// The index as the bytes to publish and sign (pretty JSON, stable order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The rules: the format; names; no name and version twice; artifacts with a hash of 64 hex
    /// digits, a size and a URL that is relative or http(s); texts of sane length.
    pub fn check(&self) -> Result<(), IndexError> {
        if self.format != FORMAT {
            return Err(IndexError::Format(self.format));
        }
        let mut seen = std::collections::HashSet::new();
        for entry in &self.plugins {
            let label = format!("{} {}", entry.name, entry.version);
            let bad = |problem: String| IndexError::Entry {
                entry: label.clone(),
                problem,
            };
            if !valid_name(&entry.name) {
                return Err(bad(
                    "the name must be 1 to 64 of a-z, 0-9, `-` and `_`".to_owned()
                ));
            }
            if !seen.insert((entry.name.clone(), entry.version.clone())) {
                return Err(bad("listed twice".to_owned()));
            }
            for text in [
                &entry.description,
                &entry.category,
                &entry.author,
                &entry.license,
                &entry.homepage,
            ] {
                if text.len() > MAX_TEXT {
                    return Err(bad(format!("a text field is over {MAX_TEXT} bytes")));
                }
            }
            for dependency in entry.dependencies.keys() {
                if !valid_name(dependency) {
                    return Err(bad(format!(
                        "dependency `{dependency}` is not a plugin name"
                    )));
                }
                if *dependency == entry.name {
                    return Err(bad("it depends on itself".to_owned()));
                }
            }
            if entry.artifacts.is_empty() {
                return Err(bad("no artifacts".to_owned()));
            }
            for (target, artifact) in &entry.artifacts {
                if artifact.sha256.len() != 64
                    || !artifact
                        .sha256
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(bad(format!(
                        "{target}: sha256 must be 64 lowercase hex digits"
                    )));
                }
                if artifact.size == 0 {
                    return Err(bad(format!("{target}: size 0")));
                }
                if !url_allowed(&artifact.url) {
                    return Err(bad(format!(
                        "{target}: url `{}` is neither relative nor http(s)",
                        artifact.url
                    )));
                }
            }
        }
        Ok(())
    }

    /// Every version of `name`, newest first.
    pub fn versions(&self, name: &str) -> Vec<&Entry> {
        let mut found: Vec<&Entry> = self.plugins.iter().filter(|e| e.name == name).collect();
        found.sort_by(|a, b| b.version.cmp(&a.version));
        found
    }

    /// The newest version of `name` that `requirement` accepts.
    pub fn newest(&self, name: &str, requirement: &semver::VersionReq) -> Option<&Entry> {
        self.versions(name)
            .into_iter()
            .find(|e| requirement.matches(&e.version))
    }

    /// The newest version of every plugin, by name.
    pub fn latest(&self) -> Vec<&Entry> {
        let mut names: Vec<&str> = self.plugins.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| self.versions(name).into_iter().next())
            .collect()
    }
}

impl Entry {
    /// The artifact for `target`, if the entry has one.
    pub fn artifact(&self, target: &str) -> Option<&Artifact> {
        self.artifacts.get(target)
    }
}

/// Where an artifact's `url` points, given the index's own URL: absolute URLs as they are,
/// relative ones beside the index.
pub fn artifact_url(index_url: &str, artifact_url: &str) -> String {
    if artifact_url.starts_with("http://") || artifact_url.starts_with("https://") {
        return artifact_url.to_owned();
    }
    let base = index_url
        .rsplit_once('/')
        .map_or(index_url, |(base, _)| base);
    format!("{base}/{}", artifact_url.trim_start_matches('/'))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Relative paths without `..`, or http(s) URLs.
fn url_allowed(url: &str) -> bool {
    if url.is_empty() || url.len() > 2048 || url.chars().any(char::is_control) {
        return false;
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return true;
    }
    !url.contains("://") && !url.split('/').any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_sit_beside_the_index() {
        assert_eq!(
            artifact_url("https://example.org/zoryx/index.json", "help.so"),
            "https://example.org/zoryx/help.so"
        );
        assert_eq!(
            artifact_url(
                "https://example.org/index.json",
                "https://cdn.example.org/a.so"
            ),
            "https://cdn.example.org/a.so"
        );
        assert!(!url_allowed("../../etc/passwd"));
        assert!(!url_allowed("file:///etc/passwd"));
        assert!(url_allowed("plugins/help.so"));
    }
}
