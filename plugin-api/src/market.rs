//! The plugin marketplace as plugins reach it (plugin-api 1.3): browse the host's signed index,
//! install, update, pin and remove plugins.
//!
//! Every request goes through [`Host::market`](crate::Host::market) as
//! [`Action::Market`](crate::Action::Market), on behalf of the member who asked; the host refuses it unless that
//! member is a bot owner, and runs every check itself (signature, SHA-256, target, plugin API,
//! library checks, dependencies) before anything reaches `extensions/`.
//!
//! ```no_run
//! # use zoryx_plugin_api::prelude::*;
//! use zoryx_plugin_api::market::MarketRequest;
//!
//! # async fn demo(ctx: CommandContext<()>) -> PluginResult {
//! let me = ctx.invocation().author.id;
//! let report = ctx
//!     .host()
//!     .market(me, MarketRequest::Search { query: "poll".into() }, None)
//!     .await?;
//! let names: Vec<&str> = report.plugins.iter().map(|p| p.name.as_str()).collect();
//! ctx.reply(format!("Found: {}", names.join(", "))).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a plugin asks of the marketplace.
///
/// ```
/// use zoryx_plugin_api::market::MarketRequest;
///
/// let request: MarketRequest = serde_json::from_str(r#"{"install": {"name": "polls"}}"#).unwrap();
/// assert_eq!(request, MarketRequest::Install { name: "polls".into(), version: None });
/// assert!(request.changes_plugins());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MarketRequest {
    /// Every plugin of the index (its newest version), with what is installed.
    List,
    /// The plugins whose name, description or category contains the text (any case).
    Search {
        /// The text.
        query: String,
    },
    /// Every version of one plugin.
    Info {
        /// The plugin.
        name: String,
    },
    /// Install a plugin (the newest version that runs here, or the one named, or the pinned
    /// one) and the dependencies it lacks, then load them.
    Install {
        /// The plugin.
        name: String,
        /// A version requirement (`1.2.0`, `^1.2`); `None`: the newest.
        #[serde(default)]
        version: Option<String>,
    },
    /// Update an installed plugin to the newest version (within its pin), through the reload
    /// path: the old version keeps serving if the new one is refused.
    Update {
        /// The plugin.
        name: String,
    },
    /// Unload and remove a plugin the marketplace installed (refused while others need it).
    Remove {
        /// The plugin.
        name: String,
    },
    /// Pin a plugin to versions a requirement accepts, or unpin it (`None`).
    Pin {
        /// The plugin.
        name: String,
        /// The requirement (`=1.2.0`, `~1.2`); `None` removes the pin.
        #[serde(default)]
        version: Option<String>,
    },
    /// Fetch the index now, whatever the cache's age.
    Refresh,
}

impl MarketRequest {
    /// Whether it changes what is installed (install, update, remove).
    pub fn changes_plugins(&self) -> bool {
        matches!(
            self,
            Self::Install { .. } | Self::Update { .. } | Self::Remove { .. }
        )
    }
}

/// One plugin version of the index, as a marketplace browser shows it.
///
/// ```
/// use zoryx_plugin_api::market::MarketPlugin;
///
/// let plugin: MarketPlugin = serde_json::from_str(r#"{"name": "polls", "version": "1.0.0"}"#).unwrap();
/// assert_eq!(plugin.installed, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MarketPlugin {
    /// Its name.
    pub name: String,
    /// This version.
    pub version: String,
    /// One line about it.
    pub description: String,
    /// Its category.
    pub category: String,
    /// Who publishes it.
    pub author: String,
    /// Its licence (SPDX).
    pub license: String,
    /// Where to read about it.
    pub homepage: String,
    /// The plugin API it was built against.
    pub api_version: String,
    /// Plugin name → the versions it needs.
    pub dependencies: BTreeMap<String, String>,
    /// Its library's size for this host, if the index has one for this host's target.
    pub size: Option<u64>,
    /// Whether this host can run it (its target and plugin API).
    pub compatible: bool,
    /// The version installed here, if any.
    pub installed: Option<String>,
    /// The pin, if any.
    pub pinned: Option<String>,
}

/// What the marketplace answers.
///
/// ```
/// use zoryx_plugin_api::market::MarketReport;
///
/// let report: MarketReport = serde_json::from_str(r#"{"message": "installed polls 1.0.0"}"#).unwrap();
/// assert!(report.plugins.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MarketReport {
    /// The index's name.
    pub index_name: String,
    /// The index's version.
    pub index_version: u64,
    /// Whether the index came from the cache because the marketplace could not be reached.
    pub offline: bool,
    /// The plugins asked about (list, search, info), newest first within a name.
    pub plugins: Vec<MarketPlugin>,
    /// What changed, one line each (`installed polls 1.0.0`).
    pub changes: Vec<String>,
    /// A sentence for the owner.
    pub message: String,
}
