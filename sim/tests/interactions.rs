//! Autocomplete, modals, context menus and option rules as Discord has them: the callback
//! types each interaction takes, their limits, and what registration refuses.

mod support;

use serde_json::{Value, json};
use support::{Api, start};
use zoryx_sim::SimError;

fn token(sim: &zoryx_sim::Simulator, id: u64) -> String {
    sim.interaction(id).expect("stored").0["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn form_error(body: &Value, path: &[&str]) -> String {
    let mut at = &body["errors"];
    for part in path {
        at = &at[*part];
    }
    at["_errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Registers `commands` to the default guild; returns the answer.
async fn register(api: &Api, sim: &zoryx_sim::Simulator, commands: Value, status: u16) -> Value {
    let path = format!(
        "/applications/{}/guilds/{}/commands",
        sim.application_id(),
        sim.default_guild()
    );
    api.expect("PUT", &path, Some(commands), status).await
}

fn shop() -> Value {
    json!([
        {"name": "buy", "description": "Buy", "options": [
            // serenity sends an empty `channel_types` on every option: no channel types at all.
            {"type": 3, "name": "fruit", "description": "Fruit", "required": true, "autocomplete": true, "channel_types": []},
            {"type": 4, "name": "count", "description": "How many", "min_value": 1, "max_value": 5},
        ]},
        {"name": "config", "description": "Settings", "default_member_permissions": 32, "contexts": [0], "options": [
            {"type": 1, "name": "set", "description": "Set", "options": [
                {"type": 3, "name": "key", "description": "Key", "required": true,
                 "choices": [{"name": "Colour", "value": "colour"}, {"name": "Size", "value": "size"}]},
            ]},
        ]},
        {"type": 2, "name": "Inspect"},
        {"type": 3, "name": "Quote", "contexts": [0]},
    ])
}

#[tokio::test]
async fn registration_refuses_what_discord_refuses_with_field_paths() {
    let sim = start().await;
    let api = Api::new(&sim);
    let answer = register(&api, &sim, shop(), 200).await;
    let config = answer
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["name"] == "config")
        .expect("config");
    assert_eq!(
        config["default_member_permissions"], "32",
        "answered as a string"
    );
    assert_eq!(config["dm_permission"], false);

    let choices: Vec<Value> = (0..26)
        .map(|n| json!({"name": format!("n{n}"), "value": n}))
        .collect();
    let cases = [
        (
            json!([{"name": "pick", "description": "d", "options": [{"type": 4, "name": "n", "description": "d", "choices": choices}]}]),
            vec!["0", "options", "0", "choices"],
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!([{"name": "pick", "description": "d", "options": [{"type": 3, "name": "s", "description": "d", "autocomplete": true, "choices": [{"name": "a", "value": "a"}]}]}]),
            vec!["0", "options", "0", "autocomplete"],
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
        ),
        (
            json!([{"name": "pick", "description": "d", "options": [{"type": 5, "name": "b", "description": "d", "min_value": 1}]}]),
            vec!["0", "options", "0", "min_value"],
            "APPLICATION_COMMAND_OPTION_RANGE_INVALID",
        ),
        (
            json!([{"name": "pick", "description": "d", "options": [{"type": 3, "name": "s", "description": "d", "max_length": 6001}]}]),
            vec!["0", "options", "0", "max_length"],
            "NUMBER_TYPE_MAX",
        ),
        (
            json!([{"name": "pick", "description": "d", "options": [
                {"type": 1, "name": "a", "description": "d"},
                {"type": 3, "name": "s", "description": "d"},
            ]}]),
            vec!["0", "options"],
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
        ),
        (
            json!([{"name": "pick", "description": "d", "options": [{"type": 3, "name": "s", "description": "d", "channel_types": [0]}]}]),
            vec!["0", "options", "0", "channel_types"],
            "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID",
        ),
        (
            json!([{"type": 2, "name": "Inspect", "description": "no"}]),
            vec!["0", "description"],
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
        ),
    ];
    for (commands, path, code) in cases {
        let body = register(&api, &sim, commands.clone(), 400).await;
        assert_eq!(body["code"], 50035, "{body}");
        assert_eq!(form_error(&body, &path), code, "{commands}: {body}");
    }
    support::assert_spec(&sim, "registration with option rules");
}

#[tokio::test]
async fn each_interaction_takes_its_own_callback_types() {
    let sim = start().await;
    let api = Api::new(&sim);
    register(&api, &sim, shop(), 200).await;
    let (guild, channel, owner) = (sim.default_guild(), sim.default_channel(), sim.owner().id);

    // Autocomplete: only type 8, at most 25 choices, names of 1-100 characters.
    let typing = sim
        .inject_autocomplete(guild, channel, owner, "buy", ("fruit", "ap"), Value::Null)
        .await
        .expect("autocomplete");
    let (payload, _) = sim.interaction(typing).expect("stored");
    assert_eq!(payload["type"], 4);
    assert_eq!(payload["data"]["options"][0]["focused"], true);
    let path = format!("/interactions/{typing}/{}/callback", token(&sim, typing));
    let body = api
        .expect(
            "POST",
            &path,
            Some(json!({"type": 4, "data": {"content": "x"}})),
            400,
        )
        .await;
    assert_eq!(form_error(&body, &["type"]), "BASE_TYPE_CHOICES");
    assert_eq!(
        body["errors"]["type"]["_errors"][0]["message"],
        "Value must be one of {8}."
    );
    let many: Vec<Value> = (0..26)
        .map(|n| json!({"name": format!("f{n}"), "value": "v"}))
        .collect();
    let body = api
        .expect(
            "POST",
            &path,
            Some(json!({"type": 8, "data": {"choices": many}})),
            400,
        )
        .await;
    assert_eq!(
        form_error(&body, &["data", "choices"]),
        "BASE_TYPE_MAX_LENGTH"
    );
    let body = api
        .expect(
            "POST",
            &path,
            Some(json!({"type": 8, "data": {"choices": [{"name": "", "value": "v"}]}})),
            400,
        )
        .await;
    assert_eq!(
        form_error(&body, &["data", "choices", "0", "name"]),
        "BASE_TYPE_BAD_LENGTH"
    );
    api.expect(
        "POST",
        &path,
        Some(json!({"type": 8, "data": {"choices": [{"name": "Apple", "value": "apple"}]}})),
        204,
    )
    .await;
    // Only options marked for autocomplete are asked about.
    assert!(matches!(
        sim.inject_autocomplete(guild, channel, owner, "buy", ("count", "1"), Value::Null)
            .await,
        Err(SimError::Invalid(_))
    ));

    // A slash command takes a modal, not suggestions; the modal's limits have field paths.
    let slash = sim
        .inject_slash(
            guild,
            channel,
            owner,
            "buy",
            json!([{"name": "fruit", "type": 3, "value": "kiwi"}]),
        )
        .await
        .expect("slash");
    let path = format!("/interactions/{slash}/{}/callback", token(&sim, slash));
    let body = api
        .expect(
            "POST",
            &path,
            Some(json!({"type": 8, "data": {"choices": []}})),
            400,
        )
        .await;
    assert_eq!(
        body["errors"]["type"]["_errors"][0]["message"],
        "Value must be one of {4, 5, 9, 10, 12}."
    );
    let modal = |title: &str, label: &str| {
        json!({"type": 9, "data": {"custom_id": "form", "title": title, "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "topic", "style": 1, "label": label}]},
        ]}})
    };
    let body = api
        .expect("POST", &path, Some(modal(&"t".repeat(46), "Topic")), 400)
        .await;
    assert_eq!(
        form_error(&body, &["data", "title"]),
        "BASE_TYPE_BAD_LENGTH"
    );
    let body = api
        .expect("POST", &path, Some(modal("Form", &"l".repeat(46))), 400)
        .await;
    assert_eq!(
        form_error(
            &body,
            &["data", "components", "0", "components", "0", "label"]
        ),
        "BASE_TYPE_BAD_LENGTH"
    );
    api.expect("POST", &path, Some(modal("Form", "Topic")), 204)
        .await;

    // Its submission: values as typed; a modal never answers a modal.
    assert!(
        matches!(
            sim.inject_modal_submit(slash, &[]).await,
            Err(SimError::Invalid(_))
        ),
        "a required input left empty is not submitted"
    );
    let submit = sim
        .inject_modal_submit(slash, &[("topic", "docs")])
        .await
        .expect("submit");
    let (payload, _) = sim.interaction(submit).expect("stored");
    assert_eq!(payload["type"], 5);
    assert_eq!(
        payload["data"]["components"][0]["components"][0]["value"],
        "docs"
    );
    let path = format!("/interactions/{submit}/{}/callback", token(&sim, submit));
    let body = api
        .expect("POST", &path, Some(modal("Again", "Topic")), 400)
        .await;
    assert_eq!(
        body["errors"]["type"]["_errors"][0]["message"],
        "Value must be one of {4, 5, 6, 7, 10}."
    );
    api.expect(
        "POST",
        &path,
        Some(json!({"type": 4, "data": {"content": "thanks"}})),
        204,
    )
    .await;
    support::assert_spec(&sim, "autocomplete and modal callbacks");
}

/// An input the user leaves alone is submitted with the value the modal prefilled, as
/// Discord's client submits it; one they clear is sent empty, and lengths still apply.
#[tokio::test]
async fn untouched_inputs_submit_their_prefilled_value() {
    let sim = start().await;
    let api = Api::new(&sim);
    register(&api, &sim, shop(), 200).await;
    let (guild, channel, owner) = (sim.default_guild(), sim.default_channel(), sim.owner().id);
    let slash = sim
        .inject_slash(
            guild,
            channel,
            owner,
            "buy",
            json!([{"name": "fruit", "type": 3, "value": "kiwi"}]),
        )
        .await
        .expect("slash");
    let path = format!("/interactions/{slash}/{}/callback", token(&sim, slash));
    let modal = json!({"type": 9, "data": {"custom_id": "order", "title": "Order", "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "where", "style": 1, "label": "Where",
                                    "value": "home", "min_length": 2}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "note", "style": 2, "label": "Note",
                                    "required": false, "value": "none"}]},
    ]}});
    api.expect("POST", &path, Some(modal), 204).await;
    let submitted = |id: u64| {
        let (payload, _) = sim.interaction(id).expect("stored");
        payload["data"]["components"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                row["components"][0]["value"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    let untouched = sim.inject_modal_submit(slash, &[]).await.expect("submit");
    assert_eq!(submitted(untouched), ["home", "none"]);
    let cleared = sim
        .inject_modal_submit(slash, &[("note", "")])
        .await
        .expect("submit");
    assert_eq!(submitted(cleared), ["home", ""]);
    assert!(
        matches!(
            sim.inject_modal_submit(slash, &[("where", "x")]).await,
            Err(SimError::Invalid(_))
        ),
        "below the input's minimum length"
    );
}

/// `default_member_permissions: 0` offers a command to administrators (and the server's owner)
/// only, as Discord does; any other permission does not make up for it.
#[tokio::test]
async fn a_command_with_no_default_permissions_is_for_administrators_only() {
    let sim = start().await;
    let api = Api::new(&sim);
    register(
        &api,
        &sim,
        json!([{"name": "deploy", "description": "Deploy", "default_member_permissions": 0}]),
        200,
    )
    .await;
    let (guild, channel) = (sim.default_guild(), sim.default_channel());
    let (owner, guest) = (sim.owner().id, sim.guest().id);
    let managers = sim.add_role(guild, "Managers", 32).expect("role");
    sim.add_member_role(guild, guest, managers)
        .expect("give role");
    let refused = sim
        .inject_slash(guild, channel, guest, "deploy", Value::Null)
        .await;
    assert!(
        matches!(refused, Err(SimError::Invalid(ref m)) if m.contains("default member permissions")),
        "{refused:?}"
    );
    sim.inject_slash(guild, channel, owner, "deploy", Value::Null)
        .await
        .expect("the server's owner");
    let admins = sim.add_role(guild, "Admins", 8).expect("role");
    sim.add_member_role(guild, guest, admins)
        .expect("give role");
    sim.inject_slash(guild, channel, guest, "deploy", Value::Null)
        .await
        .expect("an administrator");
}

#[tokio::test]
async fn commands_are_offered_as_discords_client_offers_them() {
    let sim = start().await;
    let api = Api::new(&sim);
    register(&api, &sim, shop(), 200).await;
    let (guild, channel) = (sim.default_guild(), sim.default_channel());
    let (owner, guest) = (sim.owner().id, sim.guest().id);
    // Default member permissions: the guest lacks Manage Server.
    let refused = sim
        .inject_slash(
            guild,
            channel,
            guest,
            "config set",
            json!([{"name": "key", "type": 3, "value": "size"}]),
        )
        .await;
    assert!(
        matches!(refused, Err(SimError::Invalid(ref m)) if m.contains("default member permissions")),
        "{refused:?}"
    );
    let role = sim.add_role(guild, "Managers", 32).expect("role");
    sim.add_member_role(guild, guest, role).expect("give role");
    let id = sim
        .inject_slash(
            guild,
            channel,
            guest,
            "config set",
            json!([{"name": "key", "type": 3, "value": "size"}]),
        )
        .await
        .expect("offered now");
    let (payload, _) = sim.interaction(id).expect("stored");
    assert_eq!(payload["data"]["options"][0]["type"], 1);
    assert_eq!(payload["data"]["options"][0]["name"], "set");
    // Choices, ranges and required options as the client enforces them.
    for (command, options) in [
        (
            "config set",
            json!([{"name": "key", "type": 3, "value": "shape"}]),
        ),
        (
            "buy",
            json!([{"name": "fruit", "type": 3, "value": "kiwi"}, {"name": "count", "type": 4, "value": 6}]),
        ),
        ("buy", Value::Null),
    ] {
        assert!(
            matches!(
                sim.inject_slash(guild, channel, owner, command, options.clone())
                    .await,
                Err(SimError::Invalid(_))
            ),
            "{command} {options}"
        );
    }
    // Contexts: a global command for guilds only is not offered in DMs.
    let global = format!("/applications/{}/commands", sim.application_id());
    api.expect("PUT", &global, Some(shop()), 200).await;
    assert!(matches!(
        sim.inject_slash(
            None,
            0,
            owner,
            "config set",
            json!([{"name": "key", "type": 3, "value": "size"}])
        )
        .await,
        Err(SimError::Invalid(_))
    ));
    // Context menus: the target resolved.
    let user_cmd = sim
        .inject_user_command(guild, channel, owner, "Inspect", guest)
        .await
        .expect("user command");
    let (payload, _) = sim.interaction(user_cmd).expect("stored");
    assert_eq!(payload["data"]["type"], 2);
    assert_eq!(payload["data"]["target_id"], guest.to_string());
    assert!(payload["data"]["resolved"]["members"][guest.to_string()].is_object());
    let message = sim
        .inject_message(channel, guest, "quote me")
        .await
        .expect("message");
    let message_cmd = sim
        .inject_message_command(message, owner, "Quote")
        .await
        .expect("message command");
    let (payload, _) = sim.interaction(message_cmd).expect("stored");
    assert_eq!(
        payload["data"]["resolved"]["messages"][message.to_string()]["content"],
        "quote me"
    );
    assert!(matches!(
        sim.inject_message_command(message, owner, "Nothing").await,
        Err(SimError::Invalid(_))
    ));
}
