//! A simulated Improv Wi-Fi device as ESPHome's `esp32_improv` and `improv_serial` components
//! behave (improv-wifi.com `ble.md`, `serial.md`): an authorization button whose grant lapses,
//! every command up to revision 2.4, the state and error changes it announces, and faults.
//! Reached over an in-memory GATT server ([`gatt`]) or a pseudo-terminal ([`pty`], Linux).

pub mod gatt;
#[cfg(target_os = "linux")]
pub mod pty;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::broadcast;
use unbox_core::improv::ble::ServiceData;
use unbox_core::improv::frame::{self, command_id};
use unbox_core::improv::{Capabilities, Command, DeviceFault, FrameError, RpcResult, State};

use super::SimNetwork;

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct ImprovFaults {
    /// Joining always fails with "unable to connect".
    pub never_connect: bool,
    /// Flip the checksum of every BLE result.
    pub corrupt_results: bool,
    /// Drop the BLE link as soon as provisioned, before the result (ESPHome stops the service).
    pub drop_link_when_provisioned: bool,
    /// Answer every command with this error instead.
    pub fail_commands_with: Option<DeviceFault>,
}

/// A simulated Improv device's configuration.
#[derive(Debug, Clone)]
pub struct ImprovDeviceConfig {
    /// Device name (device info's fourth string, command 0x06).
    pub name: String,
    /// Firmware name.
    pub firmware: String,
    /// Firmware version.
    pub version: String,
    /// Chip family.
    pub chip: String,
    /// Hostname (command 0x05).
    pub hostname: String,
    /// The capability byte.
    pub capabilities: Capabilities,
    /// Whether the button must be pressed before credentials are taken (BLE only).
    pub requires_authorization: bool,
    /// How long a button press authorizes (ESPHome: 1 minute).
    pub authorization_lapse: Duration,
    /// The highest command the firmware knows (0x04 for 2.2 firmware, 0x06 for 2.4).
    pub max_command: u8,
    /// Networks in range.
    pub networks: Vec<SimNetwork>,
    /// The URL answered after provisioning (ESPHome: its web server's address), if any.
    pub redirect_url: Option<String>,
    /// How long joining takes.
    pub join_delay: Duration,
    /// Faults.
    pub faults: ImprovFaults,
}

impl ImprovDeviceConfig {
    /// An ESPHome-like device named `name` on an ESP32-C3 with identify, device info and scan,
    /// requiring the button, seeing `networks`.
    pub fn esphome(name: impl Into<String>, networks: Vec<SimNetwork>) -> Self {
        let name = name.into();
        let hostname: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        Self {
            redirect_url: Some(format!("http://{hostname}.local")),
            name,
            firmware: "ESPHome".into(),
            version: "2025.11.0".into(),
            chip: "ESP32-C3".into(),
            hostname,
            capabilities: Capabilities(
                Capabilities::IDENTIFY | Capabilities::DEVICE_INFO | Capabilities::SCAN,
            ),
            requires_authorization: true,
            authorization_lapse: Duration::from_secs(60),
            max_command: command_id::DEVICE_NAME,
            networks,
            join_delay: Duration::from_millis(50),
            faults: ImprovFaults::default(),
        }
    }
}

/// What the device announces: a state, an error byte, or an RPC result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImprovOutput {
    /// The current state changed (or was asked for).
    State(State),
    /// The error state changed (`None`: no error).
    Error(Option<DeviceFault>),
    /// An RPC result.
    Result(RpcResult),
    /// The device stopped Improv and drops its BLE link.
    LinkDropped,
}

struct Status {
    state: State,
    error: Option<DeviceFault>,
    hostname: String,
    name: String,
    joined: Option<String>,
}

struct Inner {
    config: ImprovDeviceConfig,
    status: Mutex<Status>,
    outputs: broadcast::Sender<ImprovOutput>,
    /// Bumped on each grant, so that only the latest press lapses.
    grant: AtomicU64,
    identifies: AtomicU32,
}

/// A simulated Improv device; clones share the device.
#[derive(Clone)]
pub struct SimImprovDevice(Arc<Inner>);

impl std::fmt::Debug for SimImprovDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimImprovDevice")
            .field("name", &self.0.config.name)
            .field("state", &self.state())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl SimImprovDevice {
    /// A device in setup mode; `serial` devices start ready (serial has no authorization).
    pub fn new(config: ImprovDeviceConfig) -> Self {
        let state =
            if config.requires_authorization { State::AuthorizationRequired } else { State::Authorized };
        let status = Status {
            state,
            error: None,
            hostname: config.hostname.clone(),
            name: config.name.clone(),
            joined: None,
        };
        Self(Arc::new(Inner {
            config,
            status: Mutex::new(status),
            outputs: broadcast::channel(256).0,
            grant: AtomicU64::new(0),
            identifies: AtomicU32::new(0),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &ImprovDeviceConfig {
        &self.0.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        lock(&self.0.status).state
    }

    /// The error state.
    pub fn error(&self) -> Option<DeviceFault> {
        lock(&self.0.status).error
    }

    /// The network the device joined.
    pub fn joined_network(&self) -> Option<String> {
        lock(&self.0.status).joined.clone()
    }

    /// The hostname now.
    pub fn hostname(&self) -> String {
        lock(&self.0.status).hostname.clone()
    }

    /// The device name now.
    pub fn name(&self) -> String {
        lock(&self.0.status).name.clone()
    }

    /// How many identify commands arrived.
    pub fn identifies(&self) -> u32 {
        self.0.identifies.load(Ordering::SeqCst)
    }

    /// What the device advertises under `0x4677`.
    pub fn service_data(&self) -> ServiceData {
        ServiceData { state: self.state(), capabilities: self.0.config.capabilities }
    }

    /// Hears what the device announces from now on.
    pub fn outputs(&self) -> broadcast::Receiver<ImprovOutput> {
        self.0.outputs.subscribe()
    }

    /// The person presses the device's button: authorized for the configured lapse.
    pub fn press_button(&self) {
        if self.state() != State::AuthorizationRequired {
            return;
        }
        self.set_state(State::Authorized);
        self.start_lapse();
    }

    fn start_lapse(&self) {
        if !self.0.config.requires_authorization {
            return;
        }
        let grant = self.0.grant.fetch_add(1, Ordering::SeqCst) + 1;
        let device = self.clone();
        let lapse = self.0.config.authorization_lapse;
        tokio::spawn(async move {
            tokio::time::sleep(lapse).await;
            if device.0.grant.load(Ordering::SeqCst) == grant && device.state() == State::Authorized {
                device.set_state(State::AuthorizationRequired);
            }
        });
    }

    fn set_state(&self, state: State) {
        lock(&self.0.status).state = state;
        self.announce(ImprovOutput::State(state));
    }

    fn set_error(&self, error: Option<DeviceFault>) {
        lock(&self.0.status).error = error;
        self.announce(ImprovOutput::Error(error));
    }

    fn announce(&self, output: ImprovOutput) {
        // No listener is fine: a BLE client reads the values instead.
        let _ = self.0.outputs.send(output);
    }

    fn answer(&self, command: u8, strings: Vec<String>) {
        self.announce(ImprovOutput::Result(RpcResult { command, strings }));
    }

    /// A packet that failed its checks, or one only a device sends, arrived.
    pub(crate) fn reject_invalid(&self) {
        self.set_error(Some(DeviceFault::InvalidRpc));
    }

    /// Handles a BLE RPC write: the frame with its checksum.
    pub fn handle_ble(&self, value: &[u8]) {
        match frame::strip_checksum(value) {
            Ok(inner) => self.handle(inner, false),
            Err(_) => self.set_error(Some(DeviceFault::InvalidRpc)),
        }
    }

    /// Handles a command frame without checksum (`serial` reads 0x02 as request-state).
    pub fn handle(&self, inner: &[u8], serial: bool) {
        // Both ESPHome components clear the error when a command arrives.
        self.set_error(None);
        let command = match Command::decode(inner, serial) {
            Ok(command) => command,
            Err(FrameError::UnknownCommand(_)) => return self.set_error(Some(DeviceFault::UnknownCommand)),
            Err(_) => return self.set_error(Some(DeviceFault::InvalidRpc)),
        };
        if command.id() > self.0.config.max_command {
            return self.set_error(Some(DeviceFault::UnknownCommand));
        }
        if let Some(fault) = self.0.config.faults.fail_commands_with {
            return self.set_error(Some(fault));
        }
        tracing::info!(command = command.id(), "improv device: command");
        let authorized = self.state() == State::Authorized;
        match command {
            Command::WifiSettings { ssid, password } => {
                if !authorized {
                    return self.set_error(Some(DeviceFault::NotAuthorized));
                }
                self.set_state(State::Provisioning);
                let device = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(device.0.config.join_delay).await;
                    device.finish_join(&ssid, password.expose());
                });
            }
            Command::Identify => {
                self.0.identifies.fetch_add(1, Ordering::SeqCst);
            }
            Command::RequestState => {
                let state = self.state();
                self.announce(ImprovOutput::State(state));
                if state == State::Provisioned {
                    self.answer(command_id::WIFI_SETTINGS, self.redirect());
                }
            }
            Command::DeviceInfo => {
                let config = &self.0.config;
                self.answer(
                    command_id::DEVICE_INFO,
                    vec![config.firmware.clone(), config.version.clone(), config.chip.clone(), self.name()],
                );
            }
            Command::ScanNetworks => {
                for network in &self.0.config.networks {
                    let auth = if network.passphrase.is_empty() { "NO" } else { "WPA2" };
                    self.answer(
                        command_id::SCAN,
                        vec![network.ssid.clone(), network.rssi.to_string(), auth.into()],
                    );
                }
                self.answer(command_id::SCAN, Vec::new());
            }
            Command::Hostname(set) => self.name_command(command_id::HOSTNAME, set, authorized, true),
            Command::DeviceName(set) => self.name_command(command_id::DEVICE_NAME, set, authorized, false),
        }
    }

    fn name_command(&self, command: u8, set: Option<String>, authorized: bool, hostname: bool) {
        if let Some(value) = set {
            if !authorized {
                return self.set_error(Some(DeviceFault::NotAuthorized));
            }
            if hostname && !is_rfc1123_hostname(&value) {
                return self.set_error(Some(DeviceFault::BadHostname));
            }
            let mut status = lock(&self.0.status);
            *(if hostname { &mut status.hostname } else { &mut status.name }) = value;
            drop(status);
            // Setting a name restarts the authorization timeout.
            self.start_lapse();
        }
        let value = if hostname { self.hostname() } else { self.name() };
        self.answer(command, vec![value]);
    }

    fn finish_join(&self, ssid: &str, password: &str) {
        let config = &self.0.config;
        let joins = !config.faults.never_connect
            && config.networks.iter().any(|n| n.ssid == ssid && n.passphrase.expose() == password);
        if !joins {
            // ESPHome goes back to authorized, restarts the timeout and reports the error.
            self.set_state(State::Authorized);
            self.start_lapse();
            return self.set_error(Some(DeviceFault::UnableToConnect));
        }
        lock(&self.0.status).joined = Some(ssid.to_owned());
        self.set_state(State::Provisioned);
        if config.faults.drop_link_when_provisioned {
            return self.announce(ImprovOutput::LinkDropped);
        }
        self.answer(command_id::WIFI_SETTINGS, self.redirect());
    }

    fn redirect(&self) -> Vec<String> {
        self.0.config.redirect_url.iter().cloned().collect()
    }
}

/// RFC 1123 host name: labels of letters, digits and hyphens, not starting or ending with a
/// hyphen, at most 63 bytes each and 255 in all.
fn is_rfc1123_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= frame::MAX_HOSTNAME_LEN
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_rfc_1123() {
        assert!(is_rfc1123_hostname("kitchen-1"));
        assert!(is_rfc1123_hostname("a.b-c"));
        assert!(!is_rfc1123_hostname("-kitchen"));
        assert!(!is_rfc1123_hostname("kitchen_1"));
        assert!(!is_rfc1123_hostname(""));
        assert!(!is_rfc1123_hostname(&"a".repeat(64)));
    }
}
