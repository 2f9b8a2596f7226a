//! Logins and sessions: one-time login codes, sessions behind a cookie, CSRF tokens, the login
//! rate limit.
//!
//! Secrets are 32 random bytes (hex). The server keeps only the SHA-256 of session tokens and
//! login codes, so the Security page (and a memory dump) never shows one; every comparison of a
//! secret with what a request brought is constant-time (`subtle`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "zoryx_session";
/// The cookie holding the OAuth2 `state` between the redirect to Discord and its callback.
pub const STATE_COOKIE: &str = "zoryx_oauth_state";
/// How long a one-time login code is valid.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// 32 random bytes as 64 hex digits.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(hex(&bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a secret: how the server keeps it.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (digest(given), digest(expected));
    bool::from(given.ct_eq(&expected))
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How someone logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A one-time code printed on the console.
    ConsoleCode,
    /// Discord's OAuth2.
    Discord,
}

/// A logged-in person.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Session {
    /// A short public id (the Security page's revoke button): the first 12 hex digits of the
    /// token's digest.
    pub id: String,
    /// The Discord user id.
    pub user_id: u64,
    /// Their name.
    pub user_name: String,
    /// The CSRF token every state change must carry.
    #[serde(skip)]
    pub csrf: String,
    /// When it started (Unix seconds).
    pub created: u64,
    /// When it ends (Unix seconds).
    pub expires: u64,
    /// The address it logged in from.
    pub ip: String,
    /// How.
    pub via: Via,
}

struct Code {
    digest: [u8; 32],
    user_id: u64,
    user_name: String,
    until: Instant,
}

/// The sessions, the one-time codes and the login attempts of the running dashboard.
pub struct Sessions {
    lifetime: Duration,
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    codes: Mutex<Vec<Code>>,
    limiter: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    per_minute: u32,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions lasting `lifetime`, `per_minute` login attempts per address.
    pub fn new(lifetime: Duration, per_minute: u32) -> Self {
        Self {
            lifetime,
            sessions: Mutex::new(HashMap::new()),
            codes: Mutex::new(Vec::new()),
            limiter: Mutex::new(HashMap::new()),
            per_minute,
        }
    }

    /// A new one-time code logging `user_id` in; valid [`CODE_LIFETIME`], once.
    pub fn issue_code(&self, user_id: u64, user_name: &str) -> Result<String, getrandom::Error> {
        let code = new_secret()?;
        if let Ok(mut codes) = self.codes.lock() {
            codes.retain(|c| c.until > Instant::now());
            codes.push(Code {
                digest: digest(&code),
                user_id,
                user_name: user_name.to_owned(),
                until: Instant::now() + CODE_LIFETIME,
            });
        }
        Ok(code)
    }

    /// Spends the one-time `code`: the user it logs in, or `None` (unknown, spent or expired).
    pub fn redeem_code(&self, code: &str) -> Option<(u64, String)> {
        let given = digest(code);
        let mut codes = self.codes.lock().ok()?;
        let now = Instant::now();
        let mut found = None;
        // Every code is compared (constant-time each), not only up to the first match.
        for (index, c) in codes.iter().enumerate() {
            if bool::from(c.digest.ct_eq(&given)) && c.until > now {
                found = Some(index);
            }
        }
        let code = codes.remove(found?);
        Some((code.user_id, code.user_name))
    }

    /// Starts a session; its token for the cookie.
    pub fn start(
        &self,
        user_id: u64,
        user_name: &str,
        ip: IpAddr,
        via: Via,
    ) -> Result<(String, Session), getrandom::Error> {
        let token = new_secret()?;
        let key = digest(&token);
        let now = unix_now();
        let session = Session {
            id: hex(&key[..6]),
            user_id,
            user_name: user_name.to_owned(),
            csrf: new_secret()?,
            created: now,
            expires: now + self.lifetime.as_secs(),
            ip: ip.to_string(),
            via,
        };
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.expires > now);
            sessions.insert(key, session.clone());
        }
        Ok((token, session))
    }

    /// The live session of cookie value `token`. The map is keyed by the token's digest, so
    /// finding it compares digests, never the token itself.
    pub fn get(&self, token: &str) -> Option<Session> {
        let sessions = self.sessions.lock().ok()?;
        sessions
            .get(&digest(token))
            .filter(|s| s.expires > unix_now())
            .cloned()
    }

    /// Ends the session of cookie value `token`.
    pub fn end(&self, token: &str) -> Option<Session> {
        self.sessions.lock().ok()?.remove(&digest(token))
    }

    /// Ends the session with public id `id`.
    pub fn revoke(&self, id: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().ok()?;
        let key = *sessions.iter().find(|(_, s)| s.id == id)?.0;
        sessions.remove(&key)
    }

    /// The live sessions, newest first.
    pub fn list(&self) -> Vec<Session> {
        let now = unix_now();
        let mut all: Vec<Session> = self
            .sessions
            .lock()
            .map(|s| s.values().filter(|s| s.expires > now).cloned().collect())
            .unwrap_or_default();
        all.sort_by_key(|s| std::cmp::Reverse(s.created));
        all
    }

    /// Counts a login attempt from `ip`; `false` when it is past the limit for this minute.
    pub fn attempt(&self, ip: IpAddr) -> bool {
        let Ok(mut limiter) = self.limiter.lock() else {
            return false;
        };
        let now = Instant::now();
        let window = Duration::from_secs(60);
        limiter.retain(|_, times| times.last().is_some_and(|t| now - *t < window));
        let times = limiter.entry(ip).or_default();
        times.retain(|t| now - *t < window);
        if times.len() >= self.per_minute as usize {
            return false;
        }
        times.push(now);
        true
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` when served over https,
/// `max_age` seconds (0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_one_time_and_sessions_found_by_digest() {
        let sessions = Sessions::new(Duration::from_secs(60), 2);
        let code = sessions.issue_code(7, "op").expect("code");
        assert_eq!(sessions.redeem_code("nope"), None);
        assert_eq!(sessions.redeem_code(&code), Some((7, "op".to_owned())));
        assert_eq!(sessions.redeem_code(&code), None, "spent");
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (token, session) = sessions
            .start(7, "op", ip, Via::ConsoleCode)
            .expect("start");
        assert_eq!(sessions.get(&token).map(|s| s.user_id), Some(7));
        assert!(sessions.get(&format!("{token}0")).is_none());
        assert_eq!(sessions.list().len(), 1);
        assert!(sessions.revoke(&session.id).is_some());
        assert!(sessions.get(&token).is_none());
        assert!(sessions.attempt(ip) && sessions.attempt(ip) && !sessions.attempt(ip));
        assert!(sessions.attempt(IpAddr::from([127, 0, 0, 2])));
    }

    #[test]
    fn cookies_and_secrets() {
        assert_eq!(
            cookie("a=1; zoryx_session=abc", SESSION_COOKIE),
            Some("abc")
        );
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        assert!(set_cookie("n", "v", 5, true).ends_with("; Secure"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
        assert_eq!(new_secret().expect("random").len(), 64);
    }
}
