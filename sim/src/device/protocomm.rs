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
use super::custom_data::CustomDataEndpoint;
use super::wifi::{
    Flavour, JoinFailure, SCAN_MAX_ENTRIES, SimNetwork, Station, StationRefusal, StationState,
};

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
    /// A device with the given configuration and custom endpoints (the example app's flavour
    /// adds its `custom-data` endpoint first, as the example creates it).
    pub fn new(config: DeviceConfig, mut custom: Vec<Arc<dyn CustomEndpoint>>) -> Self {
        if config.flavour == Flavour::ExampleApp {
            custom.insert(0, Arc::new(CustomDataEndpoint));
        }
        let station = Station::new(
            config.networks.clone(),
            config.apply_delay,
            config.join_time,
            config.faults.never_connect,
            config.flavour,
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

    /// `prov-config`, as `wifi_config.c` (ESP-IDF v5.5.5) handles it: dispatch on `msg` alone
    /// (an unknown value fails the handler, lines 306-310); GetStatus and ApplyConfig never read
    /// the payload (49-142, 206-233); SetConfig needs its own payload (161); the reply's `msg`
    /// is the request's plus one.
    fn handle_config(&self, state: &mut State, request: &[u8]) -> Result<Vec<u8>, String> {
        use proto::WiFiConfigMsgType as Msg;
        use wi_fi_config_payload::Payload;
        let command = WiFiConfigPayload::decode(request).map_err(|e| e.to_string())?;
        let reply = match Msg::try_from(command.msg) {
            Ok(Msg::TypeCmdGetStatus) => Payload::RespGetStatus(self.status_reply(state)),
            Ok(Msg::TypeCmdSetConfig) => {
                let Some(Payload::CmdSetConfig(mut set)) = command.payload else {
                    return Err("invalid set config command".into());
                };
                let result = state.station.set_config(&set.ssid, &set.passphrase, &set.bssid);
                zeroize::Zeroize::zeroize(&mut set.passphrase);
                Payload::RespSetConfig(RespSetConfig { status: refusal_status(result) as i32 })
            }
            Ok(Msg::TypeCmdApplyConfig) => {
                let result = state.station.apply(Instant::now());
                if let (Ok(()), Some(settles_at)) = (result, state.station.settles_at()) {
                    self.watch_join(settles_at);
                }
                Payload::RespApplyConfig(RespApplyConfig { status: refusal_status(result) as i32 })
            }
            _ => return Err(format!("no config command {}", command.msg)),
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

    /// The status as `cmd_get_status_handler` reports it: "connecting" with no detail before
    /// any configuration too (the manager's zeroed state), a failure as ConnectionFailed with
    /// its reason always present, a failed attempt with retries left as Connecting with
    /// `attempt_failed`; Disconnected is never sent.
    fn status_reply(&self, state: &mut State) -> RespGetStatus {
        use proto::resp_get_status::State as Detail;
        let failed = |reason: proto::WifiConnectFailedReason| {
            (proto::WifiStationState::ConnectionFailed, Some(Detail::FailReason(reason as i32)))
        };
        let (sta_state, detail) = match state.station.state() {
            StationState::Idle | StationState::Connecting { attempts_remaining: None } => {
                (proto::WifiStationState::Connecting, None)
            }
            StationState::Connecting { attempts_remaining: Some(left) } => (
                proto::WifiStationState::Connecting,
                Some(Detail::AttemptFailed(proto::WifiAttemptFailed { attempts_remaining: left })),
            ),
            StationState::Failed(JoinFailure::AuthError) => failed(proto::WifiConnectFailedReason::AuthError),
            StationState::Failed(JoinFailure::NotFound) => {
                failed(proto::WifiConnectFailedReason::NetworkNotFound)
            }
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

/// `prov-scan`, as `wifi_scan.c` (ESP-IDF v5.5.5) handles it: dispatch on `msg` (an unknown
/// value fails); ScanStart and ScanResult need their payloads (line 69, 133-137); ScanStatus
/// never reads its own. A blocking scan is done when its start is answered.
fn handle_scan(station: &Station, request: &[u8]) -> Result<Vec<u8>, String> {
    use proto::WiFiScanMsgType as Msg;
    use wi_fi_scan_payload::Payload;
    let command = WiFiScanPayload::decode(request).map_err(|e| e.to_string())?;
    let seen = station.scan();
    let (status, reply) = match (Msg::try_from(command.msg), command.payload) {
        (Ok(Msg::TypeCmdScanStart), Some(Payload::CmdScanStart(_))) => {
            (Status::Success, Payload::RespScanStart(RespScanStart {}))
        }
        (Ok(Msg::TypeCmdScanStatus), _) => (
            Status::Success,
            Payload::RespScanStatus(RespScanStatus { scan_finished: true, result_count: seen.len() as u32 }),
        ),
        (Ok(Msg::TypeCmdScanResult), Some(Payload::CmdScanResult(range))) => scan_page(&seen, &range)?,
        (Ok(Msg::TypeCmdScanStart | Msg::TypeCmdScanResult), _) => {
            return Err("scan command without its payload".into());
        }
        _ => return Err(format!("no scan command {}", command.msg)),
    };
    Ok(WiFiScanPayload { msg: command.msg + 1, status: status as i32, payload: Some(reply) }.encode_to_vec())
}

/// One page of results. Outside the firmware's table (`start_index` from
/// `CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES` on, or a `count` reaching past it) the handler fails
/// (wifi_scan.c:139-145); past the results found but within the table, the reply carries the
/// entries that exist and InternalError (169-174).
fn scan_page(
    seen: &[SimNetwork],
    range: &proto::CmdScanResult,
) -> Result<(Status, wi_fi_scan_payload::Payload), String> {
    let (start, count) = (range.start_index as usize, range.count as usize);
    if start >= SCAN_MAX_ENTRIES || count > SCAN_MAX_ENTRIES - start {
        return Err(format!("scan results {start}+{count} outside the table"));
    }
    let end = (start + count).min(seen.len());
    let entries = seen.get(start..end).unwrap_or_default().iter().map(scan_entry).collect();
    let status = if start + count > seen.len() { Status::InternalError } else { Status::Success };
    Ok((status, wi_fi_scan_payload::Payload::RespScanResult(RespScanResult { entries })))
}

/// `prov-ctrl`, as `wifi_ctrl.c` (ESP-IDF v5.5.5) handles it: dispatch on `msg` alone (an
/// unknown value fails), payloads never read, a refusal reported as InternalError.
fn handle_ctrl(station: &mut Station, request: &[u8]) -> Result<Vec<u8>, String> {
    use proto::WiFiCtrlMsgType as Msg;
    use wi_fi_ctrl_payload::Payload;
    let command = WiFiCtrlPayload::decode(request).map_err(|e| e.to_string())?;
    let (result, reply) = match Msg::try_from(command.msg) {
        Ok(Msg::TypeCmdCtrlReset) => (station.reset(), Payload::RespCtrlReset(RespCtrlReset {})),
        Ok(Msg::TypeCmdCtrlReprov) => (station.reprovision(), Payload::RespCtrlReprov(RespCtrlReprov {})),
        _ => return Err(format!("no control command {}", command.msg)),
    };
    let status = if result.is_ok() { Status::Success } else { Status::InternalError };
    Ok(WiFiCtrlPayload { msg: command.msg + 1, status: status as i32, payload: Some(reply) }.encode_to_vec())
}

/// The handlers against the requests exactly as Espressif's own client builds them
/// (esp-rainmaker-cli 1.14.1, `rmaker_tools.common.prov`: msg only, no payload, for ScanStatus
/// and ApplyConfig) and against ESP-IDF v5.5.5's answers, byte for byte. Security 0, so the
/// bytes on the wire are the plaintext.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::device::{CUSTOM_DATA_ENDPOINT, SimNetwork};

    const SESSION: SessionKey = 7;

    fn device(flavour: Flavour, networks: usize) -> SimDevice {
        let mut config = DeviceConfig::new("PROV_TEST")
            .with_security(SimSecurity::Sec0)
            .with_flavour(flavour)
            .with_timing(Duration::from_secs(1), Duration::from_secs(1));
        for i in 0..networks {
            let mut network = SimNetwork::new(format!("Net{i}"), "password1");
            network.rssi = -40 - i as i32;
            config = config.with_network(network);
        }
        SimDevice::new(config, Vec::new())
    }

    fn exchange(device: &SimDevice, endpoint: &str, request: &str) -> Result<String, HandlerFailure> {
        device.handle(SESSION, endpoint, &hex::decode(request).unwrap()).map(hex::encode)
    }

    #[tokio::test(start_paused = true)]
    async fn answers_espressifs_client_byte_for_byte() {
        let device = device(Flavour::Plain, 3);
        // (endpoint, request as rmaker_tools builds it, reply of ESP-IDF v5.5.5, source)
        let table = [
            // wifi_scan.c: ScanStart with its payload, reply msg 1 and an empty resp_scan_start.
            ("prov-scan", "5206080118052078", "08015a00"),
            // wifi_scan.c: ScanStatus sent as msg only, answered (scan_finished, result_count 3).
            ("prov-scan", "0802", "08036a0408011003"),
            // manager.c: the zeroed manager state is "connecting", with no detail.
            ("prov-config", "5200", "08015a021001"),
            // wifi_config.c:144-204: set-config, Success.
            ("prov-config", "080262140a066d7973736964120a6d7970617373776f7264", "08036a00"),
            // wifi_config.c:206-233: apply sent as msg only, Success.
            ("prov-config", "0804", "08057a00"),
            // manager.c:1295-1299: a second apply while connecting, InternalError.
            ("prov-config", "0804", "08057a020805"),
            // manager.c:1786-1789: reset when not in failure state, InternalError.
            ("prov-ctrl", "08015a00", "080210056200"),
            // manager.c:1807: re-provisioning a device that is not provisioned, InternalError.
            ("prov-ctrl", "08036a00", "080410057200"),
        ];
        for (endpoint, request, reply) in table {
            assert_eq!(exchange(&device, endpoint, request).unwrap(), reply, "{endpoint} {request}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn dispatches_on_msg_and_fails_where_esp_idf_fails() {
        let device = device(Flavour::Plain, 3);
        // wifi_config.c:49-142: GetStatus never reads its payload, even one of another kind.
        assert_eq!(exchange(&device, "prov-config", "62020a00").unwrap(), "08015a021001");
        // wifi_config.c:306-310: an unknown msg fails the handler (the socket closes).
        for request in ["0801", "0803", "0805", "0863"] {
            assert!(exchange(&device, "prov-config", request).is_err(), "config {request}");
        }
        // wifi_config.c:161: set-config without its payload, or with another one, fails.
        assert!(exchange(&device, "prov-config", "0802").is_err());
        assert!(exchange(&device, "prov-config", "08025200").is_err());
        // wifi_scan.c:69 and 133-137: ScanStart and ScanResult need their payloads.
        assert!(exchange(&device, "prov-scan", "0800").is_err());
        assert!(exchange(&device, "prov-scan", "08046a00").is_err());
        assert!(exchange(&device, "prov-scan", "0804").is_err());
        for request in ["0801", "0806", "0863"] {
            assert!(exchange(&device, "prov-scan", request).is_err(), "scan {request}");
        }
        // wifi_ctrl.c: payloads are never read; msg 0, 2, 4 and others fail.
        assert_eq!(exchange(&device, "prov-ctrl", "0801").unwrap(), "080210056200");
        for request in ["0800", "0802", "0804", "0863"] {
            assert!(exchange(&device, "prov-ctrl", request).is_err(), "ctrl {request}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn scan_pages_follow_the_firmware_table() {
        let device = device(Flavour::Plain, 3);
        let page = |start: u32, count: u32| {
            let request = WiFiScanPayload {
                msg: proto::WiFiScanMsgType::TypeCmdScanResult as i32,
                status: 0,
                payload: Some(wi_fi_scan_payload::Payload::CmdScanResult(proto::CmdScanResult {
                    start_index: start,
                    count,
                })),
            };
            device.handle(SESSION, "prov-scan", &request.encode_to_vec()).map(|reply| {
                let reply = WiFiScanPayload::decode(reply.as_slice()).unwrap();
                let Some(wi_fi_scan_payload::Payload::RespScanResult(result)) = reply.payload else {
                    panic!("not a scan result: {reply:?}");
                };
                (reply.status, result.entries.len())
            })
        };
        assert_eq!(page(0, 3).unwrap(), (Status::Success as i32, 3));
        // wifi_scan.c:169-174: past the results found, what exists and InternalError.
        assert_eq!(page(2, 4).unwrap(), (Status::InternalError as i32, 1));
        assert_eq!(page(5, 1).unwrap(), (Status::InternalError as i32, 0));
        // wifi_scan.c:139-145: outside CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES the handler fails.
        assert!(page(16, 1).is_err());
        assert!(page(10, 7).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_is_reported_with_its_reason_and_blocks_apply_until_reset() {
        let device = device(Flavour::Plain, 1);
        let set = |passphrase: &str| {
            let request = WiFiConfigPayload {
                msg: proto::WiFiConfigMsgType::TypeCmdSetConfig as i32,
                payload: Some(wi_fi_config_payload::Payload::CmdSetConfig(proto::CmdSetConfig {
                    ssid: b"Net0".to_vec(),
                    passphrase: passphrase.as_bytes().to_vec(),
                    bssid: Vec::new(),
                    channel: 0,
                })),
            };
            hex::encode(device.handle(SESSION, "prov-config", &request.encode_to_vec()).unwrap())
        };
        assert_eq!(set("wrongpass"), "08036a00");
        assert_eq!(exchange(&device, "prov-config", "0804").unwrap(), "08057a00");
        tokio::time::advance(Duration::from_secs(3)).await;
        // ConnectionFailed with fail_reason AuthError present although it is 0.
        assert_eq!(exchange(&device, "prov-config", "5200").unwrap(), "08015a0410035000");
        // A new run's set-config succeeds, its apply does not (the issue's `08 05 7a 02 08 05`).
        assert_eq!(set("password1"), "08036a00");
        assert_eq!(exchange(&device, "prov-config", "0804").unwrap(), "08057a020805");
        assert_eq!(exchange(&device, "prov-ctrl", "08015a00").unwrap(), "08026200");
        // The reset leaves the reported failure in place until the next apply.
        assert_eq!(exchange(&device, "prov-config", "5200").unwrap(), "08015a0410035000");
        assert_eq!(set("password1"), "08036a00");
        assert_eq!(exchange(&device, "prov-config", "0804").unwrap(), "08057a00");
        tokio::time::advance(Duration::from_secs(3)).await;
        let connected = exchange(&device, "prov-config", "5200").unwrap();
        assert!(connected.starts_with("08015a"), "{connected}");
        assert!(matches!(device.station_state(), StationState::Connected { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn the_example_app_counts_attempts_and_refuses_the_reset_it_made_itself() {
        let device = device(Flavour::ExampleApp, 1);
        assert!(device.endpoint_names().contains(&CUSTOM_DATA_ENDPOINT.to_owned()));
        assert_eq!(
            hex::encode(device.handle(SESSION, "custom-data", b"hello").unwrap()),
            hex::encode("SUCCESS")
        );
        let set = WiFiConfigPayload {
            msg: proto::WiFiConfigMsgType::TypeCmdSetConfig as i32,
            payload: Some(wi_fi_config_payload::Payload::CmdSetConfig(proto::CmdSetConfig {
                ssid: b"Net0".to_vec(),
                passphrase: b"wrongpass".to_vec(),
                bssid: Vec::new(),
                channel: 0,
            })),
        };
        device.handle(SESSION, "prov-config", &set.encode_to_vec()).unwrap();
        assert_eq!(exchange(&device, "prov-config", "0804").unwrap(), "08057a00");
        tokio::time::advance(Duration::from_millis(2100)).await;
        // handlers.c: attempt_failed{attempts_remaining: 4}.
        assert_eq!(exchange(&device, "prov-config", "5200").unwrap(), "08015a06100162020804");
        tokio::time::advance(Duration::from_secs(4)).await;
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(exchange(&device, "prov-config", "5200").unwrap(), "08015a0410035000");
        // app_main.c reset the state machine on WIFI_PROV_CRED_FAIL: the phone's reset is refused.
        assert_eq!(exchange(&device, "prov-ctrl", "08015a00").unwrap(), "080210056200");
    }
}
