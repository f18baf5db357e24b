//! The provisioning client against a mocked transport that answers with bad replies: each kind
//! of bad input is its own typed error, never a panic.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use prost::Message;
use unbox_core::device::{DeviceError, DeviceInfo, DeviceSession, WifiCredentials};
use unbox_core::proto::{RespGetStatus, WiFiConfigPayload, wi_fi_config_payload};
use unbox_core::security::{ClientCredentials, client_handshake};
use unbox_core::transport::{Transport, TransportError, TransportKind};

/// Answers each exchange with the next scripted reply, and records the requests.
struct ScriptedTransport {
    replies: Mutex<VecDeque<Result<Vec<u8>, TransportError>>>,
    requests: Mutex<Vec<(String, Vec<u8>)>>,
}

impl ScriptedTransport {
    fn new(replies: Vec<Result<Vec<u8>, TransportError>>) -> Arc<Self> {
        Arc::new(Self { replies: Mutex::new(replies.into()), requests: Mutex::default() })
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.requests.lock().unwrap().push((endpoint.to_owned(), request.to_vec()));
        self.replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::SessionLost { endpoint: endpoint.to_owned() }))
    }
    fn max_message_len(&self) -> usize {
        4096
    }
    fn kind(&self) -> TransportKind {
        TransportKind::SoftAp
    }
    async fn close(&self) {}
}

const SEC0_INFO: &[u8] = br#"{"prov":{"ver":"v1.1","sec_ver":0,"cap":["no_sec","wifi_scan"]}}"#;

/// A security 0 session whose handshake reply is scripted first, then `replies`.
async fn sec0_session(replies: Vec<Result<Vec<u8>, TransportError>>) -> DeviceSession {
    sec0_session_as(SEC0_INFO, replies).await.0
}

/// A security 0 session with a device announcing `info`, and its transport.
async fn sec0_session_as(
    info: &[u8],
    replies: Vec<Result<Vec<u8>, TransportError>>,
) -> (DeviceSession, Arc<ScriptedTransport>) {
    let mut all = vec![Ok(sec0_response())];
    all.extend(replies);
    let transport = ScriptedTransport::new(all);
    let info = DeviceInfo::parse(info).unwrap();
    let session =
        DeviceSession::establish(transport.clone(), info, client_handshake(&ClientCredentials::Sec0, 0))
            .await
            .unwrap();
    (session, transport)
}

/// SessionData { sec_ver: 0, sec0: { msg: S0_Session_Response, sr: { status: Success } } }.
fn sec0_response() -> Vec<u8> {
    use unbox_core::proto::{S0SessionResp, Sec0Payload, SessionData, sec0_payload, session_data};
    SessionData {
        sec_ver: 0,
        proto: Some(session_data::Proto::Sec0(Sec0Payload {
            msg: 1,
            payload: Some(sec0_payload::Payload::Sr(S0SessionResp { status: 0 })),
        })),
    }
    .encode_to_vec()
}

fn status_reply(sta_state: i32) -> Vec<u8> {
    WiFiConfigPayload {
        msg: 1,
        payload: Some(wi_fi_config_payload::Payload::RespGetStatus(RespGetStatus {
            status: 0,
            sta_state,
            state: None,
        })),
    }
    .encode_to_vec()
}

#[tokio::test]
async fn an_unparsable_reply_is_malformed() {
    let session = sec0_session(vec![Ok(vec![0xff, 0xff, 0xff])]).await;
    let error = session.wifi_status().await.unwrap_err();
    assert!(matches!(error, DeviceError::Malformed { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unknown_enum_value_is_named() {
    let session = sec0_session(vec![Ok(status_reply(9))]).await;
    let error = session.wifi_status().await.unwrap_err();
    assert!(matches!(error, DeviceError::UnknownValue { field: "sta_state", value: 9 }), "{error:?}");
}

#[tokio::test]
async fn a_reply_of_the_wrong_kind_is_malformed() {
    // A status reply where the set-config reply belongs.
    let session = sec0_session(vec![Ok(status_reply(1))]).await;
    let error = session.set_wifi_config(&WifiCredentials::new("Home", "password1")).await.unwrap_err();
    assert!(matches!(error, DeviceError::Malformed { .. }), "{error:?}");
}

/// Version replies of shipping firmware, each with what the client must read from it.
#[test]
fn reads_the_version_reply_of_every_shipping_firmware() {
    use unbox_core::security::SecurityLevel;
    // (firmware, proto-ver reply, security, patch version, network_provisioning)
    let table: [(&str, &[u8], SecurityLevel, u32, bool); 7] = [
        ("IDF 4.4, sec1 with PoP", br#"{"prov":{"ver":"v1.0","cap":["wifi_scan"]}}"#, SecurityLevel::Sec1, 0, false),
        ("IDF 4.4, sec0", br#"{"prov":{"ver":"v1.0","cap":["no_sec","wifi_scan"]}}"#, SecurityLevel::Sec0, 0, false),
        (
            "IDF 5.x, cJSON pretty-printed",
            b"{\n\t\"prov\":\t{\n\t\t\"ver\":\t\"v1.1\",\n\t\t\"sec_ver\":\t2,\n\t\t\"sec_patch_ver\":\t1,\n\t\t\"cap\":\t[\"wifi_scan\"]\n\t}\n}",
            SecurityLevel::Sec2,
            1,
            false,
        ),
        ("IDF 5.2, sec2 without sec_patch_ver", br#"{"prov":{"ver":"v1.1","sec_ver":2,"cap":["wifi_scan"]}}"#, SecurityLevel::Sec2, 0, false),
        (
            "RainMaker, app sections first",
            br#"{"rmaker":{"ver":"1.0","cap":["claim"]},"rmaker_extra":{"ver":"1.0","cap":["ch_resp"]},"prov":{"ver":"v1.1","sec_ver":1,"sec_patch_ver":0,"cap":["wifi_scan"]}}"#,
            SecurityLevel::Sec1,
            0,
            false,
        ),
        (
            "network_provisioning, Wi-Fi",
            br#"{"prov":{"ver":"netprov-v1.2","sec_ver":2,"sec_patch_ver":1,"cap":["wifi_prov","wifi_scan"]}}"#,
            SecurityLevel::Sec2,
            1,
            true,
        ),
        (
            "network_provisioning, Thread",
            br#"{"prov":{"ver":"netprov-v1.2","sec_ver":2,"sec_patch_ver":1,"cap":["thread_prov","thread_scan"]}}"#,
            SecurityLevel::Sec2,
            1,
            true,
        ),
    ];
    for (firmware, reply, security, patch, netprov) in table {
        let info = DeviceInfo::parse(reply).unwrap_or_else(|e| panic!("{firmware}: {e}"));
        assert_eq!((info.security, info.security_patch), (security, patch), "{firmware}");
        assert_eq!(info.uses_network_provisioning(), netprov, "{firmware}");
    }
}

fn hex_bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

/// Replies as protobuf-c packs them: zero scalars and enums left out (Success, Connected,
/// `msg` 0), empty sub-messages as a bare tag, the failure reason present even when 0 or left
/// out by older firmware. Bytes from ESP-IDF v5.5.5's handlers.
#[tokio::test]
async fn reads_replies_with_protobuf_c_defaults() {
    use unbox_core::device::{WifiFailure, WifiStatus};
    // (reply to GetStatus, status read)
    let table = [
        ("08015a021001", WifiStatus::Connecting { attempts_remaining: None }),
        ("08015a06100162020804", WifiStatus::Connecting { attempts_remaining: Some(4) }),
        ("08015a0410035000", WifiStatus::Failed(WifiFailure::AuthError)),
        ("08015a021003", WifiStatus::Failed(WifiFailure::AuthError)),
        ("08015a0410035001", WifiStatus::Failed(WifiFailure::NetworkNotFound)),
    ];
    for (reply, expected) in table {
        let session = sec0_session(vec![Ok(hex_bytes(reply))]).await;
        assert_eq!(session.wifi_status().await.unwrap(), expected, "{reply}");
    }
    // Connected, sta_state 0 left out: ip, auth WPA2 (3), ssid, bssid, channel.
    let connected = "08015a255a23 0a0c3139322e3136382e312e3432 1003 1a07486f6d654e6574 2206240ac4102030 2806";
    let session = sec0_session(vec![Ok(hex_bytes(&connected.replace(' ', "")))]).await;
    let WifiStatus::Connected(info) = session.wifi_status().await.unwrap() else { panic!("not connected") };
    assert_eq!((info.ip4_addr.as_str(), info.ssid.as_str(), info.channel), ("192.168.1.42", "HomeNet", 6));
    // Set-config and apply answered Success with the status left out.
    let session = sec0_session(vec![Ok(hex_bytes("08036a00")), Ok(hex_bytes("08057a00"))]).await;
    session.configure_wifi(&WifiCredentials::new("HomeNet", "password1")).await.unwrap();
}

fn scan_reply(
    msg: i32,
    payload: unbox_core::proto::wi_fi_scan_payload::Payload,
) -> Result<Vec<u8>, TransportError> {
    Ok(unbox_core::proto::WiFiScanPayload { msg, status: 0, payload: Some(payload) }.encode_to_vec())
}

/// The start and status replies of a `wifi_provisioning` scan finding `result_count` networks.
fn scan_started_with(result_count: u32) -> Vec<Result<Vec<u8>, TransportError>> {
    use unbox_core::proto::wi_fi_scan_payload::Payload;
    use unbox_core::proto::{RespScanStart, RespScanStatus};
    vec![
        scan_reply(1, Payload::RespScanStart(RespScanStart {})),
        scan_reply(3, Payload::RespScanStatus(RespScanStatus { scan_finished: true, result_count })),
    ]
}

/// A scan in each schema, as shipping firmware answers it: the request bytes follow the schema
/// the version reply names, and the results read the same.
#[tokio::test]
async fn scans_in_both_schemas() {
    use unbox_core::device::ScanOptions;
    use unbox_core::proto::{
        NetRespScanResult, NetRespScanStatus, NetScanResult, NetworkScanPayload, RespScanResult,
        WiFiScanResult, net_scan_result, network_scan_payload, wi_fi_scan_payload,
    };
    let entry = |ssid: &str, rssi: i32| WiFiScanResult {
        ssid: ssid.as_bytes().to_vec(),
        channel: 6,
        rssi,
        bssid: vec![1, 2, 3, 4, 5, 6],
        auth: 3,
    };
    let options = ScanOptions { passive: false, group_channels: 5, period_ms: 120 };

    let mut classic = scan_started_with(2);
    classic.push(scan_reply(
        5,
        wi_fi_scan_payload::Payload::RespScanResult(RespScanResult {
            entries: vec![entry("A", -60), entry("B", -40)],
        }),
    ));
    let (session, transport) = sec0_session_as(SEC0_INFO, classic).await;
    let seen = session.scan_wifi(options).await.unwrap();
    assert_eq!(seen.iter().map(|n| n.ssid.as_str()).collect::<Vec<_>>(), ["B", "A"]);
    let requests: Vec<String> =
        transport.requests.lock().unwrap()[1..].iter().map(|(_, r)| hex::encode(r)).collect();
    // Exactly what Espressif's client sends for the start (wifi_scan.proto numbering).
    assert_eq!(requests[0], "5206080118052078");

    let netprov_info =
        br#"{"prov":{"ver":"netprov-v1.2","sec_ver":0,"cap":["no_sec","wifi_prov","wifi_scan"]}}"#;
    let thread_entry = NetScanResult { result: None };
    let netprov = vec![
        Ok(NetworkScanPayload { msg: 1, status: 0, payload: None }.encode_to_vec()),
        Ok(NetworkScanPayload {
            msg: 3,
            status: 0,
            payload: Some(network_scan_payload::Payload::RespScanStatus(NetRespScanStatus {
                net_type: 0,
                scan_finished: true,
                result_count: 2,
            })),
        }
        .encode_to_vec()),
        Ok(NetworkScanPayload {
            msg: 5,
            status: 0,
            payload: Some(network_scan_payload::Payload::RespScanResult(NetRespScanResult {
                net_type: 0,
                entries: vec![
                    NetScanResult { result: Some(net_scan_result::Result::WifiResult(entry("C", -50))) },
                    thread_entry,
                    NetScanResult { result: Some(net_scan_result::Result::WifiResult(entry("D", -70))) },
                ],
            })),
        }
        .encode_to_vec()),
    ];
    let (session, transport) = sec0_session_as(netprov_info, netprov).await;
    let seen = session.scan_wifi(options).await.unwrap();
    assert_eq!(seen.iter().map(|n| n.ssid.as_str()).collect::<Vec<_>>(), ["C", "D"]);
    let requests: Vec<String> =
        transport.requests.lock().unwrap()[1..].iter().map(|(_, r)| hex::encode(r)).collect();
    // network_scan.proto: start in wifi_scan_start (10) of cmd_scan_start (10); status with its
    // empty command (12); results (14) with start_index 0 left out and count 2 as field 3.
    assert_eq!(requests, ["52085206080118052078", "08026200", "080472021802"]);
}

/// A device claiming far more results than any firmware keeps is read up to the limit only.
#[tokio::test]
async fn a_hostile_result_count_is_capped() {
    use unbox_core::device::{SCAN_RESULT_LIMIT, ScanOptions};
    use unbox_core::proto::{RespScanResult, WiFiScanResult, wi_fi_scan_payload};
    let page = |count: usize| {
        let entries = (0..count)
            .map(|i| WiFiScanResult {
                ssid: format!("N{i}").into_bytes(),
                channel: 1,
                rssi: -50,
                bssid: vec![],
                auth: 0,
            })
            .collect();
        scan_reply(5, wi_fi_scan_payload::Payload::RespScanResult(RespScanResult { entries }))
    };
    let mut replies = scan_started_with(u32::MAX);
    replies.extend((0..SCAN_RESULT_LIMIT).map(|_| page(16)));
    let (session, transport) = sec0_session_as(SEC0_INFO, replies).await;
    let seen =
        session.scan_wifi(ScanOptions { passive: false, group_channels: 0, period_ms: 0 }).await.unwrap();
    assert_eq!(seen.len(), SCAN_RESULT_LIMIT);
    // Handshake, start, status, then 64 / 16 pages.
    assert_eq!(transport.requests.lock().unwrap().len(), 3 + SCAN_RESULT_LIMIT / 16);
}

/// A failed handler closes the link (protocomm_httpd: no HTTP answer): the exchange is a lost
/// session, and the session refuses to go on out of step.
#[tokio::test]
async fn a_device_closing_the_socket_after_a_handler_failure_ends_the_session() {
    let session =
        sec0_session(vec![Err(TransportError::SessionLost { endpoint: "prov-config".into() })]).await;
    let error = session.wifi_status().await.unwrap_err();
    assert!(matches!(error, DeviceError::Transport(TransportError::SessionLost { .. })), "{error:?}");
    assert!(error.is_retryable());
    assert!(matches!(session.wifi_status().await.unwrap_err(), DeviceError::SessionBroken));
}
