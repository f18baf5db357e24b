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

/// Answers each exchange with the next scripted reply.
struct ScriptedTransport {
    replies: Mutex<VecDeque<Result<Vec<u8>, TransportError>>>,
}

impl ScriptedTransport {
    fn new(replies: Vec<Result<Vec<u8>, TransportError>>) -> Arc<Self> {
        Arc::new(Self { replies: Mutex::new(replies.into()) })
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn exchange(&self, endpoint: &str, _request: &[u8]) -> Result<Vec<u8>, TransportError> {
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

fn sec0_info() -> DeviceInfo {
    DeviceInfo::parse(br#"{"prov":{"ver":"v1.1","sec_ver":0,"cap":["no_sec","wifi_scan"]}}"#).unwrap()
}

/// A security 0 session whose handshake reply is scripted first, then `replies`.
async fn sec0_session(replies: Vec<Result<Vec<u8>, TransportError>>) -> DeviceSession {
    let mut all = vec![Ok(sec0_response())];
    all.extend(replies);
    let transport = ScriptedTransport::new(all);
    DeviceSession::establish(transport, sec0_info(), client_handshake(&ClientCredentials::Sec0))
        .await
        .unwrap()
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
