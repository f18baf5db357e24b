//! The provider's replies through the auth client, from a loopback server playing the provider:
//! the token response to a code exchange (with ID token checks) and to a refresh, the revocation
//! reply, and the discovery document. Input: frame 0 = [call], frame 1 = [status], frame 2 =
//! [content type], frame 3 = one header line, frame 4 = the body.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use unbox_core::auth::{AuthClient, ClientConfig, ProviderMetadata, TokenSet};
use unbox_core::secret::SecretString;
use unbox_fuzz::{ScriptedServer, frames, runtime, state_of};
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";

fn client() -> &'static AuthClient {
    static CLIENT: OnceLock<AuthClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let base = ScriptedServer::get().base_url();
        let mut metadata =
            ProviderMetadata::new(&format!("{base}/authorize"), &format!("{base}/token"), false)
                .expect("loopback endpoints");
        metadata.issuer = Some(base.clone());
        metadata.revocation_endpoint = Some(Url::parse(&format!("{base}/revoke")).expect("a URL"));
        let config = ClientConfig::new("fuzz-app", REDIRECT_URI).with_scopes(["openid", "profile"]);
        AuthClient::new(config, metadata).expect("a client")
    })
}

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let Some((call, response)) = frames.split_first() else { return };
    let server = ScriptedServer::get();
    server.respond_with_frames(response);
    let client = client();
    let tokens = TokenSet {
        access_token: SecretString::new("access".to_owned()),
        refresh_token: Some(SecretString::new("refresh".to_owned())),
        expires_at: None,
        id_token: None,
        scopes: Vec::new(),
    };
    runtime().block_on(async {
        match call.first().copied().unwrap_or(0) % 4 {
            0 => {
                let request = client.begin_authorization().expect("random values");
                let state = state_of(&request);
                let base = server.base_url();
                let callback = format!("{REDIRECT_URI}?code=fuzz&state={state}&iss={base}");
                let _ = client.complete_authorization(&request, &callback).await;
            }
            1 => {
                if let Ok(renewed) = client.refresh(&tokens).await {
                    // A refresh keeps the ID token checked at sign-in (none here).
                    assert!(renewed.id_token.is_none(), "a refresh stored an unchecked ID token");
                }
            }
            2 => {
                let _ = client.revoke(&tokens).await;
            }
            _ => {
                let config = ClientConfig::new("fuzz-app", REDIRECT_URI);
                let _ = AuthClient::discover(config, &server.base_url()).await;
            }
        }
    });
});
