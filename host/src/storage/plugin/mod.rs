//! Plugin storage: each plugin's key-value store, its own SQL tables in the guild databases and
//! its JSON files in `data/plugins/<name>/`, all namespaced by the plugin's manifest name.

pub mod authorizer;
pub mod kv;
pub mod paths;
pub mod sql;
