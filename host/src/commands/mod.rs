//! Turning invocations into plugin command calls: argument parsing, cooldowns, permissions.

pub mod args;
pub mod cooldown;
