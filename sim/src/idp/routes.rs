//! The provider's HTTP endpoints.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

use super::grants::{ApprovedRequest, Issued, Refusal};
use super::{IdentityProvider, PendingConsent, id_token, pages};

type Provider = State<Arc<IdentityProvider>>;
type Pairs = Vec<(String, String)>;

pub(super) fn router(provider: Arc<IdentityProvider>) -> axum::Router {
    let mut router = axum::Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/authorize", get(authorize))
        .route("/authorize/decision", post(decision))
        .route("/token", post(token))
        .route("/revoke", post(revoke));
    if provider.config.openid_discovery {
        router = router.route("/.well-known/openid-configuration", get(metadata));
    }
    router.with_state(provider)
}

/// Request parameters, with the names that appeared more than once (RFC 6749 §3.1 forbids it).
struct Params {
    values: HashMap<String, String>,
    repeated: HashSet<String>,
}

impl Params {
    fn new(pairs: Pairs) -> Self {
        let mut values = HashMap::new();
        let mut repeated = HashSet::new();
        for (name, value) in pairs {
            match values.entry(name) {
                std::collections::hash_map::Entry::Occupied(entry) => {
                    repeated.insert(entry.key().clone());
                }
                std::collections::hash_map::Entry::Vacant(entry) => {
                    entry.insert(value);
                }
            }
        }
        Self { values, repeated }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

async fn metadata(State(provider): Provider) -> Json<serde_json::Value> {
    let base = &provider.base_url;
    Json(serde_json::json!({
        "issuer": provider.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "authorization_response_iss_parameter_supported": provider.config.send_iss,
    }))
}

async fn authorize(State(provider): Provider, Query(pairs): Query<Pairs>) -> Response {
    let params = Params::new(pairs);
    let Some(client_id) = params.get("client_id") else {
        return error_page("The request names no client_id.");
    };
    let Some(client) = provider.client(client_id) else {
        return error_page(&format!("The app `{client_id}` is not registered."));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return error_page("The request names no redirect_uri.");
    };
    if params.repeated.contains("client_id")
        || params.repeated.contains("redirect_uri")
        || !client.redirect_uris.iter().any(|rule| rule.matches(redirect_uri))
    {
        return error_page(&format!("The redirect_uri `{redirect_uri}` is not registered for this app."));
    }
    let state = params.get("state");
    let refuse = |error: &str, description: &str| {
        provider.redirect(redirect_uri, &[("error", error), ("error_description", description)], state)
    };
    if let Some(name) = params.repeated.iter().next() {
        return refuse("invalid_request", &format!("parameter `{name}` appears more than once"));
    }
    if params.get("response_type") != Some("code") {
        return refuse("unsupported_response_type", "only response_type=code is supported");
    }
    let Some(code_challenge) = params.get("code_challenge") else {
        return refuse("invalid_request", "PKCE is required: send code_challenge");
    };
    if params.get("code_challenge_method") != Some("S256") {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    if URL_SAFE_NO_PAD.decode(code_challenge).map(|digest| digest.len()) != Ok(32) {
        return refuse("invalid_request", "code_challenge is not a base64url SHA-256 digest");
    }
    let Some(user) = provider.user_for(params.get("login_hint")) else {
        return refuse("login_required", "no test user has this login_hint");
    };
    let request = ApprovedRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: params.get("scope").unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        code_challenge: code_challenge.to_owned(),
        nonce: params.get("nonce").map(str::to_owned),
        resource: params.get("resource").map(str::to_owned),
        user,
    };
    if provider.config.auto_consent {
        return provider.approve(request, state);
    }
    let request_id = random_id();
    let page = pages::consent(&request_id, client_id, &request.scopes, &request.user.email);
    provider.consents().insert(request_id, PendingConsent { request, state: state.map(str::to_owned) });
    no_store(Html(page).into_response())
}

async fn decision(State(provider): Provider, Form(pairs): Form<Pairs>) -> Response {
    let params = Params::new(pairs);
    let pending = params.get("request_id").and_then(|id| provider.consents().remove(id));
    let Some(PendingConsent { request, state }) = pending else {
        return error_page("This sign-in request has expired or was already answered.");
    };
    if params.get("decision") == Some("approve") {
        tracing::info!(client_id = request.client_id, "the person approved access");
        provider.approve(request, state.as_deref())
    } else {
        tracing::info!(client_id = request.client_id, "the person denied access");
        provider.redirect(
            &request.redirect_uri,
            &[("error", "access_denied"), ("error_description", "The user denied the request")],
            state.as_deref(),
        )
    }
}

/// The client a token request authenticates as: `client_id` alone for a public client; for a
/// confidential one its secret too, by HTTP Basic or form fields (RFC 6749 §2.3.1). A refusal
/// is the `invalid_client` description.
fn authenticated_client<'a>(
    provider: &'a IdentityProvider,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a str, &'static str> {
    let invalid = |description: &'static str| Err(description);
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            let (id, secret) = v.split_once(':')?;
            let decode = |text: &str| {
                url::form_urlencoded::parse(format!("x={text}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let (client_id, secret) = match (&basic, params.get("client_id")) {
        (Some((id, _)), Some(form_id)) if id != form_id => {
            return invalid("client_id differs from the authenticated client");
        }
        (Some((id, secret)), _) => (id.as_str(), Some(secret.as_str())),
        (None, Some(id)) => (id, params.get("client_secret")),
        (None, None) => return invalid("unknown or missing client_id"),
    };
    let Some(client) = provider.client(client_id) else {
        return invalid("unknown or missing client_id");
    };
    match (&client.client_secret, secret) {
        (None, None) => Ok(&client.client_id),
        (None, Some(_)) => invalid("this public client has no secret"),
        (Some(expected), Some(given)) if bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes())) => {
            Ok(&client.client_id)
        }
        (Some(_), _) => invalid("client authentication failed"),
    }
}

async fn token(State(provider): Provider, headers: HeaderMap, Form(pairs): Form<Pairs>) -> Response {
    if provider.token_endpoint_down.load(std::sync::atomic::Ordering::SeqCst) {
        return oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "simulated outage");
    }
    let params = Params::new(pairs);
    if let Some(name) = params.repeated.iter().next() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("`{name}` appears more than once"),
        );
    }
    let client_id = match authenticated_client(&provider, &headers, &params) {
        Ok(client_id) => client_id,
        Err(description) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description),
    };
    let now = provider.config.clock.now();
    let outcome = match params.get("grant_type") {
        Some("authorization_code") => {
            let Some(code) = params.get("code") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code is missing");
            };
            provider.grants().redeem_code(
                code,
                client_id,
                params.get("redirect_uri"),
                params.get("code_verifier"),
                now,
            )
        }
        Some("refresh_token") => {
            let Some(refresh_token) = params.get("refresh_token") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is missing");
            };
            provider.grants().refresh(refresh_token, client_id, now)
        }
        Some(_) => Err(Refusal { error: "unsupported_grant_type", description: "unsupported grant_type" }),
        None => Err(Refusal { error: "invalid_request", description: "grant_type is missing" }),
    };
    match outcome {
        Ok(issued) => {
            tracing::info!(client_id, grant_type = params.get("grant_type"), "tokens issued");
            provider.token_response(&issued, now)
        }
        Err(refusal) => {
            tracing::info!(
                client_id,
                error = refusal.error,
                reason = refusal.description,
                "token request refused"
            );
            oauth_error(StatusCode::BAD_REQUEST, refusal.error, refusal.description)
        }
    }
}

async fn revoke(State(provider): Provider, headers: HeaderMap, Form(pairs): Form<Pairs>) -> Response {
    let params = Params::new(pairs);
    let client_id = match authenticated_client(&provider, &headers, &params) {
        Ok(client_id) => client_id,
        Err(description) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description),
    };
    let Some(token) = params.get("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "token is missing");
    };
    provider.grants().revoke(token, client_id);
    tracing::info!(client_id, "token revocation requested");
    StatusCode::OK.into_response()
}

impl IdentityProvider {
    /// Issues a code and redirects back to the app with it.
    fn approve(&self, request: ApprovedRequest, state: Option<&str>) -> Response {
        let redirect_uri = request.redirect_uri.clone();
        let client_id = request.client_id.clone();
        let code = self.grants().issue_code(request, self.config.clock.now());
        tracing::info!(client_id, "authorization code issued");
        self.redirect(&redirect_uri, &[("code", &code)], state)
    }

    /// A 302 to `redirect_uri` with `params`, `state` and (RFC 9207) `iss` added to its query.
    fn redirect(&self, redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Response {
        let Ok(mut url) = url::Url::parse(redirect_uri) else {
            return error_page("The redirect_uri is not a valid URL.");
        };
        {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(params);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            if self.config.send_iss {
                query.append_pair("iss", &self.issuer);
            }
        }
        match HeaderValue::from_str(url.as_str()) {
            Ok(location) => no_store((StatusCode::FOUND, [(header::LOCATION, location)]).into_response()),
            Err(_) => error_page("The redirect_uri cannot be used in a redirect."),
        }
    }

    fn token_response(&self, issued: &Issued, now: std::time::SystemTime) -> Response {
        let mut body = serde_json::json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in.as_secs(),
            "refresh_token": issued.refresh_token,
            "scope": issued.scopes.join(" "),
        });
        if issued.scopes.iter().any(|scope| scope == "openid") {
            body["id_token"] =
                serde_json::Value::String(id_token::sign(&self.issuer, issued, now, &self.signing_key));
        }
        no_store(Json(body).into_response())
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        (status, Json(serde_json::json!({ "error": error, "error_description": description })))
            .into_response(),
    )
}

fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(pages::error(message))).into_response()
}

/// Token responses and redirects carrying codes must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::grants::s256;
    use super::super::{IdpConfig, RunningIdp, spawn};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn browser() -> reqwest::Client {
        crate::browser::web_client().unwrap()
    }

    fn authorize_url(idp: &RunningIdp, redirect_uri: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/authorize", idp.base_url())).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "unbox-app")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", "s1")
            .append_pair("nonce", "n1")
            .append_pair("code_challenge", &s256(VERIFIER))
            .append_pair("code_challenge_method", "S256");
        url.into()
    }

    fn query_of(location: &str) -> HashMap<String, String> {
        url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
    }

    async fn location(response: reqwest::Response) -> String {
        assert_eq!(response.status(), 302);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn token_request(idp: &RunningIdp, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let response = browser().post(format!("{}/token", idp.base_url())).form(form).send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        (response.status().as_u16(), response.json().await.unwrap())
    }

    #[tokio::test]
    async fn consent_page_approves_or_denies() {
        let idp = spawn(IdpConfig { auto_consent: false, ..IdpConfig::default() }).await.unwrap();
        for (decision, expect_code) in [("approve", true), ("deny", false)] {
            let page = browser()
                .get(authorize_url(&idp, "http://127.0.0.1:9/callback"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let marker = "name=\"request_id\" value=\"";
            let start = page.find(marker).unwrap() + marker.len();
            let request_id = &page[start..start + page[start..].find('"').unwrap()];
            let response = browser()
                .post(format!("{}/authorize/decision", idp.base_url()))
                .form(&[("request_id", request_id), ("decision", decision)])
                .send()
                .await
                .unwrap();
            let query = query_of(&location(response).await);
            assert_eq!(query["state"], "s1");
            assert_eq!(query["iss"], idp.base_url());
            assert_eq!(query.contains_key("code"), expect_code);
            if !expect_code {
                assert_eq!(query["error"], "access_denied");
            }
            let again = browser()
                .post(format!("{}/authorize/decision", idp.base_url()))
                .form(&[("request_id", request_id), ("decision", "approve")])
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 400);
        }
    }

    #[tokio::test]
    async fn unregistered_redirects_get_a_page_not_a_redirect() {
        let idp = spawn(IdpConfig::default()).await.unwrap();
        for redirect in
            ["http://localhost:9/callback", "http://127.0.0.1:9/elsewhere", "https://evil.example/cb"]
        {
            let response = browser().get(authorize_url(&idp, redirect)).send().await.unwrap();
            assert_eq!(response.status(), 400, "{redirect}");
            assert!(response.text().await.unwrap().contains("not registered"));
        }
        let app =
            browser().get(authorize_url(&idp, super::super::DEFAULT_APP_REDIRECT_URI)).send().await.unwrap();
        assert!(location(app).await.starts_with("com.example.unbox:/oauth2redirect?code="));
    }

    #[tokio::test]
    async fn pkce_is_mandatory() {
        let idp = spawn(IdpConfig::default()).await.unwrap();
        let plain = authorize_url(&idp, "http://127.0.0.1:9/callback")
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        let query = query_of(&location(browser().get(plain).send().await.unwrap()).await);
        assert_eq!(query["error"], "invalid_request");
        assert_eq!(query["state"], "s1");
        let url = authorize_url(&idp, "http://127.0.0.1:9/callback");
        let without = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> =
            without.query_pairs().into_owned().filter(|(name, _)| name != "code_challenge").collect();
        let mut stripped = without.clone();
        stripped.query_pairs_mut().clear().extend_pairs(pairs);
        let query = query_of(&location(browser().get(stripped.as_str()).send().await.unwrap()).await);
        assert_eq!(query["error_description"], "PKCE is required: send code_challenge");
    }

    #[tokio::test]
    async fn token_endpoint_checks_client_redirect_and_outage() {
        let idp = spawn(IdpConfig::default()).await.unwrap();
        let redirect = "http://127.0.0.1:9/callback";
        let code = query_of(
            &location(browser().get(authorize_url(&idp, redirect)).send().await.unwrap()).await,
        )["code"]
            .clone();
        let (status, body) = token_request(
            &idp,
            &[("grant_type", "authorization_code"), ("code", &code), ("client_id", "nobody")],
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
        let (status, body) = token_request(
            &idp,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "unbox-app"),
                ("redirect_uri", "http://127.0.0.1:10/callback"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
        idp.provider().set_token_endpoint_down(true);
        let (status, body) =
            token_request(&idp, &[("grant_type", "refresh_token"), ("client_id", "unbox-app")]).await;
        assert_eq!((status, body["error"].as_str()), (503, Some("temporarily_unavailable")));
        idp.provider().set_token_endpoint_down(false);
        let (status, body) =
            token_request(&idp, &[("grant_type", "password"), ("client_id", "unbox-app")]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    }

    #[tokio::test]
    async fn issued_tokens_introspect_and_revoke() {
        let idp = spawn(IdpConfig::default()).await.unwrap();
        let redirect = "http://127.0.0.1:9/callback";
        let code = query_of(
            &location(browser().get(authorize_url(&idp, redirect)).send().await.unwrap()).await,
        )["code"]
            .clone();
        let (status, body) = token_request(
            &idp,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "unbox-app"),
                ("redirect_uri", redirect),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["id_token"].is_string());
        let access = body["access_token"].as_str().unwrap();
        let user = idp.provider().introspect(access).unwrap();
        assert_eq!((user.subject.as_str(), user.client_id.as_str()), ("user-alice", "unbox-app"));
        let revoked = browser()
            .post(format!("{}/revoke", idp.base_url()))
            .form(&[("token", body["refresh_token"].as_str().unwrap()), ("client_id", "unbox-app")])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        assert_eq!(idp.provider().introspect(access), None);
    }

    #[tokio::test]
    async fn discovery_documents_follow_the_configuration() {
        let idp = spawn(IdpConfig { openid_discovery: false, ..IdpConfig::default() }).await.unwrap();
        let openid = browser()
            .get(format!("{}/.well-known/openid-configuration", idp.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(openid.status(), 404);
        let oauth: serde_json::Value = browser()
            .get(format!("{}/.well-known/oauth-authorization-server", idp.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(oauth["issuer"], idp.base_url());
        assert_eq!(oauth["token_endpoint"], format!("{}/token", idp.base_url()));
        assert_eq!(oauth["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    }
}
