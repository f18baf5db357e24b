//! The authorization callback (what comes back from the browser, or from anyone who can open
//! the redirect URI) through the auth client, against a loopback server playing the provider's
//! token endpoint. Input: frame 0 = [form], frame 1 = callback text (or its query), frame 2 = the
//! token endpoint's body when the callback is accepted.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use unbox_core::auth::{AuthClient, ClientConfig, ProviderMetadata, answers_authorization};
use unbox_fuzz::{ScriptedServer, frames, runtime, state_of};
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";

/// Two clients of the scripted provider: plain OAuth, and OpenID Connect with RFC 9207's `iss`.
fn clients() -> &'static [AuthClient; 2] {
    static CLIENTS: OnceLock<[AuthClient; 2]> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let base = ScriptedServer::get().base_url();
        let metadata = ProviderMetadata::new(&format!("{base}/authorize"), &format!("{base}/token"), false)
            .expect("loopback endpoints");
        let mut with_issuer = metadata.clone();
        with_issuer.issuer = Some(base.clone());
        with_issuer.authorization_response_iss_parameter_supported = true;
        let plain = AuthClient::new(ClientConfig::new("fuzz-app", REDIRECT_URI), metadata).expect("a client");
        let openid = ClientConfig::new("fuzz-app", REDIRECT_URI).with_scopes(["openid", "profile"]);
        [plain, AuthClient::new(openid, with_issuer).expect("a client")]
    })
}

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let (Some(form), Some(text)) = (frames.first(), frames.get(1)) else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let form = form.first().copied().unwrap_or(0);
    let client = &clients()[usize::from(form & 1)];
    let server = ScriptedServer::get();
    server.respond(
        200,
        "application/json",
        &[],
        frames.get(2).copied().unwrap_or(br#"{"access_token":"a","token_type":"Bearer"}"#),
    );
    let request = client.begin_authorization().expect("random values");
    let state = state_of(&request);
    let callback = match (form >> 1) % 4 {
        // The callback as it arrives.
        0 => text.to_owned(),
        // Any query on the redirect URI.
        1 => format!("{REDIRECT_URI}?{text}"),
        // The right state with anything else.
        2 => format!("{REDIRECT_URI}?state={state}&{text}"),
        // A code with the right state and issuer.
        _ => {
            let mut url = Url::parse(REDIRECT_URI).expect("the redirect URI");
            url.query_pairs_mut()
                .append_pair("code", text)
                .append_pair("state", &state)
                .append_pair("iss", &server.base_url());
            url.into()
        }
    };
    let _ = answers_authorization(request.url(), &callback);
    let _ = runtime().block_on(client.complete_authorization(&request, &callback));
});
