//! Nothing secret reaches the logs at any level: the whole flow runs with a TRACE subscriber
//! capturing every line, then the capture is searched for each secret involved.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::support::logs::capture_logs;
use unbox_core::flow::{FlowEvent, FlowObserver};
use unbox_core::platform::secret_store::SecretStore;
use unbox_sim::world::{
    DEVICE_AP_PASSPHRASE, DEVICE_PASSWORD, HOME_PASSPHRASE, Link, SimWorld, WorldOptions,
};

struct Quiet;

impl FlowObserver for Quiet {
    fn on_event(&self, _event: FlowEvent) {}
}

#[tokio::test]
async fn no_secret_appears_in_trace_logs_of_a_whole_onboarding() {
    let capture = capture_logs();

    let options = WorldOptions {
        apply_delay: Duration::from_millis(100),
        join_time: Duration::from_millis(200).into(),
        ..Default::default()
    };
    let world = SimWorld::start(options).await.unwrap();
    let store = Arc::new(unbox_core::platform::secret_store::MemorySecretStore::new());
    let onboarding = world.onboarding_with(store.clone(), world.settings()).await.unwrap();
    onboarding.run(&world.request(0, Link::SoftAp), &Quiet, None, &CancellationToken::new()).await.unwrap();

    let logs = capture.text();
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "the capture works");
    assert!(logs.contains("exchange"), "device exchanges were logged");
    for secret in [HOME_PASSPHRASE, DEVICE_PASSWORD, DEVICE_AP_PASSPHRASE] {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
    }
    let tokens = store.get("unbox.auth.tokens").await.unwrap().expect("tokens stored");
    let tokens: serde_json::Value = serde_json::from_str(tokens.expose()).unwrap();
    let mut checked = 0;
    for field in ["access_token", "refresh_token", "id_token"] {
        if let Some(token) = tokens.get(field).and_then(|v| v.as_str()) {
            assert!(!logs.contains(token), "{field} leaked into the logs");
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "the stored tokens were found: {:?}",
        tokens.as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
}
