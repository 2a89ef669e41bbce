//! A consultant's browser, reduced to what the inbox tests need: one
//! session cookie, and the CSRF token read from the last page, sent with
//! every form post as a browser would.

use handoff_gate::config::Secret;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};

use crate::support::TestApp;

/// The inbox password the tests sign in with.
pub const PASSWORD: &str = "correct horse battery staple";

/// The argon2 hash of [`PASSWORD`] for `inbox.password_hash` (hashed once).
pub fn password_hash() -> Secret {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    Secret::new(
        HASH.get_or_init(|| handoff_gate::web::inbox::password::hash(PASSWORD))
            .clone(),
    )
}

/// A signed-in (or not) consultant against one gateway.
pub struct Inbox {
    pub base: String,
    pub client: reqwest::Client,
    /// `hg_inbox=…`, once signed in.
    pub cookie: Option<String>,
    /// The CSRF token of the last page read.
    pub csrf: Option<String>,
}

/// The session cookie a response sets (`name=value`), if any.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(handoff_gate::web::inbox::COOKIE))
        .map(|v| v.split(';').next().unwrap_or(v).to_owned())
}

/// The `csrf` hidden field's value in a page.
pub fn csrf_in(page: &str) -> Option<String> {
    const FIELD: &str = "name=\"csrf\" value=\"";
    let start = page.find(FIELD)? + FIELD.len();
    Some(page[start..start + page[start..].find('"')?].to_owned())
}

impl Inbox {
    /// Not signed in yet.
    pub fn new(app: &TestApp) -> Inbox {
        Inbox {
            base: app.base.clone(),
            client: app.client.clone(),
            cookie: None,
            csrf: None,
        }
    }

    /// Signed in with [`PASSWORD`].
    pub async fn signed_in(app: &TestApp) -> Inbox {
        let mut inbox = Inbox::new(app);
        let response = inbox.sign_in(PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        inbox.page("/inbox").await;
        inbox
    }

    /// Post the sign-in form; keeps the session cookie it sets.
    pub async fn sign_in(&mut self, password: &str) -> Response {
        let response = self
            .client
            .post(format!("{}/inbox/login", self.base))
            .form(&[("password", password)])
            .send()
            .await
            .unwrap();
        if let Some(cookie) = session_cookie(&response) {
            self.cookie = Some(cookie);
        }
        response
    }

    /// GET a path with the session cookie.
    pub async fn get(&self, path: &str) -> Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// GET a page that must answer 200, keeping its CSRF token.
    pub async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let text = response.text().await.unwrap();
        if let Some(csrf) = csrf_in(&text) {
            self.csrf = Some(csrf);
        }
        text
    }

    /// POST a form with the session cookie and the page's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(csrf) = &self.csrf {
            all.push(("csrf", csrf));
        }
        self.post_raw(path, &all, &[]).await
    }

    /// POST exactly these fields and extra headers, with the session cookie.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}

/// Where a redirect leads.
pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}
