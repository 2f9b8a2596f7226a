//! Discord login (OAuth2 authorization code grant, scope `identify`): the redirect to Discord's
//! authorize page, the code exchanged for a token (client secret by HTTP Basic), and
//! `GET /users/@me` with that bearer token for who it is. Against `discord.api_base` when set
//! (the simulator implements the three endpoints), else discord.com.

use serde::Deserialize;

/// The application and where Discord is.
#[derive(Clone)]
pub struct OAuth {
    /// The application's client id.
    pub client_id: String,
    client_secret: String,
    /// `https://discord.com`, or `discord.api_base`.
    pub base: String,
    /// `PUBLIC_URL/login/callback`.
    pub redirect_uri: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("base", &self.base)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Who logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordUser {
    /// Their id.
    pub id: u64,
    /// Their global name, else their user name.
    pub name: String,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    token_type: String,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    username: String,
    #[serde(default)]
    global_name: Option<String>,
}

impl OAuth {
    /// The client for `client_id`/`client_secret` against `api_base` (`None`: discord.com),
    /// sending people back to `public_url`.
    pub fn new(
        client_id: &str,
        client_secret: &str,
        api_base: Option<&str>,
        public_url: &str,
    ) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            base: api_base
                .unwrap_or("https://discord.com")
                .trim_end_matches('/')
                .to_owned(),
            redirect_uri: format!("{}/login/callback", public_url.trim_end_matches('/')),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }

    /// Discord's authorize page for `state`.
    pub fn authorize_url(&self, state: &str) -> String {
        format!(
            "{}/oauth2/authorize?response_type=code&client_id={}&scope=identify&state={}&redirect_uri={}&prompt=consent",
            self.base,
            encode(&self.client_id),
            encode(state),
            encode(&self.redirect_uri)
        )
    }

    /// Exchanges `code` for a token and asks Discord whose it is.
    pub async fn user_of(&self, code: &str) -> Result<DiscordUser, String> {
        let api = format!("{}/api/v10", self.base);
        let response = self
            .http
            .post(format!("{api}/oauth2/token"))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("Discord's token endpoint: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(format!(
                "Discord refused the code ({status}): {}",
                body.chars().take(200).collect::<String>()
            ));
        }
        let token: Token = response
            .json()
            .await
            .map_err(|e| format!("Discord's token answer: {e}"))?;
        if !token.token_type.eq_ignore_ascii_case("bearer") {
            return Err(format!("unexpected token type {:?}", token.token_type));
        }
        let response = self
            .http
            .get(format!("{api}/users/@me"))
            .bearer_auth(&token.access_token)
            .send()
            .await
            .map_err(|e| format!("Discord's users/@me: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("Discord's users/@me: {}", response.status()));
        }
        let me: Me = response
            .json()
            .await
            .map_err(|e| format!("Discord's users/@me answer: {e}"))?;
        let id = me
            .id
            .parse()
            .map_err(|_| format!("Discord's users/@me: bad id {:?}", me.id))?;
        Ok(DiscordUser {
            id,
            name: me.global_name.unwrap_or(me.username),
        })
    }
}

/// Percent-encodes `text` for a query string (RFC 3986 unreserved characters kept).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_url_carries_everything_encoded() {
        let oauth = OAuth::new("42", "s", None, "https://bot.example.com/");
        assert_eq!(oauth.redirect_uri, "https://bot.example.com/login/callback");
        let url = oauth.authorize_url("ab/c");
        assert!(url.starts_with("https://discord.com/oauth2/authorize?response_type=code"));
        assert!(url.contains("state=ab%2Fc"));
        assert!(url.contains("redirect_uri=https%3A%2F%2Fbot.example.com%2Flogin%2Fcallback"));
    }
}
