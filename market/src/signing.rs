//! ed25519 keys and signatures of an index.
//!
//! A publisher keeps a secret key file (`zoryx-secret-key:` and the base64 of its 32-byte
//! seed) and publishes the public key (`zoryx-ed25519:` and the base64 of its 32 bytes). The
//! signature file beside `index.json` is JSON: the signing key and the base64 signature of the
//! index's exact bytes. A host verifies with `verify_strict` (weak keys and malleable
//! signatures refused) against the keys it trusts, then refuses an index older than the last
//! one it accepted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::index::{Index, IndexError};

const PUBLIC_PREFIX: &str = "zoryx-ed25519:";
const SECRET_PREFIX: &str = "zoryx-secret-key:";

/// Why a key, a signature or an index is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    /// A public or secret key that does not parse.
    #[error("not a key: {0}")]
    BadKey(String),
    /// The signature file does not parse.
    #[error("the signature file is not valid: {0}")]
    BadSignatureFile(String),
    /// Signed by a key the host does not trust.
    #[error("the index is signed by {0}, which is not a trusted key")]
    UntrustedKey(String),
    /// The signature does not match the index's bytes.
    #[error(
        "the index's signature does not match its contents (tampered, or signed by another key)"
    )]
    BadSignature,
    /// An index older than one already accepted: a replay.
    #[error(
        "index version {got} is older than version {seen}, already accepted: refused as a replay"
    )]
    Replay {
        /// This index's version.
        got: u64,
        /// The highest version accepted before.
        seen: u64,
    },
    /// The signed bytes are not a valid index.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// No randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// A public key a host may trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses `zoryx-ed25519:BASE64`.
    pub fn parse(text: &str) -> Result<Self, SigningError> {
        let encoded = text.trim().strip_prefix(PUBLIC_PREFIX).ok_or_else(|| {
            SigningError::BadKey(format!("a public key starts with `{PUBLIC_PREFIX}`"))
        })?;
        let bytes: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SigningError::BadKey("a public key is 32 bytes of base64".to_owned()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| SigningError::BadKey("not a point on the curve".to_owned()))?;
        if key.is_weak() {
            return Err(SigningError::BadKey("a weak key".to_owned()));
        }
        Ok(Self(key))
    }

    /// Checks `signature` of `message` (strictly: no malleable signatures).
    fn verify(&self, message: &[u8], signature: &ed25519_dalek::Signature) -> bool {
        self.0.verify_strict(message, signature).is_ok()
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", BASE64.encode(self.0.as_bytes()))
    }
}

/// A publisher's key pair.
pub struct KeyPair(SigningKey);

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_tuple("KeyPair").field(&self.public()).finish()
    }
}

impl KeyPair {
    /// A new key pair from the OS's randomness.
    pub fn generate() -> Result<Self, SigningError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| SigningError::Random(e.to_string()))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// Parses a secret key file's text (`zoryx-secret-key:BASE64`).
    pub fn parse(text: &str) -> Result<Self, SigningError> {
        let encoded = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            SigningError::BadKey(format!("a secret key starts with `{SECRET_PREFIX}`"))
        })?;
        let seed: [u8; 32] = BASE64
            .decode(encoded)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SigningError::BadKey("a secret key is 32 bytes of base64".to_owned()))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The secret key file's text. Keep it out of the published folder.
    pub fn secret_text(&self) -> String {
        format!("{SECRET_PREFIX}{}\n", BASE64.encode(self.0.to_bytes()))
    }

    /// The public key to give hosts.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs an index's exact bytes.
    pub fn sign(&self, index_bytes: &[u8]) -> SignatureFile {
        SignatureFile {
            key: self.public().to_string(),
            signature: BASE64.encode(self.0.sign(index_bytes).to_bytes()),
        }
    }
}

/// The signature file published beside the index (`index.json.sig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// The public key that signed, as [`PublicKey`]'s text.
    pub key: String,
    /// The base64 ed25519 signature of the index's bytes.
    pub signature: String,
}

impl SignatureFile {
    /// Parses the file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, SigningError> {
        if bytes.len() > 4096 {
            return Err(SigningError::BadSignatureFile("over 4 KiB".to_owned()));
        }
        serde_json::from_slice(bytes).map_err(|e| SigningError::BadSignatureFile(e.to_string()))
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// An index that passed [`verify`]: its contents and the key that signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The index.
    pub index: Index,
    /// Which trusted key signed it.
    pub key: PublicKey,
}

/// Verifies an index: signed by one of `trusted` over exactly `index_bytes`, a valid index, and
/// not older than `last_seen` (the highest version accepted before, if any).
pub fn verify(
    index_bytes: &[u8],
    signature: &SignatureFile,
    trusted: &[PublicKey],
    last_seen: Option<u64>,
) -> Result<Verified, SigningError> {
    let key = PublicKey::parse(&signature.key)?;
    if !trusted.contains(&key) {
        return Err(SigningError::UntrustedKey(key.to_string()));
    }
    let bytes: [u8; 64] = BASE64
        .decode(signature.signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            SigningError::BadSignatureFile("a signature is 64 bytes of base64".to_owned())
        })?;
    if !key.verify(index_bytes, &ed25519_dalek::Signature::from_bytes(&bytes)) {
        return Err(SigningError::BadSignature);
    }
    let index = Index::parse(index_bytes)?;
    if let Some(seen) = last_seen
        && index.version < seen
    {
        return Err(SigningError::Replay {
            got: index.version,
            seen,
        });
    }
    Ok(Verified { index, key })
}
