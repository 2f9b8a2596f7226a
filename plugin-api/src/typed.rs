//! Typed custom ids and typed hook payloads (plugin-api 1.3): the compiler checks what a button
//! carries and what a hook receives, instead of string parsing at run time.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use zoryx_plugin_api::prelude::*;
//! use zoryx_plugin_api::{CustomId, HookPayload};
//!
//! /// A page button of a help menu: which page to show, for whom.
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Page {
//!     page: u32,
//!     user: u64,
//! }
//!
//! impl CustomId for Page {
//!     const PREFIX: &'static str = "help.page";
//! }
//!
//! /// Emitted when a ticket closes.
//! #[derive(Serialize, Deserialize)]
//! struct TicketClosed {
//!     ticket: u64,
//! }
//!
//! impl HookPayload for TicketClosed {
//!     const EVENT: &'static str = "ticket_closed";
//! }
//!
//! let id = Page { page: 2, user: 7 }.to_custom_id().unwrap();
//! assert_eq!(id, r#"help.page:{"page":2,"user":7}"#);
//! assert_eq!(Page::from_custom_id(&id).unwrap(), Page { page: 2, user: 7 });
//!
//! struct Help;
//! impl Plugin for Help {
//!     fn manifest() -> Manifest { Manifest::new("help", "0.1.0") }
//!     fn register(plugin: &mut Registrar<Self>) {
//!         plugin.on_click(|ctx: ComponentContext<Help>, page: Page| async move {
//!             ctx.update(format!("page {}", page.page)).await
//!         });
//!         plugin.on_hook(0, |ctx: PluginContext<Help>, closed: TicketClosed| async move {
//!             ctx.info(format!("ticket {} closed", closed.ticket));
//!             Ok(())
//!         });
//!     }
//!     async fn init(_host: Host) -> PluginResult<Self> { Ok(Help) }
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{PluginError, PluginResult};
use crate::limits::CUSTOM_ID;
use crate::message::Button;

/// A value carried in a component's `custom_id`: `PREFIX:` then the value as compact JSON (at
/// most 100 characters in all, Discord's limit).
pub trait CustomId: Serialize + DeserializeOwned {
    /// What the handler is registered under; ids start with `PREFIX:`.
    const PREFIX: &'static str;

    /// The custom id for this value.
    fn to_custom_id(&self) -> PluginResult<String> {
        let id = format!("{}:{}", Self::PREFIX, serde_json::to_string(self)?);
        let n = id.chars().count();
        if n > CUSTOM_ID {
            return Err(PluginError::Internal(format!(
                "custom id `{id}` has {n} characters; Discord allows at most {CUSTOM_ID}"
            )));
        }
        Ok(id)
    }

    /// The value a custom id carries.
    fn from_custom_id(id: &str) -> PluginResult<Self> {
        let body = id
            .strip_prefix(Self::PREFIX)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or_else(|| {
                PluginError::Internal(format!("`{id}` is not a `{}` custom id", Self::PREFIX))
            })?;
        serde_json::from_str(body).map_err(|e| {
            PluginError::Internal(format!("custom id `{id}` does not read as its type: {e}"))
        })
    }

    /// A button carrying this value.
    fn button(&self, label: impl Into<String>) -> PluginResult<Button> {
        Ok(Button::new(self.to_custom_id()?, label))
    }
}

/// A framework event's payload with its name: emitted with
/// [`Host::emit_payload`](crate::Host::emit_payload), received with
/// [`Registrar::on_hook`](crate::Registrar::on_hook).
pub trait HookPayload: Serialize + DeserializeOwned {
    /// The event's name.
    const EVENT: &'static str;
}
