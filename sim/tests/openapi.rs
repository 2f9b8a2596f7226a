//! OpenAPI conformance: every REST answer of the simulator (and every request body the tour
//! sends) validates against Discord's official OpenAPI 3.1 spec, and the validator itself
//! rejects what the spec forbids.

mod support;

use serde_json::json;
use support::{Api, start};
use zoryx_openapi::OpenApiError;

#[tokio::test]
async fn every_simulator_response_and_tour_request_matches_the_spec() {
    let Some(spec) = zoryx_openapi::load_or_skip("the simulator's OpenAPI conformance test") else {
        return;
    };
    let sim = start().await;
    let api = Api::new(&sim);
    support::tour::run(&sim, &api).await;
    // Errors too: they use Discord's error shape.
    api.expect("GET", "/channels/1/messages/2", None, 404).await;
    api.expect(
        "POST",
        &format!("/channels/{}/messages", sim.default_channel()),
        Some(json!({"content": ""})),
        400,
    )
    .await;
    api.expect(
        "POST",
        &format!("/channels/{}/messages", sim.default_channel()),
        Some(json!({"content": "x".repeat(2001)})),
        400,
    )
    .await;

    let requests = sim.requests();
    assert!(
        requests.len() >= 40,
        "the tour covered the routes ({} requests)",
        requests.len()
    );
    let mut failures = Vec::new();
    for r in &requests {
        let response = r.response.as_ref().map(support::without_form_errors);
        if let Err(e) = spec.validate_response(&r.method, &r.path, r.status, response.as_ref()) {
            failures.push(format!("{} {} → {}: {e}", r.method, r.path, r.status));
        }
        if let Some(body) = &r.body
            && r.status < 300
            && let Err(e) = spec.validate_request(&r.method, &r.path, body)
        {
            failures.push(format!("request {} {}: {e}", r.method, r.path));
        }
    }
    assert!(
        failures.is_empty(),
        "{} violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_moderation_answer_matches_the_spec() {
    let Some(spec) = zoryx_openapi::load_or_skip("the moderation routes' OpenAPI conformance test")
    else {
        return;
    };
    let sim = start().await;
    let api = Api::new(&sim);
    support::moderation_tour::run(&sim, &api).await;
    let requests = sim.requests();
    let called: std::collections::HashSet<(String, String)> = requests
        .iter()
        .filter_map(|r| Some((r.method.clone(), spec.template(&r.method, &r.path)?)))
        .collect();
    for (method, template) in support::moderation_tour::ROUTES {
        assert!(
            called.contains(&((*method).to_owned(), (*template).to_owned())),
            "the tour calls {method} {template}"
        );
    }
    assert!(
        requests.iter().any(|r| r.status == 403) && requests.iter().any(|r| r.status == 400),
        "refusals are checked too"
    );
    let failures = support::spec_violations(&sim, "the moderation routes").unwrap_or_default();
    assert!(
        failures.is_empty(),
        "{} violations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn validator_matches_templates_and_rejects_bad_bodies() {
    let Some(spec) = zoryx_openapi::load_or_skip("the OpenAPI validator's own test") else {
        return;
    };
    assert_eq!(
        spec.template("POST", "/api/v10/channels/123/messages")
            .as_deref(),
        Some("/channels/{channel_id}/messages")
    );
    assert_eq!(
        spec.template("GET", "/api/v10/users/@me").as_deref(),
        Some("/users/@me")
    );
    assert_eq!(
        spec.template("PATCH", "/webhooks/1/tok/messages/@original")
            .as_deref(),
        Some("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
    );
    assert!(matches!(
        spec.validate_request("GET", "/api/v10/nowhere", &json!({})),
        Err(OpenApiError::UnknownOperation { .. })
    ));
    spec.validate_request(
        "POST",
        "/api/v10/channels/1/messages",
        &json!({"content": "hi"}),
    )
    .expect("a plain message is valid");
    let err = spec
        .validate_request(
            "POST",
            "/api/v10/channels/1/messages",
            &json!({"content": 5, "tts": "yes"}),
        )
        .expect_err("wrong types are rejected");
    assert!(matches!(err, OpenApiError::Invalid { .. }), "{err}");
    spec.validate_request(
        "POST",
        "/api/v10/interactions/1/tok/callback",
        &json!({"type": 4, "data": {"content": "x", "flags": 64}}),
    )
    .expect("a message callback is valid");
    // A response missing required fields fails.
    let err = spec
        .validate_response("GET", "/api/v10/users/@me", 200, Some(&json!({"id": "1"})))
        .expect_err("incomplete user");
    assert!(err.to_string().contains("username"), "{err}");
    // 204 without a body is fine; with a body it is not.
    spec.validate_response("DELETE", "/api/v10/channels/1/messages/2", 204, None)
        .expect("204 without body");
}
