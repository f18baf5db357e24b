//! The provisioning client against the simulated device over loopback HTTP and the in-memory
//! BLE world: every security level and patch version, the Wi-Fi flow, failure reasons, retry
//! via prov-ctrl, and exchange counts.

use crate::support::devices::*;
use unbox_core::device::{
    AuthMode, DeviceError, DeviceSession, PolicyRefusal, ScanOptions, SecurityPolicy, StatusPolling,
    WifiCredentials, WifiFailure, WifiStatus, WifiWait,
};
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use unbox_sim::device::{SimSecurity, StationState};

fn all_securities() -> Vec<SimSecurity> {
    vec![SimSecurity::Sec0, SimSecurity::Sec1 { pop: None }, sec1(), sec2(0), sec2(1)]
}

/// Runs scan → set → apply → wait and returns the number of status reads the client made.
async fn provision(session: &DeviceSession, passphrase: &str) -> Result<usize, DeviceError> {
    session.set_wifi_config(&WifiCredentials::new(HOME_SSID, passphrase)).await?;
    session.apply_wifi_config().await?;
    let mut polls = 0;
    session.wait_for_wifi(fast_polling(), |_| polls += 1).await?;
    Ok(polls)
}

#[tokio::test]
async fn provisions_over_every_link_and_security_level_with_no_extra_exchange() {
    for link in LINKS {
        for security in all_securities() {
            let rig = Rig::start(link, device_config(security.clone())).await;
            let session = rig.session().await;
            let polls = provision(&session, HOME_PASSPHRASE)
                .await
                .unwrap_or_else(|e| panic!("{link:?} {security:?}: {e}"));
            assert!(matches!(rig.device.station_state(), StationState::Connected { .. }));

            let stats = rig.device.stats();
            let handshake = if matches!(security, SimSecurity::Sec0) { 1 } else { 2 };
            assert_eq!(stats.by_endpoint.get("proto-ver"), Some(&1), "{link:?} {security:?}");
            assert_eq!(stats.by_endpoint.get("prov-session"), Some(&handshake), "{link:?} {security:?}");
            // set-config, apply-config, then exactly the status reads the client observed.
            assert_eq!(
                stats.by_endpoint.get("prov-config"),
                Some(&(2 + polls as u32)),
                "{link:?} {security:?}"
            );
            assert_eq!(stats.total(), 1 + handshake + 2 + polls as u32);
            assert_eq!(stats.sessions, 1);
            if link == Link::SoftAp {
                assert_eq!(rig.connections_accepted(), 1, "{security:?}: one TCP connection per session");
            }
        }
    }
}

#[tokio::test]
async fn device_scan_is_paged_to_fit_the_link() {
    for link in LINKS {
        let mut config = device_config(sec2(1));
        for i in 0..14 {
            config = config.with_network(unbox_sim::device::SimNetwork {
                rssi: -80 + i,
                ..unbox_sim::device::SimNetwork::new(format!("Net-{i:02}-padding-to-32-bytes-long"), "")
            });
        }
        let rig = Rig::start(link, config).await;
        let session = rig.session().await;
        let seen = session.scan_wifi(ScanOptions::for_transport(session.transport().kind())).await.unwrap();
        assert_eq!(seen.len(), 16, "the firmware caps results at 16");
        assert_eq!(seen[0].ssid, HOME_SSID);
        assert!(seen.windows(2).all(|w| w[0].rssi >= w[1].rssi));
        assert_eq!(seen[0].auth, AuthMode::Wpa2Psk);
        let pages = rig.device.stats().by_endpoint["prov-scan"] - 2;
        let expected_pages = 16usize.div_ceil(session.scan_page_size());
        assert_eq!(pages as usize, expected_pages, "{link:?}");
        if link == Link::SoftAp {
            assert_eq!(pages, 1, "SoftAP carries every result in one page");
        } else {
            assert!(pages > 1, "BLE values are limited, results come in several pages");
        }
    }
}

#[tokio::test]
async fn wrong_passphrase_is_reported_and_retried_on_the_same_session() {
    for link in LINKS {
        let rig = Rig::start(link, device_config(sec2(1))).await;
        let session = rig.session().await;
        let error = provision(&session, "not the password").await.unwrap_err();
        assert!(matches!(error, DeviceError::Wifi(WifiFailure::AuthError)), "{error}");
        assert!(error.to_string().contains("password is wrong"));
        // The firmware refuses a second apply until prov-ctrl reset.
        assert!(matches!(session.apply_wifi_config().await, Err(DeviceError::Refused { .. })));
        session.reset_wifi().await.unwrap();
        provision(&session, HOME_PASSPHRASE).await.unwrap();
        assert_eq!(rig.device.stats().sessions, 1, "no new handshake was needed");
    }
}

#[tokio::test]
async fn unknown_network_is_reported() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(1))).await;
    let session = rig.session().await;
    session.set_wifi_config(&WifiCredentials::new("NotHere", "whatever123")).await.unwrap();
    session.apply_wifi_config().await.unwrap();
    let error = session.wait_for_wifi(fast_polling(), |_| {}).await.unwrap_err();
    assert!(matches!(error, DeviceError::Wifi(WifiFailure::NetworkNotFound)));
}

#[tokio::test]
async fn device_that_never_connects_times_out() {
    let mut config = device_config(sec2(1));
    config.faults.never_connect = true;
    let rig = Rig::start(Link::Ble, config).await;
    let session = rig.session().await;
    session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap();
    session.apply_wifi_config().await.unwrap();
    let mut polling = fast_polling();
    polling.deadline = std::time::Duration::from_millis(600);
    let mut statuses = Vec::new();
    let error = session.wait_for_wifi(polling, |s| statuses.push(s.clone())).await.unwrap_err();
    assert!(matches!(error, DeviceError::Wifi(WifiFailure::TimedOut(_))));
    assert!(statuses.iter().all(|s| matches!(s, WifiStatus::Connecting { .. })));
    // Polling backs off: fewer reads than the deadline divided by the first delay.
    assert!(statuses.len() < 12, "{} polls", statuses.len());
}

#[tokio::test]
async fn invalid_credentials_are_refused_before_sending() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(1))).await;
    let session = rig.session().await;
    let too_long = WifiCredentials::new("x".repeat(33), HOME_PASSPHRASE);
    assert!(matches!(session.set_wifi_config(&too_long).await, Err(DeviceError::InvalidSsid { len: 33 })));
    let short = WifiCredentials::new(HOME_SSID, "short");
    assert!(matches!(session.set_wifi_config(&short).await, Err(DeviceError::InvalidPassphrase { len: 5 })));
    assert_eq!(rig.device.stats().by_endpoint.get("prov-config"), None);
}

#[tokio::test]
async fn wrong_pop_or_password_is_rejected_at_the_proof_step() {
    for link in LINKS {
        let wrong = [
            (sec1(), ClientCredentials::Sec1 { pop: SecretString::new("wrong-pop") }),
            (
                sec2(1),
                ClientCredentials::Sec2 {
                    username: "wifiprov".into(),
                    password: SecretString::new("wrong-pass"),
                },
            ),
            (
                sec2(0),
                ClientCredentials::Sec2 { username: "someone".into(), password: SecretString::new(POP) },
            ),
        ];
        // Patch version 0 is refused by default; this test is about the proof step.
        let policy = SecurityPolicy { allow_sec2_static_nonce: true, ..SecurityPolicy::default() };
        for (security, credentials) in wrong {
            let rig = Rig::start(link, device_config(security)).await;
            let error = DeviceSession::open(rig.connect().await, &credentials, &policy).await.unwrap_err();
            assert!(matches!(error, DeviceError::HandshakeRejected { .. }), "{link:?}: {error:?}");
            assert!(!error.is_retryable());
            // The device is still usable with the right credentials.
            rig.session().await;
        }
    }
}

#[tokio::test]
async fn weak_security_is_refused_unless_allowed() {
    for security in [SimSecurity::Sec0, SimSecurity::Sec1 { pop: None }] {
        let rig = Rig::start(Link::SoftAp, device_config(security.clone())).await;
        let credentials = credentials_for(&security);
        let error = DeviceSession::open(rig.connect().await, &credentials, &SecurityPolicy::default())
            .await
            .unwrap_err();
        assert!(matches!(error, DeviceError::RefusedByPolicy(_)), "{security:?}: {error:?}");
        assert_eq!(rig.device.stats().by_endpoint.get("prov-session"), None, "no handshake attempted");
        DeviceSession::open(rig.connect().await, &credentials, &permissive()).await.unwrap();
    }
    // Security 1 with an empty PoP on a device that has one is refused by default too.
    let rig = Rig::start(Link::SoftAp, device_config(sec1())).await;
    let empty = ClientCredentials::Sec1 { pop: SecretString::default() };
    let error =
        DeviceSession::open(rig.connect().await, &empty, &SecurityPolicy::default()).await.unwrap_err();
    assert!(matches!(error, DeviceError::RefusedByPolicy(_)));
}

#[tokio::test]
async fn credentials_for_another_scheme_are_a_typed_error() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(1))).await;
    let credentials = ClientCredentials::Sec1 { pop: SecretString::new(POP) };
    let error =
        DeviceSession::open(rig.connect().await, &credentials, &SecurityPolicy::default()).await.unwrap_err();
    assert!(matches!(error, DeviceError::CredentialsMismatch { .. }));
}

#[tokio::test]
async fn reprovision_lets_a_provisioned_device_take_new_credentials() {
    let mut config = device_config(sec2(1));
    config.stop_after_connected = std::time::Duration::from_secs(30);
    let rig = Rig::start(Link::SoftAp, config).await;
    let session = rig.session().await;
    provision(&session, HOME_PASSPHRASE).await.unwrap();
    session.reprovision().await.unwrap();
    assert_eq!(rig.device.station_state(), StationState::Idle);
    provision(&session, HOME_PASSPHRASE).await.unwrap();
}

#[tokio::test]
async fn security_2_patch_version_0_is_refused_unless_allowed() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(0))).await;
    let credentials = credentials_for(&sec2(0));
    let error =
        DeviceSession::open(rig.connect().await, &credentials, &SecurityPolicy::default()).await.unwrap_err();
    assert!(matches!(error, DeviceError::RefusedByPolicy(PolicyRefusal::Sec2StaticNonce)), "{error:?}");
    assert!(error.to_string().contains("firmware needs an update"), "{error}");
    assert_eq!(rig.device.stats().by_endpoint.get("prov-session"), None, "no handshake attempted");
    let allowed = SecurityPolicy { allow_sec2_static_nonce: true, ..SecurityPolicy::default() };
    DeviceSession::open(rig.connect().await, &credentials, &allowed).await.unwrap();
}

#[tokio::test]
async fn a_device_offering_weaker_security_than_its_code_is_refused_whatever_the_policy() {
    let everything = permissive();
    let sec2_credentials = credentials_for(&sec2(1));
    let sec1_credentials = credentials_for(&sec1());
    // (device, credentials from its code): sec0 for sec1 or sec2 codes, sec1 for a sec2 code.
    let downgrades = [
        (SimSecurity::Sec0, sec2_credentials.clone()),
        (SimSecurity::Sec0, sec1_credentials),
        (sec1(), sec2_credentials),
        (SimSecurity::Sec1 { pop: None }, credentials_for(&sec2(0))),
    ];
    for (device, credentials) in downgrades {
        let rig = Rig::start(Link::SoftAp, device_config(device.clone())).await;
        let error = DeviceSession::open(rig.connect().await, &credentials, &everything).await.unwrap_err();
        let DeviceError::CredentialsMismatch { device: offered, given } = error else {
            panic!("{device:?}: {error:?}");
        };
        assert!(offered < given);
        assert!(error.to_string().contains("refusing the weaker security"), "{error}");
        assert_eq!(rig.device.stats().by_endpoint.get("prov-session"), None, "no handshake attempted");
    }
    // allow_unencrypted covers a code that itself says security 0.
    let rig = Rig::start(Link::SoftAp, device_config(SimSecurity::Sec0)).await;
    DeviceSession::open(rig.connect().await, &ClientCredentials::Sec0, &everything).await.unwrap();
}

/// Reads the status with the shipped polling schedule until the device joined; the paused clock
/// makes the schedule exact. Returns the status reads and the waits announced.
async fn follow_join(
    rig: &Rig,
    polling: StatusPolling,
    sooner: impl Future<Output = ()> + Send,
) -> (u32, Vec<String>) {
    let session = rig.session().await;
    session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap();
    session.apply_wifi_config().await.unwrap();
    let mut events = Vec::new();
    let joined = session
        .follow_wifi(polling, sooner, |event| {
            events.push(match event {
                WifiWait::Sleeping(wait) => format!("wait {}", wait.as_millis()),
                WifiWait::Status(status) => {
                    format!("{status:?}").split_whitespace().next().unwrap_or("").to_owned()
                }
            })
        })
        .await
        .unwrap();
    assert_eq!(joined.ssid, HOME_SSID);
    // set-config and apply-config, then the status reads.
    (rig.device.stats().by_endpoint["prov-config"] - 2, events)
}

#[tokio::test(start_paused = true)]
async fn the_shipped_schedule_sees_a_two_and_a_half_second_join_at_the_third_read() {
    // The firmware's 1 s apply delay plus a 1.5 s join: reads at 2.0, 2.25 and 2.575 s after
    // apply, where the old backoff (250 ms, half again each time) needed five, the last at 3.3 s.
    let config = device_config(sec2(1))
        .with_timing(std::time::Duration::from_secs(1), std::time::Duration::from_millis(1500));
    let rig = Rig::start(Link::Ble, config).await;
    let (reads, events) = follow_join(&rig, StatusPolling::default(), std::future::pending()).await;
    assert_eq!(reads, 3);
    assert_eq!(
        events,
        ["wait 2000", "Connecting", "wait 250", "Connecting", "wait 325", "Connected(ConnectedInfo"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_sooner_signal_reads_the_status_at_once_and_adds_no_exchange() {
    // The first read is a minute away; the signal (in the flow: the backend saw the device
    // redeem) comes once the device joined, and one read follows at once.
    let rig = Rig::start(Link::Ble, device_config(sec2(1))).await;
    let device = rig.device.clone();
    let online = async move {
        while !matches!(device.station_state(), StationState::Connected { .. }) {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let polling = StatusPolling {
        initial_delay: std::time::Duration::from_secs(60),
        deadline: std::time::Duration::from_secs(120),
        ..StatusPolling::default()
    };
    let started = tokio::time::Instant::now();
    let (reads, events) = follow_join(&rig, polling, online).await;
    assert_eq!(reads, 1);
    assert_eq!(events, ["wait 60000", "Connected(ConnectedInfo"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "the minute was not waited out");
}
