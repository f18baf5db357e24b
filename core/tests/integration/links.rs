//! Link-layer rules the real firmware enforces, checked through the core's transports:
//! SoftAP cookies and sockets, BLE descriptors, MTU, value limits and one session per connection.

use std::sync::Arc;
use std::time::Duration;

use unbox_core::transport::softap::SoftApTransport;
use unbox_sim::hostile::{HostileBody, HostileServer};

use crate::support::devices::*;
use unbox_core::device::{DeviceError, DeviceSession, WifiCredentials};
use unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;
use unbox_core::platform::ble::{BleCentral, BleError};
use unbox_core::transport::ble::BleTransport;
use unbox_core::transport::{Transport, TransportError};
use unbox_sim::ble::{SimBleCentral, SimPeripheral};
use unbox_sim::device::{CustomEndpoint, SimDevice};

struct Echo;

impl CustomEndpoint for Echo {
    fn name(&self) -> &str {
        "echo"
    }
    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        Ok(request.iter().rev().copied().collect())
    }
}

fn echo_device() -> SimDevice {
    SimDevice::new(device_config(sec2(1)), vec![Arc::new(Echo)])
}

#[tokio::test]
async fn softap_keeps_one_session_across_requests_with_its_cookie() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(1))).await;
    let session = rig.session().await;
    for _ in 0..5 {
        session.wifi_status().await.unwrap();
    }
    assert_eq!(rig.device.stats().sessions, 1);
}

#[tokio::test]
async fn a_cookieless_request_on_a_new_socket_ends_the_session() {
    let rig = Rig::start(Link::SoftAp, device_config(sec2(1))).await;
    let session = rig.session().await;
    // Another client (say, an OS connectivity probe or a second app) talks to the device.
    let intruder = rig.connect().await;
    DeviceSession::read_info(intruder.as_ref()).await.unwrap();
    let error = session.wifi_status().await.unwrap_err();
    assert!(matches!(error, DeviceError::Transport(TransportError::SessionLost { .. })), "{error:?}");
    assert_eq!(rig.device.stats().sessions, 3, "ours, the intruder's, and the one our request opened");
}

#[tokio::test]
async fn custom_endpoints_are_encrypted_by_the_session() {
    for link in LINKS {
        let rig = Rig::with_device(link, echo_device()).await;
        let session = rig.session().await;
        assert_eq!(session.request("echo", b"abc").await.unwrap(), b"cba");
        let error = session.request("missing", b"abc").await.unwrap_err();
        assert!(
            matches!(error, DeviceError::Transport(TransportError::UnknownEndpoint(_))),
            "{link:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn ble_values_beyond_the_device_limit_are_refused() {
    let rig = Rig::with_device(Link::Ble, echo_device()).await;
    let session = rig.session().await;
    // 470 + 16 bytes of GCM tag exceed the 481-byte value limit of a sec2 build.
    let error = session.request("echo", &[7u8; 470]).await.unwrap_err();
    assert!(
        matches!(error, DeviceError::Transport(TransportError::Ble(BleError::Att { code: 0x0d, .. }))),
        "{error:?}"
    );
    session.close().await;
    let session = rig.session().await;
    let error = session.request("echo", &[7u8; 600]).await.unwrap_err();
    assert!(matches!(error, DeviceError::Transport(TransportError::Oversize { .. })), "{error:?}");
}

#[tokio::test]
async fn ble_long_values_use_prepared_writes_and_blob_reads_at_a_small_mtu() {
    let mut peripheral = SimPeripheral::new(PERIPHERAL_ID, echo_device());
    peripheral.mtu = 23;
    let rig = Rig::with_peripheral(peripheral).await;
    let session = rig.session().await;
    assert_eq!(session.request("echo", &[1u8; 300]).await.unwrap(), vec![1u8; 300]);
    let att = rig.central.as_ref().unwrap().att_counters(PERIPHERAL_ID).unwrap();
    // The 406-byte sec2 Cmd0 and the 316-byte echo need prepared writes; replies need blobs.
    assert!(att.prepare_writes >= 406usize.div_ceil(18) as u32 + 316usize.div_ceil(18) as u32, "{att:?}");
    assert!(att.execute_writes >= 2, "{att:?}");
    assert!(att.read_blobs > 0, "{att:?}");
}

#[tokio::test]
async fn ble_endpoints_come_from_descriptors_not_uuid_offsets() {
    let mut peripheral = SimPeripheral::new(PERIPHERAL_ID, echo_device());
    peripheral.service = uuid::Uuid::from_u128(0x021a9004_0382_4aea_bff4_6b3f1c5adfb4);
    let service = peripheral.service;
    let central = SimBleCentral::new(vec![peripheral]);
    let transport =
        BleTransport::connect(&central, PERIPHERAL_ID, service, Duration::from_secs(5)).await.unwrap();
    let mut names: Vec<&str> = transport.endpoint_names().collect();
    names.sort();
    assert_eq!(names, ["echo", "proto-ver", "prov-config", "prov-ctrl", "prov-scan", "prov-session"]);
    transport.close().await;
    // Asking for the default service on this device finds nothing.
    let error =
        BleTransport::connect(&central, PERIPHERAL_ID, ESP_IDF_DEFAULT_SERVICE_UUID, Duration::from_secs(5))
            .await
            .err()
            .unwrap();
    assert!(matches!(error, TransportError::Ble(BleError::ServiceNotFound(_))), "{error:?}");
}

#[tokio::test]
async fn ble_allows_one_connection_and_a_disconnect_ends_the_session() {
    let rig = Rig::start(Link::Ble, device_config(sec2(1))).await;
    let session = rig.session().await;
    let central = rig.central.as_ref().unwrap();
    let second = central.connect(PERIPHERAL_ID).await.err().unwrap();
    assert!(matches!(second, BleError::ConnectFailed(_)));
    session.transport().close().await;
    let error = session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap_err();
    assert!(matches!(error, DeviceError::Transport(TransportError::SessionLost { .. })), "{error:?}");
    // Reconnecting means a new handshake.
    let session = rig.session().await;
    session.wifi_status().await.unwrap();
    assert_eq!(rig.device.stats().sessions, 2);
}

#[tokio::test]
async fn provisioning_stops_after_the_device_joined() {
    for link in LINKS {
        let mut config = device_config(sec2(1));
        config.stop_after_connected = Duration::from_millis(100);
        let rig = Rig::start(link, config).await;
        let session = rig.session().await;
        session.set_wifi_config(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await.unwrap();
        session.apply_wifi_config().await.unwrap();
        session.wait_for_wifi(fast_polling(), |_| {}).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(rig.device.provisioning_stopped());
        let error = session.wifi_status().await.unwrap_err();
        assert!(matches!(error, DeviceError::Transport(_)), "{link:?}: {error:?}");
    }
}

#[tokio::test]
async fn softap_follows_no_redirect() {
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let elsewhere = HostileServer::start(ok, HostileBody::None).await.unwrap();
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: http://{}/proto-ver\r\ncontent-length: 0\r\n\r\n",
        elsewhere.address()
    );
    let device = HostileServer::start(redirect, HostileBody::None).await.unwrap();
    let transport = SoftApTransport::new(&device.address().to_string(), Duration::from_secs(5)).unwrap();
    let error = transport.exchange("proto-ver", b"ESP").await.unwrap_err();
    assert!(matches!(error, TransportError::HttpStatus { status: 302, .. }), "{error:?}");
    assert_eq!(elsewhere.connections_accepted(), 0, "the redirect was not followed");
}

#[tokio::test]
async fn softap_reads_replies_only_up_to_the_protocol_bound() {
    // A declared length above 4096 bytes is refused before the body is read.
    let declared = "HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n";
    let device = HostileServer::start(declared, HostileBody::None).await.unwrap();
    let transport = SoftApTransport::new(&device.address().to_string(), Duration::from_secs(5)).unwrap();
    let error = transport.exchange("proto-ver", b"ESP").await.unwrap_err();
    assert!(matches!(error, TransportError::Oversize { len: 1_000_000, max: 4096 }), "{error:?}");

    // Without a length, reading stops at the bound of an endless body.
    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    let device = HostileServer::start(chunked, HostileBody::EndlessChunks).await.unwrap();
    let transport = SoftApTransport::new(&device.address().to_string(), Duration::from_secs(5)).unwrap();
    let error = transport.exchange("proto-ver", b"ESP").await.unwrap_err();
    assert!(matches!(error, TransportError::Oversize { max: 4096, .. }), "{error:?}");
}

/// ESP-IDF's server purges its one socket when a second connection arrives, losing a request in
/// flight there; so a session must use exactly one connection from proto-ver to the last status.
/// On a multi-threaded runtime, as in the apps: a pooled HTTP client (the reqwest link this
/// replaced) hands a finished connection back to its pool from a background task and, when the
/// next request wins that race, opens a second connection; this test caught it every run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_softap_sessions_use_one_connection_each() {
    use futures::StreamExt;
    use unbox_core::device::StatusPolling;
    let polling = StatusPolling {
        initial_delay: Duration::ZERO,
        interval: Duration::ZERO,
        max_delay: Duration::from_millis(1),
        deadline: Duration::from_secs(5),
    };
    let sessions = futures::stream::iter(0..1000).map(|_| async move {
        let config = device_config(sec1()).with_timing(Duration::ZERO, Duration::ZERO);
        let rig = Rig::start(Link::SoftAp, config).await;
        let session = rig.session().await;
        session.configure_wifi(&WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)).await?;
        session.wait_for_wifi(polling, |_| ()).await?;
        session.close().await;
        Ok::<u64, DeviceError>(rig.connections_accepted())
    });
    let outcomes: Vec<_> = sessions.buffer_unordered(4).collect().await;
    let failures: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(failures.is_empty(), "{} of 1000 sessions failed, first: {:?}", failures.len(), failures[0]);
    let connections: Vec<u64> = outcomes.into_iter().map(Result::unwrap).collect();
    let extra: Vec<&u64> = connections.iter().filter(|&&n| n != 1).collect();
    assert!(extra.is_empty(), "{} of 1000 sessions opened more than one connection: {extra:?}", extra.len());
}
