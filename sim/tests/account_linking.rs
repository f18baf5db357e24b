//! The voice-assistant path end to end (docs/account-linking.md): the phone onboards and binds
//! a device as customer A; the skill links A's account through the same identity provider (code
//! grant with PKCE and its client secret, in the scripted browser), lists A's devices through
//! `GET /v1/bindings` with its own tokens; B's skill token sees none of them; the backend checks
//! the skill token's audience, scope and subject; after A unbinds, the skill sees the device gone.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{ALICE, BOB, base_url};
use tokio_util::sync::CancellationToken;
use unbox_core::binding::{BindingClient, BindingError, BindingId};
use unbox_core::flow::{FlowEvent, FlowObserver};
use unbox_core::secret::SecretString;
use unbox_sim::assistant::{SimSkill, SkillConfig};
use unbox_sim::browser::AutoConsentBrowser;
use unbox_sim::idp::SKILL_CLIENT_ID;
use unbox_sim::world::{Link, SimWorld, WorldOptions};

struct Quiet;

impl FlowObserver for Quiet {
    fn on_event(&self, _event: FlowEvent) {}
}

async fn linked_skill(config: SkillConfig, customer: &str) -> Arc<SimSkill> {
    let skill = Arc::new(SimSkill::new(config).unwrap());
    let browser = AutoConsentBrowser::new().unwrap().signing_in_as(customer);
    skill.link(&browser).await.unwrap();
    skill
}

#[tokio::test]
async fn a_linked_skill_lists_its_customers_devices_and_nobody_elses() {
    let options = WorldOptions {
        devices: 1,
        apply_delay: Duration::from_millis(100),
        join_time: Duration::from_millis(200).into(),
        ..WorldOptions::default()
    };
    let world = SimWorld::start(options).await.unwrap();
    // The phone: customer A (the provider's default user) onboards and binds the device.
    let onboarding = world.onboarding().await.unwrap();
    let done = onboarding.run(&world.request(0, Link::SoftAp), &Quiet, None, &CancellationToken::new()).await;
    let binding = done.unwrap().binding.expect("bound");
    let backend = base_url(&world.cloud);

    // The skill links A's account and lists A's devices with its own token.
    let config = SkillConfig::simulated(world.cloud.base_url());
    let skill_a = BindingClient::new(&backend, linked_skill(config.clone(), ALICE).await).unwrap();
    let seen = skill_a.all_bindings(false).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].device_id, binding.device_id);
    assert_eq!(seen[0].bound_by_client, unbox_sim::idp::DEFAULT_CLIENT_ID, "bound by the phone app");

    // Subject: B's linked skill sees none of A's devices.
    let skill_b = BindingClient::new(&backend, linked_skill(config.clone(), BOB).await).unwrap();
    assert!(skill_b.all_bindings(false).await.unwrap().is_empty());

    // Scope: a linked token may only list, and only with `devices:read`.
    let id = BindingId::new(binding.binding_id.clone()).unwrap();
    assert!(matches!(skill_a.unbind(&id).await, Err(BindingError::Forbidden { .. })));
    let unscoped = SkillConfig { scopes: vec!["profile".into()], ..config.clone() };
    let unscoped = BindingClient::new(&backend, linked_skill(unscoped, ALICE).await).unwrap();
    assert!(matches!(unscoped.all_bindings(false).await, Err(BindingError::Forbidden { .. })));

    // Audience: a token the provider issued for another API (RFC 8707 `resource`) is refused.
    let elsewhere = SkillConfig {
        authorization_url: format!("{}?resource=https://photos.example/api", config.authorization_url),
        ..config.clone()
    };
    let elsewhere = BindingClient::new(&backend, linked_skill(elsewhere, ALICE).await).unwrap();
    assert!(matches!(elsewhere.all_bindings(false).await, Err(BindingError::Unauthorized { .. })));

    // The skill's refresh token works (and rotates), as the assistant uses it.
    let skill = linked_skill(config.clone(), ALICE).await;
    let old = unbox_core::binding::AccessTokenSource::access_token(skill.as_ref()).await.unwrap();
    skill.refresh().await.unwrap();
    let new = unbox_core::binding::AccessTokenSource::access_token(skill.as_ref()).await.unwrap();
    assert_ne!(old, new);
    let refreshed = BindingClient::new(&backend, skill).unwrap();
    assert_eq!(refreshed.all_bindings(false).await.unwrap().len(), 1);

    // A unbinds in the app; the skill sees the device gone.
    let session =
        world.session(Arc::new(unbox_core::platform::secret_store::MemorySecretStore::new())).await.unwrap();
    session.sign_in().await.unwrap();
    let app = BindingClient::new(&backend, session).unwrap();
    app.unbind(&id).await.unwrap();
    assert!(skill_a.all_bindings(false).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_skill_client_is_confidential() {
    let world = SimWorld::start(WorldOptions { devices: 1, ..WorldOptions::default() }).await.unwrap();
    let config = SkillConfig::simulated(world.cloud.base_url());
    let wrong = SkillConfig { client_secret: SecretString::new("guessed"), ..config.clone() };
    let skill = SimSkill::new(wrong).unwrap();
    let browser = AutoConsentBrowser::new().unwrap().signing_in_as(ALICE);
    let error = skill.link(&browser).await.expect_err("a wrong secret cannot exchange the code");
    assert!(error.0.contains("invalid_client"), "{error}");
    // Its redirect URI is the assistant's https callback and nothing else.
    let elsewhere = SkillConfig { redirect_uri: "https://evil.example/cb".into(), ..config };
    let error = SimSkill::new(elsewhere).unwrap().link(&browser).await.expect_err("unregistered redirect");
    assert!(error.0.contains("without a redirect"), "{error}");
    assert_eq!(SKILL_CLIENT_ID, "unbox-voice-skill");
}
