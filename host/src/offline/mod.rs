//! Offline mode: with no Discord token, `zoryx run` starts the Discord simulator in-process,
//! connects the bot to it exactly as it would connect to Discord, and opens a chat console
//! where the operator's lines become messages in the simulated guild.

pub mod colour;
pub mod line;
pub mod render;
