//! Mutual HMAC-SHA256 challenge-response authentication.
//!
//! Every handshake message is an ordinary frame (see [`crate::frame`]), limited to
//! [`HANDSHAKE_MAX_FRAME`] bytes. Nonces and proofs are 32 bytes, sent as 64 lower-case hex
//! characters. `K` is the shared secret, `||` concatenation, `Ns`/`Nc` the server's and the
//! client's nonces and `name` the client's cluster name as UTF-8:
//!
//! ```text
//! 1. S -> C  {"op":"challenge","data":{"version":1,"nonce":hex(Ns)},"source":server}
//! 2. C -> S  {"op":"auth","data":{"cluster_name":name,"nonce":hex(Nc),
//!             "proof":hex(HMAC(K, "zoryx-ipc/1 client\0" || Ns || name || Nc))}}
//! 3. S -> C  {"op":"auth_ok","data":{"server":server,
//!             "proof":hex(HMAC(K, "zoryx-ipc/1 server\0" || Nc || Ns || name))}}
//!    or      {"op":"auth_failed","data":{}}   and the server closes the connection
//! ```
//!
//! `Ns` and `Nc` have a fixed length, so the MAC inputs are unambiguous; the two labels keep a
//! client proof from ever being accepted as a server proof. The secret never crosses the
//! wire, proofs are compared in constant time, and a recorded answer is useless because every
//! connection gets a fresh `Ns` (and every client attempt a fresh `Nc`).

use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::crypto::{Secret, TAG_LEN, ct_eq, hex, nonce, unhex32};
use crate::error::HandshakeError;
use crate::frame::{Message, TARGET_ALL, read_frame, write_frame};
use crate::ops;

pub use crate::frame::HANDSHAKE_MAX_FRAME;

/// Protocol version announced in the challenge.
pub const VERSION: u64 = 1;
/// Maximum length of a cluster name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

const CLIENT_LABEL: &[u8] = b"zoryx-ipc/1 client\0";
const SERVER_LABEL: &[u8] = b"zoryx-ipc/1 server\0";

/// A 32-byte nonce.
pub type Nonce = [u8; TAG_LEN];
/// A 32-byte HMAC-SHA256 proof.
pub type Proof = [u8; TAG_LEN];

/// Whether `name` may be used as a cluster name: 1..=64 bytes of ASCII letters, digits, `-`,
/// `_` or `.`, and not `all`.
pub fn is_valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != TARGET_ALL
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The client's proof: `HMAC(K, "zoryx-ipc/1 client\0" || Ns || name || Nc)`.
pub fn client_proof(
    secret: &Secret,
    server_nonce: &Nonce,
    name: &str,
    client_nonce: &Nonce,
) -> Proof {
    secret.mac(&[CLIENT_LABEL, server_nonce, name.as_bytes(), client_nonce])
}

/// The server's proof: `HMAC(K, "zoryx-ipc/1 server\0" || Nc || Ns || name)`.
pub fn server_proof(
    secret: &Secret,
    client_nonce: &Nonce,
    server_nonce: &Nonce,
    name: &str,
) -> Proof {
    secret.mac(&[SERVER_LABEL, client_nonce, server_nonce, name.as_bytes()])
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn hex_field(message: &Message, key: &'static str) -> Result<[u8; TAG_LEN], HandshakeError> {
    message
        .str_field(key)
        .and_then(unhex32)
        .ok_or(HandshakeError::Unexpected(key))
}

/// Step 1: the server's challenge.
pub fn challenge_message(server_name: &str, server_nonce: &Nonce) -> Message {
    Message::new(
        ops::CHALLENGE,
        object(json!({"version": VERSION, "nonce": hex(server_nonce)})),
    )
    .from_source(server_name)
}

/// Parses step 1; returns the server's nonce.
pub fn parse_challenge(message: &Message) -> Result<Nonce, HandshakeError> {
    if message.op != ops::CHALLENGE {
        return Err(HandshakeError::Unexpected("expected a challenge"));
    }
    if message.data.get("version").and_then(Value::as_u64) != Some(VERSION) {
        return Err(HandshakeError::Unexpected("unsupported protocol version"));
    }
    hex_field(message, "nonce")
}

/// Step 2, parsed: what a client claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// The client's cluster name.
    pub cluster_name: String,
    /// The client's nonce.
    pub nonce: Nonce,
    /// The client's proof.
    pub proof: Proof,
}

/// Step 2: the client's answer.
pub fn auth_message(request: &AuthRequest) -> Message {
    Message::new(
        ops::AUTH,
        object(json!({
            "cluster_name": request.cluster_name,
            "nonce": hex(&request.nonce),
            "proof": hex(&request.proof),
        })),
    )
    .from_source(request.cluster_name.clone())
}

/// Builds step 2 for `name` answering `server_nonce` with a fresh client nonce.
pub fn answer_challenge(
    secret: &Secret,
    server_nonce: &Nonce,
    name: &str,
) -> Result<AuthRequest, HandshakeError> {
    let client_nonce = nonce()?;
    Ok(AuthRequest {
        cluster_name: name.to_owned(),
        nonce: client_nonce,
        proof: client_proof(secret, server_nonce, name, &client_nonce),
    })
}

/// Parses step 2 (shape only; see [`verify_auth`]).
pub fn parse_auth(message: &Message) -> Result<AuthRequest, HandshakeError> {
    if message.op != ops::AUTH {
        return Err(HandshakeError::Unexpected("expected auth"));
    }
    let cluster_name = message
        .str_field("cluster_name")
        .ok_or(HandshakeError::Unexpected("cluster_name"))?;
    if !is_valid_cluster_name(cluster_name) {
        return Err(HandshakeError::InvalidName);
    }
    Ok(AuthRequest {
        cluster_name: cluster_name.to_owned(),
        nonce: hex_field(message, "nonce")?,
        proof: hex_field(message, "proof")?,
    })
}

/// Checks a client's proof against the nonce this server sent, in constant time.
pub fn verify_auth(
    secret: &Secret,
    server_nonce: &Nonce,
    request: &AuthRequest,
) -> Result<(), HandshakeError> {
    let expected = client_proof(secret, server_nonce, &request.cluster_name, &request.nonce);
    if ct_eq(&expected, &request.proof) {
        Ok(())
    } else {
        Err(HandshakeError::BadProof)
    }
}

/// Step 3 (success).
pub fn auth_ok_message(server_name: &str, proof: &Proof) -> Message {
    Message::new(
        ops::AUTH_OK,
        object(json!({"server": server_name, "proof": hex(proof)})),
    )
    .from_source(server_name)
}

/// Step 3 (refusal).
pub fn auth_failed_message(server_name: &str) -> Message {
    Message::new(ops::AUTH_FAILED, Map::new()).from_source(server_name)
}

/// Parses step 3: the server's name and proof, or [`HandshakeError::Refused`].
pub fn parse_auth_reply(message: &Message) -> Result<(String, Proof), HandshakeError> {
    match message.op.as_str() {
        ops::AUTH_FAILED => Err(HandshakeError::Refused),
        ops::AUTH_OK => {
            let server = message
                .str_field("server")
                .ok_or(HandshakeError::Unexpected("server"))?;
            Ok((server.to_owned(), hex_field(message, "proof")?))
        }
        _ => Err(HandshakeError::Unexpected(
            "expected auth_ok or auth_failed",
        )),
    }
}

async fn next<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Message, HandshakeError> {
    read_frame(reader, HANDSHAKE_MAX_FRAME)
        .await?
        .ok_or(HandshakeError::Closed)
}

/// Runs the server side on a fresh connection; returns the authenticated cluster name.
///
/// `reserved` names (such as the server's own) are refused. On failure an `auth_failed`
/// frame is sent when possible. Has no deadline of its own: wrap it in a timeout.
pub async fn server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &Secret,
    server_name: &str,
) -> Result<String, HandshakeError> {
    let server_nonce = nonce()?;
    write_frame(
        stream,
        &challenge_message(server_name, &server_nonce),
        HANDSHAKE_MAX_FRAME,
    )
    .await?;
    let answer = next(stream).await?;
    let checked = parse_auth(&answer).and_then(|request| {
        verify_auth(secret, &server_nonce, &request)?;
        if request.cluster_name == server_name {
            return Err(HandshakeError::InvalidName);
        }
        Ok(request)
    });
    match checked {
        Ok(request) => {
            let proof = server_proof(secret, &request.nonce, &server_nonce, &request.cluster_name);
            write_frame(
                stream,
                &auth_ok_message(server_name, &proof),
                HANDSHAKE_MAX_FRAME,
            )
            .await?;
            Ok(request.cluster_name)
        }
        Err(e) => {
            // Best effort: the peer may already be gone.
            let _ = write_frame(
                stream,
                &auth_failed_message(server_name),
                HANDSHAKE_MAX_FRAME,
            )
            .await;
            Err(e)
        }
    }
}

/// Runs the client side; returns the server's name once the server has proven that it knows
/// the secret. Has no deadline of its own: wrap it in a timeout.
pub async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &Secret,
    name: &str,
) -> Result<String, HandshakeError> {
    if !is_valid_cluster_name(name) {
        return Err(HandshakeError::InvalidName);
    }
    let server_nonce = parse_challenge(&next(stream).await?)?;
    let request = answer_challenge(secret, &server_nonce, name)?;
    write_frame(stream, &auth_message(&request), HANDSHAKE_MAX_FRAME).await?;
    let (server, proof) = parse_auth_reply(&next(stream).await?)?;
    let expected = server_proof(secret, &request.nonce, &server_nonce, name);
    if !ct_eq(&expected, &proof) {
        return Err(HandshakeError::BadProof);
    }
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.repeat(16)).expect("secret")
    }

    #[tokio::test]
    async fn mutual_handshake_over_a_duplex_pipe() {
        let (mut a, mut b) = tokio::io::duplex(8192);
        let k = secret("k");
        let k2 = k.clone();
        let server = tokio::spawn(async move { server_handshake(&mut a, &k2, "primary").await });
        let got = client_handshake(&mut b, &k, "cluster-1")
            .await
            .expect("client");
        assert_eq!(got, "primary");
        assert_eq!(server.await.expect("join").expect("server"), "cluster-1");
    }

    #[tokio::test]
    async fn wrong_secret_and_reserved_names_are_refused() {
        for (client_secret, name) in [("x", "cluster-1"), ("k", "primary")] {
            let (mut a, mut b) = tokio::io::duplex(8192);
            let server =
                tokio::spawn(
                    async move { server_handshake(&mut a, &secret("k"), "primary").await },
                );
            let got = client_handshake(&mut b, &secret(client_secret), name).await;
            assert!(matches!(got, Err(HandshakeError::Refused)), "{got:?}");
            assert!(server.await.expect("join").is_err());
        }
    }

    #[tokio::test]
    async fn a_server_without_the_secret_is_detected() {
        let (mut a, mut b) = tokio::io::duplex(8192);
        // A fake server that accepts anything and answers with a made-up proof.
        let fake = tokio::spawn(async move {
            let ns = [7u8; 32];
            write_frame(&mut a, &challenge_message("evil", &ns), 4096).await?;
            let _ = read_frame(&mut a, 4096).await?;
            write_frame(&mut a, &auth_ok_message("evil", &[0u8; 32]), 4096).await
        });
        let got = client_handshake(&mut b, &secret("k"), "cluster-1").await;
        assert!(matches!(got, Err(HandshakeError::BadProof)), "{got:?}");
        fake.await.expect("join").expect("fake server");
    }

    #[test]
    fn names() {
        assert!(is_valid_cluster_name("cluster-0"));
        assert!(is_valid_cluster_name("a.b_c"));
        for bad in ["", "all", "a b", "é", &"x".repeat(65)] {
            assert!(!is_valid_cluster_name(bad), "{bad:?}");
        }
    }
}
