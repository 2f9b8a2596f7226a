//! HMAC-SHA256, constant-time comparison, nonces and hex.
//!
//! HMAC is built on `sha2` directly (RFC 2104) rather than on the `hmac` crate: the workspace
//! builds `digest` without its `mac` feature, and pulling it in here would compile `digest`
//! twice with different features. Tested against the RFC 4231 vectors.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ConfigError, HandshakeError};

/// Length of an HMAC-SHA256 tag and of a handshake nonce, in bytes.
pub(crate) const TAG_LEN: usize = 32;
const BLOCK_LEN: usize = 64;

/// The shared secret of a deployment. Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Minimum length of a secret, in bytes.
    pub const MIN_LEN: usize = 16;

    /// Wraps secret bytes; at least [`Secret::MIN_LEN`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::SecretTooShort(Self::MIN_LEN));
        }
        Ok(Self(bytes))
    }

    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        hmac_sha256(&self.0, parts)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    let mut block = [0u8; BLOCK_LEN];
    if key.len() > BLOCK_LEN {
        block[..TAG_LEN].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Constant-time equality of two byte strings (the length is not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// 32 random bytes from the operating system.
pub(crate) fn nonce() -> Result<[u8; TAG_LEN], HandshakeError> {
    let mut n = [0u8; TAG_LEN];
    getrandom::getrandom(&mut n).map_err(|e| HandshakeError::Random(e.to_string()))?;
    Ok(n)
}

/// A random `u64` from the operating system (for jitter); 0 if none is available.
pub(crate) fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::getrandom(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0,
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Decodes exactly 32 bytes of hex (either case); `None` on any other input.
pub(crate) fn unhex32(s: &str) -> Option<[u8; TAG_LEN]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != TAG_LEN * 2 {
        return None;
    }
    let mut out = [0u8; TAG_LEN];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn rfc4231_vectors() {
        // Test case 1.
        let tag = hmac_sha256(&[0x0b; 20], &[b"Hi There"]);
        assert_eq!(
            hex(&tag),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2, message split in parts.
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let tag = hmac_sha256(
            &[0xaa; 131],
            &[&unhex(
                "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
            )],
        );
        assert_eq!(
            hex(&tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        let n = [0xabu8; 32];
        assert_eq!(unhex32(&hex(&n)), Some(n));
        assert_eq!(unhex32(&hex(&n).to_uppercase()), Some(n));
        assert_eq!(unhex32("zz"), None);
        assert_eq!(unhex32(&"g".repeat(64)), None);
        assert_eq!(unhex32(&"é".repeat(32)), None);
        assert!(Secret::new("short").is_err());
        assert_eq!(
            format!("{:?}", Secret::new("0123456789abcdef").expect("secret")),
            "Secret(<redacted>)"
        );
    }
}
