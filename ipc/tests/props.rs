//! Property tests: the decoder and the handshake parsers never panic, and proofs only verify
//! with the right secret and nonces.

use proptest::prelude::*;
use serde_json::{Map, Value};
use zoryx_ipc::frame::{DEFAULT_MAX_FRAME, Message, decode_frame, decode_payload, encode_frame};
use zoryx_ipc::handshake::{self, AuthRequest};
use zoryx_ipc::{FrameError, Secret};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        "[0-9a-fA-F]{64}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("nonce".to_owned()),
                    Just("proof".to_owned()),
                    Just("cluster_name".to_owned()),
                    Just("version".to_owned()),
                    ".{0,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop_oneof![
            Just("challenge".to_owned()),
            Just("auth".to_owned()),
            Just("auth_ok".to_owned()),
            Just("auth_failed".to_owned()),
            ".{0,8}"
        ],
        prop::collection::btree_map(
            prop_oneof![
                Just("nonce".to_owned()),
                Just("proof".to_owned()),
                Just("cluster_name".to_owned()),
                Just("version".to_owned()),
                Just("server".to_owned()),
            ],
            json_value(),
            0..5,
        ),
    )
        .prop_map(|(op, data)| Message {
            op,
            data: data.into_iter().collect::<Map<String, Value>>(),
            source: String::new(),
            target: "all".to_owned(),
            timestamp: 0.0,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256), max in 0usize..512) {
        let _ = decode_frame(&bytes, max);
        let _ = decode_payload(&bytes);
    }

    #[test]
    fn huge_lengths_fail_from_the_header(len in (DEFAULT_MAX_FRAME as u32 + 1).., tail in prop::collection::vec(any::<u8>(), 0..32)) {
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&tail);
        let too_large = matches!(decode_frame(&frame, DEFAULT_MAX_FRAME), Err(FrameError::TooLarge { .. }));
        prop_assert!(too_large);
    }

    #[test]
    fn truncated_frames_are_incomplete_and_whole_ones_round_trip(m in message(), cut in any::<prop::sample::Index>()) {
        let Ok(frame) = encode_frame(&m, DEFAULT_MAX_FRAME) else { return Ok(()) };
        let at = cut.index(frame.len());
        prop_assert!(matches!(decode_frame(&frame[..at], DEFAULT_MAX_FRAME), Ok(None)));
        let decoded = decode_frame(&frame, DEFAULT_MAX_FRAME);
        prop_assert!(matches!(decoded, Ok(Some((ref back, used))) if *back == m && used == frame.len()));
    }

    #[test]
    fn wrong_json_shapes_are_errors_not_panics(v in json_value(), bad_utf8 in prop::collection::vec(128u8..=255, 1..8)) {
        let mut payload = serde_json::to_vec(&v).unwrap_or_default();
        let _ = decode_payload(&payload);
        payload.extend_from_slice(&bad_utf8);
        prop_assert!(decode_payload(&payload).is_err());
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        prop_assert!(decode_frame(&frame, DEFAULT_MAX_FRAME).is_err());
    }

    #[test]
    fn handshake_parsers_never_panic(m in message()) {
        let _ = handshake::parse_challenge(&m);
        let _ = handshake::parse_auth_reply(&m);
        if let Ok(request) = handshake::parse_auth(&m) {
            let secret = Secret::new([7u8; 32]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // A proof made up by the generator never verifies.
            prop_assert!(handshake::verify_auth(&secret, &[0u8; 32], &request).is_err());
        }
    }

    #[test]
    fn proofs_verify_only_with_the_right_secret_and_nonces(
        key in prop::collection::vec(any::<u8>(), 16..80),
        other_key in prop::collection::vec(any::<u8>(), 16..80),
        ns in any::<[u8; 32]>(),
        other_ns in any::<[u8; 32]>(),
        nc in any::<[u8; 32]>(),
        name in "[a-z0-9-]{1,20}",
        flip in 0usize..256,
    ) {
        let secret = Secret::new(key.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let request = AuthRequest { cluster_name: name.clone(), nonce: nc, proof: handshake::client_proof(&secret, &ns, &name, &nc) };
        // Survives the wire format.
        let parsed = handshake::parse_auth(&handshake::auth_message(&request)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed, &request);
        prop_assert!(handshake::verify_auth(&secret, &ns, &parsed).is_ok());
        // Replay against another server nonce.
        if other_ns != ns {
            prop_assert!(handshake::verify_auth(&secret, &other_ns, &parsed).is_err());
        }
        // Another secret.
        if other_key != key {
            let other = Secret::new(other_key).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(handshake::verify_auth(&other, &ns, &parsed).is_err());
        }
        // Any flipped bit.
        let mut tampered = parsed.clone();
        tampered.proof[flip / 8] ^= 1 << (flip % 8);
        prop_assert!(handshake::verify_auth(&secret, &ns, &tampered).is_err());
        // A client proof is never a server proof.
        prop_assert_ne!(handshake::server_proof(&secret, &nc, &ns, &name), request.proof);
    }
}
