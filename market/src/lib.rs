//! The plugin marketplace's trust chain, apart from any network or host code.
//!
//! A marketplace is a static folder: `index.json` (every plugin, per target triple an artifact
//! with its size and SHA-256), `index.json.sig` (an ed25519 signature of those exact bytes) and
//! the artifacts. A host trusts a few public keys; an install is only ever planned from an index
//! that one of them signed and that is not older than the last one the host accepted, and an
//! artifact is only published once its bytes match the index.
//!
//! - [`index`]: the index format and its checks;
//! - [`signing`]: keys, signing, verifying (with the replay check);
//! - [`artifact`]: a streaming size + SHA-256 check of a download;
//! - [`plan`]: what to install, in which order, for a request (dependencies, conflicts, cycles,
//!   target triple, plugin API version).

pub mod artifact;
pub mod index;
pub mod plan;
pub mod signing;

pub use artifact::{ArtifactCheck, ArtifactError};
pub use index::{Artifact, Entry, Index, IndexError};
pub use plan::{Installed, Plan, PlanError, Step};
pub use signing::{KeyPair, PublicKey, SignatureFile, SigningError, Verified};

/// The target triple this crate was built for (the host's), e.g. `x86_64-unknown-linux-gnu`.
pub const HOST_TARGET: &str = env!("ZORYX_MARKET_TARGET");
