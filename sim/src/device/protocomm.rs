//! The device's protocomm core: routes (session, endpoint, request) to the version, security,
//! Wi-Fi and custom handlers, enforcing one security session at a time, and injects faults.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use prost::Message;
use tokio::time::Instant;
use unbox_core::device::{
    AppInfo, CONFIG_ENDPOINT, CTRL_ENDPOINT, SCAN_ENDPOINT, SESSION_ENDPOINT, VERSION_ENDPOINT,
};
use unbox_core::proto::{
    self, RespApplyConfig, RespCtrlReprov, RespCtrlReset, RespGetStatus, RespScanResult, RespScanStart,
    RespScanStatus, RespSetConfig, Status, WiFiConfigPayload, WiFiCtrlPayload, WiFiScanPayload,
    WiFiScanResult, WifiConnectedState, wi_fi_config_payload, wi_fi_ctrl_payload, wi_fi_scan_payload,
};
use unbox_core::security::{
    DeviceCredentials, DeviceSecurity, Sec2PatchVersion, Sec2Verifier, device_security,
};

use super::config::{DeviceConfig, SimSecurity};
use super::wifi::{SimNetwork, Station, StationRefusal, StationState};

/// Identifies a transport session: an HTTP cookie or a BLE connection handle.
pub type SessionKey = u64;

/// A handler failed: the firmware drops the link (HTTP socket closed, BLE link dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("handler failed on `{endpoint}`: {reason}")]
pub struct HandlerFailure {
    /// The endpoint whose handler failed.
    pub endpoint: String,
    /// Why (for the simulator's log; never contains a secret).
    pub reason: String,
}

/// An application endpoint registered on the device (e.g. Unbox's claim endpoint).
pub trait CustomEndpoint: Send + Sync {
    /// The endpoint name (the BLE 0x2901 description and the HTTP path).
    fn name(&self) -> &str;
    /// The section this endpoint adds to the version info, if any.
    fn app_info(&self) -> Option<(String, AppInfo)> {
        None
    }
    /// Handles one decrypted request and returns the plaintext reply.
    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String>;
    /// Called once when the device has joined the network (e.g. to redeem a claim).
    fn on_network_joined(&self) {}
}

/// Exchange counters by endpoint, for tests and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    /// Exchanges handled per endpoint.
    pub by_endpoint: BTreeMap<String, u32>,
    /// Security sessions started.
    pub sessions: u32,
}

impl ExchangeStats {
    /// All exchanges.
    pub fn total(&self) -> u32 {
        self.by_endpoint.values().sum()
    }
}

struct State {
    session: Option<(SessionKey, Box<dyn DeviceSecurity>)>,
    exchanges: u32,
    station: Station,
    stopped_at: Option<Instant>,
    joined_announced: bool,
    stats: ExchangeStats,
}

struct Inner {
    config: DeviceConfig,
    credentials: DeviceCredentials,
    custom: Vec<Arc<dyn CustomEndpoint>>,
    state: Mutex<State>,
}

/// A simulated device. Cheap to clone; clones share the device.
#[derive(Clone)]
pub struct SimDevice {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice").field("name", &self.inner.config.name).finish_non_exhaustive()
    }
}

impl SimDevice {
    /// A device with the given configuration and custom endpoints.
    pub fn new(config: DeviceConfig, custom: Vec<Arc<dyn CustomEndpoint>>) -> Self {
        let station = Station::new(
            config.networks.clone(),
            config.apply_delay,
            config.join_time,
            config.faults.never_connect,
        );
        let state = State {
            session: None,
            exchanges: 0,
            station,
            stopped_at: None,
            joined_announced: false,
            stats: ExchangeStats::default(),
        };
        let credentials = device_credentials(&config.security);
        Self { inner: Arc::new(Inner { config, credentials, custom, state: Mutex::new(state) }) }
    }

    /// The device's configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.inner.config
    }

    /// Endpoint names in the firmware's creation order (BLE ids 0xFF4F, 0xFF50, ... follow it).
    pub fn endpoint_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            [CTRL_ENDPOINT, SCAN_ENDPOINT, SESSION_ENDPOINT, CONFIG_ENDPOINT, VERSION_ENDPOINT]
                .map(String::from)
                .into();
        names.extend(self.inner.custom.iter().map(|c| c.name().to_owned()));
        names
    }

    /// Exchange counters so far.
    pub fn stats(&self) -> ExchangeStats {
        self.lock().stats.clone()
    }

    /// The Wi-Fi station's state now.
    pub fn station_state(&self) -> StationState {
        self.lock().station.state()
    }

    /// Whether provisioning has stopped (the device joined and shut the service down).
    pub fn provisioning_stopped(&self) -> bool {
        self.lock().stopped_at.is_some_and(|at| Instant::now() >= at)
    }

    /// The transport closed `session`: the firmware ends its security session.
    pub fn end_session(&self, session: SessionKey) {
        let mut state = self.lock();
        if state.session.as_ref().is_some_and(|(key, _)| *key == session) {
            state.session = None;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Handles one request of transport session `session`. A session key other than the
    /// current one starts a new security session, as the firmware does.
    pub fn handle(
        &self,
        session: SessionKey,
        endpoint: &str,
        request: &[u8],
    ) -> Result<Vec<u8>, HandlerFailure> {
        let fail = |reason: &str| HandlerFailure { endpoint: endpoint.to_owned(), reason: reason.to_owned() };
        let mut state = self.lock();
        if state.stopped_at.is_some_and(|at| Instant::now() >= at) {
            return Err(fail("provisioning has stopped"));
        }
        state.exchanges += 1;
        let step = state.exchanges;
        *state.stats.by_endpoint.entry(endpoint.to_owned()).or_default() += 1;
        let faults = &self.inner.config.faults;
        if faults.reboot_at_exchange == Some(step) {
            state.session = None;
            state.station.reboot();
            return Err(fail("device rebooted"));
        }
        if faults.drop_at_exchange == Some(step) {
            state.session = None;
            return Err(fail("injected connection drop"));
        }
        if request.is_empty() {
            return Err(fail("empty request"));
        }
        if state.session.as_ref().is_none_or(|(key, _)| *key != session) {
            state.session = Some((session, device_security(&self.inner.credentials)));
            state.stats.sessions += 1;
        }
        let mut reply = self.route(&mut state, endpoint, request).map_err(|reason| {
            // A failed handler takes the session down with the link.
            state.session = None;
            fail(&reason)
        })?;
        if faults.corrupt_reply_at == Some(step)
            && let Some(byte) = reply.last_mut()
        {
            *byte ^= 0x5a;
        }
        Ok(reply)
    }

    fn route(&self, state: &mut State, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        match endpoint {
            VERSION_ENDPOINT => Ok(self.version_json().into_bytes()),
            SESSION_ENDPOINT => {
                let (_, security) = state.session.as_mut().ok_or("no session")?;
                security.on_session_request(request).map_err(|e| e.to_string())
            }
            _ => {
                let (_, security) = state.session.as_mut().ok_or("no session")?;
                let cipher = security.cipher().ok_or("request before the handshake completed")?;
                let plaintext = zeroize::Zeroizing::new(cipher.decrypt(request).map_err(|e| e.to_string())?);
                let reply = self.route_plaintext(state, endpoint, &plaintext)?;
                let (_, security) = state.session.as_mut().ok_or("no session")?;
                let cipher = security.cipher().ok_or("no session")?;
                cipher.encrypt(&reply).map_err(|e| e.to_string())
            }
        }
    }

    fn route_plaintext(&self, state: &mut State, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        match endpoint {
            SCAN_ENDPOINT => handle_scan(&state.station, request),
            CONFIG_ENDPOINT => self.handle_config(state, request),
            CTRL_ENDPOINT => {
                let reply = handle_ctrl(&mut state.station, request);
                if state.station.settles_at().is_none() {
                    // Reset or re-provisioned: a later join is a new one.
                    state.joined_announced = false;
                }
                reply
            }
            name => {
                let custom = self.inner.custom.iter().find(|c| c.name() == name).ok_or("no such endpoint")?;
                custom.handle(request)
            }
        }
    }

    fn version_json(&self) -> String {
        let mut info = self.inner.config.info();
        info.app_info.extend(self.inner.custom.iter().filter_map(|c| c.app_info()));
        info.to_json()
    }

    fn handle_config(&self, state: &mut State, request: &[u8]) -> Result<Vec<u8>, String> {
        use wi_fi_config_payload::Payload;
        let command = WiFiConfigPayload::decode(request).map_err(|e| e.to_string())?;
        let reply = match (proto::WiFiConfigMsgType::try_from(command.msg), command.payload) {
            (Ok(proto::WiFiConfigMsgType::TypeCmdGetStatus), Some(Payload::CmdGetStatus(_))) => {
                let status = self.status_reply(state);
                Payload::RespGetStatus(status)
            }
            (Ok(proto::WiFiConfigMsgType::TypeCmdSetConfig), Some(Payload::CmdSetConfig(mut set))) => {
                let result = state.station.set_config(&set.ssid, &set.passphrase, &set.bssid);
                zeroize::Zeroize::zeroize(&mut set.passphrase);
                Payload::RespSetConfig(RespSetConfig { status: refusal_status(result) as i32 })
            }
            (Ok(proto::WiFiConfigMsgType::TypeCmdApplyConfig), Some(Payload::CmdApplyConfig(_))) => {
                let result = state.station.apply(Instant::now());
                if let (Ok(()), Some(settles_at)) = (result, state.station.settles_at()) {
                    self.watch_join(settles_at);
                }
                Payload::RespApplyConfig(RespApplyConfig { status: refusal_status(result) as i32 })
            }
            _ => return Err("config message type and payload disagree".into()),
        };
        Ok(WiFiConfigPayload { msg: command.msg + 1, payload: Some(reply) }.encode_to_vec())
    }

    /// Once the join attempt settles, tells the custom endpoints if the device got online —
    /// whether or not the phone is still asking for the status.
    fn watch_join(&self, settles_at: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let device = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep_until(settles_at).await;
            let joined = {
                let mut state = device.lock();
                let online = matches!(state.station.state(), StationState::Connected { .. });
                online && !std::mem::replace(&mut state.joined_announced, true)
            };
            if joined {
                for custom in &device.inner.custom {
                    custom.on_network_joined();
                }
            }
        });
    }

    fn status_reply(&self, state: &mut State) -> RespGetStatus {
        use proto::resp_get_status::State as Detail;
        let (sta_state, detail) = match state.station.state() {
            StationState::Idle => (proto::WifiStationState::Disconnected, None),
            StationState::Connecting => (proto::WifiStationState::Connecting, None),
            StationState::AuthFailed => (
                proto::WifiStationState::ConnectionFailed,
                Some(Detail::FailReason(proto::WifiConnectFailedReason::AuthError as i32)),
            ),
            StationState::NotFound => (
                proto::WifiStationState::ConnectionFailed,
                Some(Detail::FailReason(proto::WifiConnectFailedReason::NetworkNotFound as i32)),
            ),
            StationState::Connected { ssid, ip, bssid, channel, auth } => {
                if state.station.announce_connected() {
                    state.stopped_at = Some(Instant::now() + self.inner.config.stop_after_connected);
                }
                let connected = WifiConnectedState {
                    ip4_addr: ip,
                    auth_mode: auth.to_wire(),
                    ssid: ssid.into_bytes(),
                    bssid: bssid.to_vec(),
                    channel: channel as i32,
                };
                (proto::WifiStationState::Connected, Some(Detail::Connected(connected)))
            }
        };
        RespGetStatus { status: Status::Success as i32, sta_state: sta_state as i32, state: detail }
    }
}

/// What the firmware holds for its security scheme: for security 2 the salt and verifier,
/// derived once (as `esp_srp_gen_salt_verifier` would at the factory).
fn device_credentials(security: &SimSecurity) -> DeviceCredentials {
    match security {
        SimSecurity::Sec0 => DeviceCredentials::Sec0,
        SimSecurity::Sec1 { pop } => DeviceCredentials::Sec1 { pop: pop.clone().unwrap_or_default() },
        SimSecurity::Sec2 { username, password, patch_version } => DeviceCredentials::Sec2 {
            verifier: Sec2Verifier::derive(username, password, rand::random::<[u8; 16]>().to_vec()),
            patch: if *patch_version == 0 {
                Sec2PatchVersion::StaticNonce
            } else {
                Sec2PatchVersion::NonceCounter
            },
        },
    }
}

fn refusal_status(result: Result<(), StationRefusal>) -> Status {
    match result {
        Ok(()) => Status::Success,
        Err(StationRefusal::InvalidArgument) => Status::InvalidArgument,
        Err(StationRefusal::InvalidState) => Status::InternalError,
    }
}

fn scan_entry(network: &SimNetwork) -> WiFiScanResult {
    WiFiScanResult {
        ssid: network.ssid.as_bytes().to_vec(),
        channel: network.channel,
        rssi: network.rssi,
        bssid: network.bssid.to_vec(),
        auth: network.auth.to_wire(),
    }
}

fn handle_scan(station: &Station, request: &[u8]) -> Result<Vec<u8>, String> {
    use wi_fi_scan_payload::Payload;
    let command = WiFiScanPayload::decode(request).map_err(|e| e.to_string())?;
    let seen = station.scan();
    let (status, reply) = match (proto::WiFiScanMsgType::try_from(command.msg), command.payload) {
        (Ok(proto::WiFiScanMsgType::TypeCmdScanStart), Some(Payload::CmdScanStart(_))) => {
            (Status::Success, Payload::RespScanStart(RespScanStart {}))
        }
        (Ok(proto::WiFiScanMsgType::TypeCmdScanStatus), Some(Payload::CmdScanStatus(_))) => (
            Status::Success,
            Payload::RespScanStatus(RespScanStatus { scan_finished: true, result_count: seen.len() as u32 }),
        ),
        (Ok(proto::WiFiScanMsgType::TypeCmdScanResult), Some(Payload::CmdScanResult(range))) => {
            let start = range.start_index as usize;
            let end = start.saturating_add(range.count as usize);
            if start >= seen.len() || end > seen.len() {
                (Status::InternalError, Payload::RespScanResult(RespScanResult::default()))
            } else {
                let entries = seen[start..end].iter().map(scan_entry).collect();
                (Status::Success, Payload::RespScanResult(RespScanResult { entries }))
            }
        }
        _ => return Err("scan message type and payload disagree".into()),
    };
    Ok(WiFiScanPayload { msg: command.msg + 1, status: status as i32, payload: Some(reply) }.encode_to_vec())
}

fn handle_ctrl(station: &mut Station, request: &[u8]) -> Result<Vec<u8>, String> {
    use wi_fi_ctrl_payload::Payload;
    let command = WiFiCtrlPayload::decode(request).map_err(|e| e.to_string())?;
    let (status, reply) = match (proto::WiFiCtrlMsgType::try_from(command.msg), command.payload) {
        (Ok(proto::WiFiCtrlMsgType::TypeCmdCtrlReset), Some(Payload::CmdCtrlReset(_))) => {
            (refusal_status(station.reset()), Payload::RespCtrlReset(RespCtrlReset {}))
        }
        (Ok(proto::WiFiCtrlMsgType::TypeCmdCtrlReprov), Some(Payload::CmdCtrlReprov(_))) => {
            (refusal_status(station.reprovision()), Payload::RespCtrlReprov(RespCtrlReprov {}))
        }
        _ => return Err("control message type and payload disagree".into()),
    };
    Ok(WiFiCtrlPayload { msg: command.msg + 1, status: status as i32, payload: Some(reply) }.encode_to_vec())
}
