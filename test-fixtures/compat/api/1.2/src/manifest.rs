//! Who a plugin is: name, version, author and its relations to other plugins.

/// A plugin's identity card, read by the host before it runs any plugin code.
///
/// Versions are semver; dependency requirements use Cargo's syntax (`^1.2`, `>=0.3, <0.5`, `=2.0.1`).
///
/// ```
/// use zoryx_plugin_api::Manifest;
///
/// let manifest = Manifest::new("leveling", "1.3.0")
///     .author("Ada")
///     .description("XP and levels for active members")
///     .depends_on("economy", "^2.1")
///     .conflicts_with("old_leveling");
/// assert_eq!(manifest.dependencies, vec![("economy".to_string(), "^2.1".to_string())]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Unique plugin name, `snake_case`; spaces become underscores when loaded.
    pub name: String,
    /// The plugin's own semver version.
    pub version: String,
    /// Who wrote it.
    pub author: String,
    /// One line about what it does.
    pub description: String,
    /// Plugins that must be loaded first: `(name, semver requirement)`.
    pub dependencies: Vec<(String, String)>,
    /// Plugins this one must never run beside.
    pub conflicts: Vec<String>,
}

impl Manifest {
    /// A manifest with a name and a version; use `env!("CARGO_PKG_VERSION")` for the version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Self::default()
        }
    }

    /// Sets the author.
    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = author.into();
        self
    }

    /// Sets the one-line description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Adds a dependency on `name` with a semver requirement such as `^1.0`.
    pub fn depends_on(mut self, name: impl Into<String>, requirement: impl Into<String>) -> Self {
        self.dependencies.push((name.into(), requirement.into()));
        self
    }

    /// Declares that this plugin refuses to run beside `name`.
    pub fn conflicts_with(mut self, name: impl Into<String>) -> Self {
        self.conflicts.push(name.into());
        self
    }
}
