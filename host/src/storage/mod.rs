//! Storage that never loses data: the atomic JSON file store, SQLite databases and plugin storage.
pub mod atomic;
pub mod db;
pub mod plugin;
