//! Logins and sessions: one-time login codes, sessions behind a cookie, CSRF tokens, the login
//! rate limit.
//!
//! Secrets are 32 random bytes (hex). The server keeps only the SHA-256 of session tokens and
//! login codes, so the Security page (and a memory dump) never shows one; every comparison of a
//! secret with what a request brought is constant-time (`subtle`).
//!
//! Sessions survive a restart: they are kept in `data/dashboard_sessions.json` ([`FILE`]) —
//! token digests, never tokens — rewritten with the project's atomic write at every login,
//! logout and revocation, and read back at start with the expired ones dropped. A file that does
//! not parse is moved aside (`.corrupt-<time>`) with a warning and the dashboard starts with no
//! sessions. One-time login codes are not kept: they die with the process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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
/// The sessions' file in the data folder.
pub const FILE: &str = "dashboard_sessions.json";
/// The version of the sessions' file; another version is not read.
const FILE_VERSION: u32 = 1;

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

/// How someone logged in (what their role comes from: a console code is an owner's; a Discord
/// login gets the role the config gives that account, looked up at every request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A session as the file keeps it: the token's digest (hex), never the token.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    digest: String,
    user_id: u64,
    user_name: String,
    csrf: String,
    created: u64,
    expires: u64,
    ip: String,
    via: Via,
}

/// The sessions' file.
#[derive(serde::Serialize, serde::Deserialize)]
struct SessionsFile {
    version: u32,
    sessions: Vec<Stored>,
}

/// Why the sessions' file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionsFileError {
    /// It could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It does not parse (or has a digest that is not 64 hex digits).
    #[error("{path} is not a sessions file: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// It has another version.
    #[error("{path} has version {found}, not {FILE_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// It could not be written.
    #[error("cannot write the dashboard's sessions: {0}")]
    Write(#[from] crate::storage::atomic::AtomicError),
    /// The write's thread ended before it did.
    #[error("writing the dashboard's sessions was interrupted: {0}")]
    Interrupted(String),
    /// The sessions could not be encoded.
    #[error("cannot encode the dashboard's sessions: {0}")]
    Encode(#[from] serde_json::Error),
}

/// 64 hex digits back to 32 bytes.
fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0_u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The live sessions of the file at `path` (none when it does not exist); expired ones are
/// dropped.
fn read_file(path: &Path) -> Result<HashMap<[u8; 32], Session>, SessionsFileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => {
            return Err(SessionsFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt = |message: String| SessionsFileError::Corrupt {
        path: path.to_owned(),
        message,
    };
    let file: SessionsFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != FILE_VERSION {
        return Err(SessionsFileError::Version {
            path: path.to_owned(),
            found: file.version,
        });
    }
    let now = unix_now();
    let mut sessions = HashMap::new();
    for stored in file.sessions {
        let key = unhex(&stored.digest)
            .ok_or_else(|| corrupt(format!("bad token digest {:?}", stored.digest)))?;
        if stored.expires <= now {
            continue;
        }
        sessions.insert(
            key,
            Session {
                id: hex(&key[..6]),
                user_id: stored.user_id,
                user_name: stored.user_name,
                csrf: stored.csrf,
                created: stored.created,
                expires: stored.expires,
                ip: stored.ip,
                via: stored.via,
            },
        );
    }
    Ok(sessions)
}

/// The sessions kept in `path` at start: those of a good file; none, with a warning, for a bad
/// one — moved aside when it does not parse, so the next write does not lose it.
fn load(path: &Path) -> HashMap<[u8; 32], Session> {
    match read_file(path) {
        Ok(sessions) => {
            if !sessions.is_empty() {
                tracing::info!(
                    sessions = sessions.len(),
                    "dashboard sessions restored from {}",
                    path.display()
                );
            }
            sessions
        }
        Err(error @ SessionsFileError::Corrupt { .. }) => {
            match crate::storage::atomic::quarantine(path) {
                Ok(moved) => tracing::warn!(
                    %error,
                    moved_to = %moved.display(),
                    "the dashboard's sessions file is corrupt: moved aside, starting with no sessions"
                ),
                Err(move_error) => tracing::warn!(
                    %error,
                    %move_error,
                    "the dashboard's sessions file is corrupt: starting with no sessions"
                ),
            }
            HashMap::new()
        }
        Err(error) => {
            tracing::warn!(%error, "the dashboard's sessions file is not used: starting with no sessions");
            HashMap::new()
        }
    }
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
    /// Where they are kept ([`FILE`]); `None`: in memory only.
    file: Option<PathBuf>,
    /// One write of the file at a time, each of the sessions as they are when it starts.
    writing: tokio::sync::Mutex<()>,
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
    /// Sessions lasting `lifetime`, `per_minute` login attempts per address, in memory only.
    pub fn new(lifetime: Duration, per_minute: u32) -> Self {
        Self::open(lifetime, per_minute, None)
    }

    /// As [`Sessions::new`], kept in `data_dir` ([`FILE`]) when there is one: the live
    /// sessions of the file are restored (a corrupt file is moved aside, with a warning).
    pub fn open(lifetime: Duration, per_minute: u32, data_dir: Option<&Path>) -> Self {
        let file = data_dir.map(|d| d.join(FILE));
        let restored = file.as_deref().map(load).unwrap_or_default();
        Self {
            lifetime,
            sessions: Mutex::new(restored),
            file,
            writing: tokio::sync::Mutex::new(()),
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

    /// Writes the live sessions to the file (nothing without one). Writes are one at a time and
    /// each takes the sessions as they are once its turn comes, so the last write has the last
    /// change.
    async fn save(&self) {
        let Some(path) = self.file.clone() else {
            return;
        };
        let _turn = self.writing.lock().await;
        let now = unix_now();
        let file = SessionsFile {
            version: FILE_VERSION,
            sessions: self
                .sessions
                .lock()
                .map(|sessions| {
                    sessions
                        .iter()
                        .filter(|(_, s)| s.expires > now)
                        .map(|(key, s)| Stored {
                            digest: hex(key),
                            user_id: s.user_id,
                            user_name: s.user_name.clone(),
                            csrf: s.csrf.clone(),
                            created: s.created,
                            expires: s.expires,
                            ip: s.ip.clone(),
                            via: s.via,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let written = match serde_json::to_vec(&file) {
            Ok(bytes) => {
                let write =
                    move || crate::storage::atomic::write_bytes(&path, &bytes).map_err(Into::into);
                tokio::task::spawn_blocking(write)
                    .await
                    .unwrap_or_else(|e| Err(SessionsFileError::Interrupted(e.to_string())))
            }
            Err(error) => Err(error.into()),
        };
        if let Err(error) = written {
            tracing::warn!(%error, "the dashboard's sessions could not be written; they will not survive a restart");
        }
    }

    /// Starts a session (and writes the sessions' file); its token for the cookie.
    pub async fn start(
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
        self.save().await;
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

    /// Ends the session of cookie value `token` (and writes the sessions' file).
    pub async fn end(&self, token: &str) -> Option<Session> {
        let ended = self.sessions.lock().ok()?.remove(&digest(token));
        if ended.is_some() {
            self.save().await;
        }
        ended
    }

    /// Ends the session with public id `id` (and writes the sessions' file).
    pub async fn revoke(&self, id: &str) -> Option<Session> {
        let ended = {
            let mut sessions = self.sessions.lock().ok()?;
            let key = *sessions.iter().find(|(_, s)| s.id == id)?.0;
            sessions.remove(&key)
        };
        if ended.is_some() {
            self.save().await;
        }
        ended
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

    #[tokio::test]
    async fn codes_are_one_time_and_sessions_found_by_digest() {
        let sessions = Sessions::new(Duration::from_secs(60), 2);
        let code = sessions.issue_code(7, "op").expect("code");
        assert_eq!(sessions.redeem_code("nope"), None);
        assert_eq!(sessions.redeem_code(&code), Some((7, "op".to_owned())));
        assert_eq!(sessions.redeem_code(&code), None, "spent");
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (token, session) = sessions
            .start(7, "op", ip, Via::ConsoleCode)
            .await
            .expect("start");
        assert_eq!(sessions.get(&token).map(|s| s.user_id), Some(7));
        assert!(sessions.get(&format!("{token}0")).is_none());
        assert_eq!(sessions.list().len(), 1);
        assert!(sessions.revoke(&session.id).await.is_some());
        assert!(sessions.get(&token).is_none());
        assert!(sessions.attempt(ip) && sessions.attempt(ip) && !sessions.attempt(ip));
        assert!(sessions.attempt(IpAddr::from([127, 0, 0, 2])));
    }

    #[tokio::test]
    async fn sessions_are_kept_as_digests_and_a_corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ip = IpAddr::from([127, 0, 0, 1]);
        let lifetime = Duration::from_secs(60);
        let first = Sessions::open(lifetime, 5, Some(dir.path()));
        let (kept, _) = first
            .start(7, "op", ip, Via::ConsoleCode)
            .await
            .expect("start");
        let (revoked, session) = first.start(8, "ex", ip, Via::Discord).await.expect("start");
        first.revoke(&session.id).await.expect("revoked");
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("file");
        assert!(
            !text.contains(&kept) && text.contains(&hex(&digest(&kept))),
            "{text}"
        );
        let again = Sessions::open(lifetime, 5, Some(dir.path()));
        let restored = again.get(&kept).expect("restored");
        assert_eq!((restored.user_id, restored.via), (7, Via::ConsoleCode));
        assert_eq!(restored.csrf, first.get(&kept).expect("live").csrf);
        assert!(again.get(&revoked).is_none());
        // Expired sessions are dropped when read back.
        let short = Sessions::open(Duration::ZERO, 5, Some(dir.path()));
        short
            .start(9, "brief", ip, Via::Discord)
            .await
            .expect("start");
        assert_eq!(read_file(&dir.path().join(FILE)).expect("read").len(), 1);
        std::fs::write(dir.path().join(FILE), b"{not json").expect("write");
        let fresh = Sessions::open(lifetime, 5, Some(dir.path()));
        assert!(fresh.list().is_empty());
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("dashboard_sessions.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
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
