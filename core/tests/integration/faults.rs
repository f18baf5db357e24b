//! Injected device faults: each surfaces as its own typed error, and a new session recovers.

use std::time::Duration;

use crate::support::devices::*;
use unbox_core::device::{DeviceError, DeviceSession, PolicyRefusal, SecurityPolicy, WifiCredentials};
use unbox_core::security::SecurityError;
use unbox_core::transport::TransportError;
use unbox_sim::device::{Faults, StationState};

fn with_faults(faults: Faults) -> unbox_sim::device::DeviceConfig {
    device_config(sec2(1)).with_faults(faults)
}

async fn full_flow(rig: &Rig) -> Result<(), DeviceError> {
    let session = rig.session().await;
    session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await?;
    session.apply_wifi_config().await?;
    session.wait_for_wifi(fast_polling(), |_| {}).await.map(|_| ())
}

#[tokio::test]
async fn a_dropped_connection_loses_the_session_and_a_new_one_recovers() {
    for link in LINKS {
        // Exchanges: 1 proto-ver, 2-3 handshake, 4 set-config (dropped).
        let rig =
            Rig::start(link, with_faults(Faults { drop_at_exchange: Some(4), ..Faults::default() })).await;
        let session = rig.session().await;
        let error =
            session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap_err();
        assert!(
            matches!(error, DeviceError::Transport(TransportError::SessionLost { .. })),
            "{link:?}: {error:?}"
        );
        assert!(error.is_retryable());
        // The session is out of step for good; asking again says so without touching the link.
        let again = session.apply_wifi_config().await.unwrap_err();
        assert!(matches!(again, DeviceError::SessionBroken));
        full_flow(&rig).await.unwrap();
    }
}

#[tokio::test]
async fn a_corrupted_reply_fails_authentication() {
    for link in LINKS {
        let rig =
            Rig::start(link, with_faults(Faults { corrupt_reply_at: Some(4), ..Faults::default() })).await;
        let session = rig.session().await;
        let error =
            session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap_err();
        assert!(matches!(error, DeviceError::Security(SecurityError::Decrypt)), "{link:?}: {error:?}");
    }
}

#[tokio::test]
async fn a_corrupted_handshake_reply_never_yields_a_working_session() {
    // Exchange 2 is the device's B and salt, exchange 3 its proof and nonce.
    for step in [2, 3] {
        let rig = Rig::start(
            Link::SoftAp,
            with_faults(Faults { corrupt_reply_at: Some(step), ..Faults::default() }),
        )
        .await;
        let credentials = credentials_for(&rig.device.config().security);
        let outcome = async {
            let session =
                unbox_core::device::DeviceSession::open(rig.connect().await, &credentials, &permissive())
                    .await?;
            session.wifi_status().await
        }
        .await;
        assert!(outcome.is_err(), "step {step}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_reboot_loses_session_and_configuration() {
    for link in LINKS {
        // 4 set-config, 5 apply (reboot: the configuration held in RAM is gone).
        let rig =
            Rig::start(link, with_faults(Faults { reboot_at_exchange: Some(5), ..Faults::default() })).await;
        let session = rig.session().await;
        session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap();
        let error = session.apply_wifi_config().await.unwrap_err();
        assert!(matches!(error, DeviceError::Transport(TransportError::SessionLost { .. })), "{error:?}");
        assert_eq!(rig.device.station_state(), StationState::Idle);
        let session = rig.session().await;
        // Applying without sending the configuration again is refused: nothing survived.
        assert!(matches!(session.apply_wifi_config().await, Err(DeviceError::Refused { .. })));
    }
}

#[tokio::test]
async fn a_slow_device_times_out() {
    for link in LINKS {
        let rig = Rig::start(
            link,
            with_faults(Faults { reply_delay: Duration::from_millis(400), ..Faults::default() }),
        )
        .await;
        let transport = rig.try_connect(Duration::from_millis(100)).await;
        let error = match transport {
            Ok(transport) => {
                unbox_core::device::DeviceSession::read_info(transport.as_ref()).await.unwrap_err()
            }
            Err(error) => DeviceError::Transport(error),
        };
        assert!(
            matches!(error, DeviceError::Transport(TransportError::Timeout { .. })),
            "{link:?}: {error:?}"
        );
        assert!(error.is_retryable());
    }
}

/// A device whose version info lies about its security 2 patch version: announcing 1 while it
/// keeps one static (16-byte, pre-patch) nonce gets past the policy but not the handshake, a
/// typed error before any secret is sent; announcing 0 while it counts nonces is refused by the
/// default policy.
#[tokio::test]
async fn a_device_lying_about_its_patch_version_is_caught() {
    for link in LINKS {
        let lying = Faults { announced_patch_version: Some(1), ..Faults::default() };
        let rig = Rig::start(link, device_config(sec2(0)).with_faults(lying)).await;
        let error =
            DeviceSession::open(rig.connect().await, &credentials_for(&sec2(1)), &SecurityPolicy::default())
                .await
                .unwrap_err();
        assert!(matches!(error, DeviceError::Security(SecurityError::Malformed(_))), "{link:?}: {error:?}");
        assert_eq!(
            rig.device.stats().by_endpoint.get("prov-config"),
            None,
            "nothing sent past the handshake"
        );

        let understating = Faults { announced_patch_version: Some(0), ..Faults::default() };
        let rig = Rig::start(link, device_config(sec2(1)).with_faults(understating)).await;
        let error =
            DeviceSession::open(rig.connect().await, &credentials_for(&sec2(1)), &SecurityPolicy::default())
                .await
                .unwrap_err();
        assert!(
            matches!(error, DeviceError::RefusedByPolicy(PolicyRefusal::Sec2StaticNonce)),
            "{link:?}: {error:?}"
        );
    }
}
