//! The bot's own permissions in a guild or channel, computed as Discord does: @everyone, then
//! the member's roles, Administrator grants everything and the owner has everything; in a
//! channel, the @everyone overwrite, then the role overwrites together, then the member's.

use serde_json::Value;
use zoryx_plugin_api::{GuildId, Permissions};

use super::model::{permissions, snowflake};

/// Every permission bit Discord defines today.
const ALL: Permissions = Permissions((1 << 51) - 1);

/// Permissions from a guild's roles (JSON array), the member's role ids and the channel's
/// overwrites (JSON array, when a channel is asked about). `owner`: the member owns the guild.
pub(crate) fn compute(
    guild: GuildId,
    user: u64,
    owner: bool,
    roles: &Value,
    member_roles: &[u64],
    overwrites: Option<&Value>,
) -> Permissions {
    if owner {
        return ALL;
    }
    let role_list = roles.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut base = Permissions::NONE;
    for role in role_list {
        let id = snowflake(role, "id").unwrap_or(0);
        if id == guild.0 || member_roles.contains(&id) {
            base |= permissions(role, "permissions");
        }
    }
    if base.0 & Permissions::ADMINISTRATOR.0 != 0 {
        return ALL;
    }
    let Some(overwrites) = overwrites.and_then(Value::as_array) else {
        return base;
    };
    let apply = |mut perms: Permissions, o: &Value| {
        perms = perms & !permissions(o, "deny");
        perms | permissions(o, "allow")
    };
    let id_of = |o: &Value| snowflake(o, "id").unwrap_or(0);
    let kind_of = |o: &Value| o.get("type").and_then(Value::as_u64).unwrap_or(0);
    if let Some(everyone) = overwrites
        .iter()
        .find(|o| kind_of(o) == 0 && id_of(o) == guild.0)
    {
        base = apply(base, everyone);
    }
    let (mut allow, mut deny) = (Permissions::NONE, Permissions::NONE);
    for o in overwrites
        .iter()
        .filter(|o| kind_of(o) == 0 && member_roles.contains(&id_of(o)))
    {
        allow |= permissions(o, "allow");
        deny |= permissions(o, "deny");
    }
    base = (base & !deny) | allow;
    if let Some(mine) = overwrites
        .iter()
        .find(|o| kind_of(o) == 1 && id_of(o) == user)
    {
        base = apply(base, mine);
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roles() -> Value {
        json!([
            {"id": "1", "permissions": (Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES).0.to_string()},
            {"id": "20", "permissions": Permissions::KICK_MEMBERS.0.to_string()},
            {"id": "30", "permissions": Permissions::ADMINISTRATOR.0.to_string()},
        ])
    }

    #[test]
    fn roles_add_up_and_administrators_have_all() {
        let p = compute(GuildId(1), 9, false, &roles(), &[20], None);
        assert!(p.contains(Permissions::KICK_MEMBERS | Permissions::SEND_MESSAGES));
        assert!(!p.contains(Permissions::BAN_MEMBERS));
        let admin = compute(GuildId(1), 9, false, &roles(), &[30], None);
        assert!(admin.contains(Permissions::BAN_MEMBERS));
        assert_eq!(compute(GuildId(1), 9, true, &json!([]), &[], None), ALL);
    }

    #[test]
    fn overwrites_apply_everyone_then_roles_then_member() {
        let send = Permissions::SEND_MESSAGES.0.to_string();
        let overwrites = json!([
            {"id": "1", "type": 0, "allow": "0", "deny": send},
            {"id": "20", "type": 0, "allow": send, "deny": "0"},
            {"id": "9", "type": 1, "allow": "0", "deny": send},
        ]);
        let with_role = compute(GuildId(1), 8, false, &roles(), &[20], Some(&overwrites));
        assert!(with_role.contains(Permissions::SEND_MESSAGES));
        let without = compute(GuildId(1), 8, false, &roles(), &[], Some(&overwrites));
        assert!(!without.contains(Permissions::SEND_MESSAGES));
        let denied_member = compute(GuildId(1), 9, false, &roles(), &[20], Some(&overwrites));
        assert!(!denied_member.contains(Permissions::SEND_MESSAGES));
    }
}
