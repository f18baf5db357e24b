//! Shared set-up of the binding-lifecycle tests: the simulated cloud, customers signed in
//! through the app's client with the scripted browser, and simulated devices.

#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::sync::Arc;

use unbox_core::auth::{AuthClient, ClientConfig, Session};
use unbox_core::binding::{
    Binding, BindingClient, ClaimRedeemer, DeviceCredential, IdempotencyKey, LONG_POLL_WAIT,
};
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_sim::browser::AutoConsentBrowser;
use unbox_sim::cloud::SimCloud;
use unbox_sim::idp::{DEFAULT_APP_REDIRECT_URI, DEFAULT_CLIENT_ID};
use url::Url;

/// Customer A's e-mail address at the simulated provider.
pub const ALICE: &str = "alice@example.com";
/// Customer B's.
pub const BOB: &str = "bob@example.com";

/// The cloud's base URL as a URL.
pub fn base_url(cloud: &SimCloud) -> Url {
    Url::parse(cloud.base_url()).expect("loopback URL")
}

/// The app's sign-in session for the customer `login_hint` names.
pub async fn session(cloud: &SimCloud, login_hint: &str) -> Arc<Session> {
    let config = ClientConfig::new(DEFAULT_CLIENT_ID, DEFAULT_APP_REDIRECT_URI).with_scopes(["openid"]);
    let client = AuthClient::discover(config, cloud.base_url()).await.expect("discovery");
    let browser = AutoConsentBrowser::new().expect("browser").signing_in_as(login_hint);
    let session = Arc::new(Session::new(client, Arc::new(browser), Arc::new(MemorySecretStore::new())));
    session.sign_in().await.expect("sign-in");
    session
}

/// The app's binding client for the customer `login_hint` names.
pub async fn app(cloud: &SimCloud, login_hint: &str) -> BindingClient {
    BindingClient::new(&base_url(cloud), session(cloud, login_hint).await).expect("client")
}

/// A device registered at the factory, and its side of the binding API.
pub fn device(cloud: &SimCloud, id: &str) -> (DeviceCredential, ClaimRedeemer) {
    let credential = cloud.manufacture_device(id);
    let redeemer = ClaimRedeemer::new(credential.clone()).expect("redeemer");
    (credential, redeemer)
}

/// Sets `redeemer`'s device up for `app`'s customer as the phone does (claim, redeem, wait,
/// confirm), naming it `name`.
pub async fn set_up(
    cloud: &SimCloud,
    app: &BindingClient,
    redeemer: &ClaimRedeemer,
    device: &DeviceCredential,
    name: Option<&str>,
) -> Binding {
    let claim = app.create_claim(&IdempotencyKey::generate()).await.expect("claim");
    redeemer.redeem(&base_url(cloud), &claim.token).await.expect("redeemed");
    app.wait_for_redemption(&claim.id, LONG_POLL_WAIT).await.expect("redemption seen");
    app.confirm_named(&claim.id, device.device_id(), name, &IdempotencyKey::generate())
        .await
        .expect("confirmed")
}
