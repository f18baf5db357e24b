//! What an Improv client does over either link: track the device's state and errors, wait for
//! the person to authorize, send each command of revisions up to 2.4 (honouring the advertised
//! capabilities), and provision with the redirect URL the device answers with.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::ImprovError;
use super::frame::{Capabilities, Command, DeviceFault, RpcResult, State, command_id};
use crate::secret::SecretString;

/// One message from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The state changed.
    State(State),
    /// The error state changed (`None`: cleared).
    Error(Option<DeviceFault>),
    /// An RPC result.
    Result(RpcResult),
}

/// Where the device's messages arrive: events in order, or the error that ended the link.
pub type Events = mpsc::UnboundedReceiver<Result<Event, ImprovError>>;

/// How commands reach the device (the RPC characteristic, or a serial packet).
#[async_trait]
pub trait ImprovLink: Send + Sync {
    /// Sends one command.
    async fn send(&self, command: &Command) -> Result<(), ImprovError>;
    /// Closes the link.
    async fn close(&self);
}

/// The limits the client waits within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImprovTimeouts {
    /// For the person to press the device's button.
    pub authorization: Duration,
    /// For the answer to a command.
    pub command: Duration,
    /// For the device to join the network (ESPHome gives up after about 30 s).
    pub provisioning: Duration,
}

impl Default for ImprovTimeouts {
    fn default() -> Self {
        Self {
            authorization: Duration::from_secs(60),
            command: Duration::from_secs(10),
            provisioning: Duration::from_secs(60),
        }
    }
}

/// Progress of [`ImprovClient::provision`], for the app to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImprovProgress {
    /// The device waits for the person: show "press the button on the device" for `timeout`.
    AuthorizationRequired {
        /// How long the client waits.
        timeout: Duration,
    },
    /// The device was authorized; provisioning continues.
    Authorized,
    /// The device is joining the network.
    Provisioning,
}

/// The device's answer to device info (2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Firmware name, e.g. `ESPHome`.
    pub firmware: String,
    /// Firmware version.
    pub version: String,
    /// Chip family or board, e.g. `ESP32-C3`.
    pub chip: String,
    /// The device's name.
    pub device_name: String,
    /// Operating-system name and version, when the firmware runs on one that differs.
    pub os: Option<(String, String)>,
}

/// A network the device sees (scan, 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImprovNetwork {
    /// Network name.
    pub ssid: String,
    /// Signal strength in dBm (0 when the device sent no number).
    pub rssi: i32,
    /// Authentication as the device names it (`WPA2`, `WPA/WPA2`, `NO`, serial's `YES`, ...).
    pub auth: String,
}

impl ImprovNetwork {
    /// Whether the network needs a password.
    pub fn secured(&self) -> bool {
        !matches!(self.auth.as_str(), "NO" | "")
    }
}

/// A successful provisioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// Where the device asks the person to continue (its web page), if it said.
    pub redirect_url: Option<String>,
}

/// An Improv client over one link.
pub struct ImprovClient {
    link: Box<dyn ImprovLink>,
    events: Events,
    state: State,
    capabilities: Option<Capabilities>,
    timeouts: ImprovTimeouts,
}

impl std::fmt::Debug for ImprovClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImprovClient")
            .field("state", &self.state)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl ImprovClient {
    /// A client for a link whose device is in `state`; `capabilities` is `None` over serial,
    /// which has no capability byte.
    pub fn new(
        link: Box<dyn ImprovLink>,
        events: Events,
        state: State,
        capabilities: Option<Capabilities>,
        timeouts: ImprovTimeouts,
    ) -> Self {
        Self { link, events, state, capabilities, timeouts }
    }

    /// The device's state as last reported.
    pub fn state(&self) -> State {
        self.state
    }

    /// The device's capabilities (`None` over serial).
    pub fn capabilities(&self) -> Option<Capabilities> {
        self.capabilities
    }

    /// Makes the device blink or beep (BLE, when its capabilities say so). No answer comes back.
    pub async fn identify(&mut self) -> Result<(), ImprovError> {
        self.require(Capabilities::IDENTIFY, "identify")?;
        self.link.send(&Command::Identify).await
    }

    /// Asks what the device is (2.1).
    pub async fn device_info(&mut self) -> Result<DeviceInfo, ImprovError> {
        self.require(Capabilities::DEVICE_INFO, "device info")?;
        let result = self.call(&Command::DeviceInfo).await?;
        let mut strings = result.strings.into_iter();
        let mut next = || strings.next();
        let (Some(firmware), Some(version), Some(chip), Some(device_name)) = (next(), next(), next(), next())
        else {
            return Err(super::FrameError::FieldCount { expected: 4, found: 0 }.into());
        };
        let os = next().zip(next());
        Ok(DeviceInfo { firmware, version, chip, device_name, os })
    }

    /// The networks the device sees (2.2): one result each, until an empty one.
    pub async fn scan_networks(&mut self) -> Result<Vec<ImprovNetwork>, ImprovError> {
        self.require(Capabilities::SCAN, "scanning for networks")?;
        self.link.send(&Command::ScanNetworks).await?;
        let mut networks = Vec::new();
        loop {
            let result = self.answer(command_id::SCAN, self.timeouts.command).await?;
            // A result carries one network (ESPHome, WLED) or several (the BLE page allows it).
            if result.strings.is_empty() {
                return Ok(networks);
            }
            for entry in result.strings.chunks(3) {
                let [ssid, rssi, auth] = entry else {
                    return Err(super::FrameError::FieldCount { expected: 3, found: entry.len() }.into());
                };
                let rssi = rssi.trim().parse().unwrap_or(0);
                networks.push(ImprovNetwork { ssid: ssid.clone(), rssi, auth: auth.clone() });
            }
        }
    }

    /// Reads the hostname, or sets it and reads it back (2.3; setting needs authorization).
    pub async fn hostname(&mut self, set: Option<&str>) -> Result<String, ImprovError> {
        self.name_command(Command::Hostname(set.map(str::to_owned))).await
    }

    /// Reads the device name, or sets it and reads it back (2.4; setting needs authorization).
    pub async fn device_name(&mut self, set: Option<&str>) -> Result<String, ImprovError> {
        self.name_command(Command::DeviceName(set.map(str::to_owned))).await
    }

    async fn name_command(&mut self, command: Command) -> Result<String, ImprovError> {
        let result = self.call(&command).await?;
        result
            .strings
            .into_iter()
            .next()
            .ok_or_else(|| super::FrameError::FieldCount { expected: 1, found: 0 }.into())
    }

    /// Asks a serial device for its state (serial's 0x02); it also answers the redirect URL once
    /// provisioned, which the returned value carries.
    pub async fn request_state(&mut self) -> Result<(State, Option<String>), ImprovError> {
        self.link.send(&Command::RequestState).await?;
        let limit = self.timeouts.command;
        loop {
            match self.next_event(limit, "the current state").await? {
                Event::State(State::Provisioned) => {
                    // The redirect URL follows as a Wi-Fi-settings result.
                    let url = match self.answer(command_id::WIFI_SETTINGS, limit).await {
                        Ok(result) => redirect_url(result),
                        Err(ImprovError::TimedOut { .. }) => None,
                        Err(error) => return Err(error),
                    };
                    return Ok((State::Provisioned, url));
                }
                Event::State(state) => return Ok((state, None)),
                Event::Error(Some(fault)) => return Err(fault.into()),
                Event::Error(None) | Event::Result(_) => {}
            }
        }
    }

    /// Sends the Wi-Fi credentials and waits until the device joined the network. When the
    /// device waits for authorization, reports [`ImprovProgress::AuthorizationRequired`] and waits
    /// for the person to press its button; credentials are sent only once it is authorized.
    pub async fn provision(
        &mut self,
        ssid: &str,
        password: &SecretString,
        progress: &mut (dyn FnMut(ImprovProgress) + Send),
    ) -> Result<Provisioned, ImprovError> {
        let command = Command::WifiSettings { ssid: ssid.to_owned(), password: password.clone() };
        // Frame first: a value that cannot be sent fails before the person presses anything.
        command.encode()?;
        match self.state {
            State::Provisioned => return Err(ImprovError::AlreadyProvisioned),
            State::AuthorizationRequired => self.await_authorization(progress).await?,
            State::Authorized | State::Provisioning => {}
        }
        self.link.send(&command).await?;
        let mut provisioned = false;
        loop {
            // Once provisioned, the result (the redirect URL) follows at once or not at all.
            let limit = if provisioned { self.timeouts.command } else { self.timeouts.provisioning };
            let event = match self.next_event(limit, "the end of provisioning").await {
                Ok(event) => event,
                // BLE devices stop Improv once provisioned; the link may go before the result.
                Err(ImprovError::Ble(_) | ImprovError::Serial(_) | ImprovError::LinkClosed)
                    if provisioned =>
                {
                    return Ok(Provisioned { redirect_url: None });
                }
                Err(ImprovError::TimedOut { .. }) if provisioned => {
                    return Ok(Provisioned { redirect_url: None });
                }
                Err(error) => return Err(error),
            };
            match event {
                Event::State(State::Provisioning) => progress(ImprovProgress::Provisioning),
                Event::State(State::Provisioned) => provisioned = true,
                Event::State(State::AuthorizationRequired) => return Err(DeviceFault::NotAuthorized.into()),
                Event::State(State::Authorized) | Event::Error(None) => {}
                Event::Error(Some(fault)) => return Err(fault.into()),
                Event::Result(result) if result.command == command_id::WIFI_SETTINGS => {
                    return Ok(Provisioned { redirect_url: redirect_url(result) });
                }
                Event::Result(_) => {}
            }
        }
    }

    /// Closes the link.
    pub async fn close(self) {
        self.link.close().await;
    }

    async fn await_authorization(
        &mut self,
        progress: &mut (dyn FnMut(ImprovProgress) + Send),
    ) -> Result<(), ImprovError> {
        let limit = self.timeouts.authorization;
        progress(ImprovProgress::AuthorizationRequired { timeout: limit });
        let wait = async {
            while self.state == State::AuthorizationRequired {
                match self.events.recv().await {
                    Some(Ok(event)) => self.note(&event),
                    Some(Err(error)) => return Err(error),
                    None => return Err(link_closed()),
                }
            }
            Ok(())
        };
        tokio::time::timeout(limit, wait).await.map_err(|_| ImprovError::AuthorizationTimedOut(limit))??;
        progress(ImprovProgress::Authorized);
        Ok(())
    }

    fn require(&self, bit: u8, what: &'static str) -> Result<(), ImprovError> {
        match self.capabilities {
            Some(capabilities) if capabilities.0 & bit == 0 => Err(ImprovError::Unsupported(what)),
            // Identify exists over BLE only.
            None if bit == Capabilities::IDENTIFY => Err(ImprovError::Unsupported(what)),
            _ => Ok(()),
        }
    }

    async fn call(&mut self, command: &Command) -> Result<RpcResult, ImprovError> {
        self.link.send(command).await?;
        self.answer(command.id(), self.timeouts.command).await
    }

    /// The next result for `command`; an error the device reports meanwhile fails it.
    async fn answer(&mut self, command: u8, limit: Duration) -> Result<RpcResult, ImprovError> {
        loop {
            match self.next_event(limit, "a command").await? {
                Event::Result(result) if result.command == command => return Ok(result),
                Event::Error(Some(fault)) => return Err(fault.into()),
                _ => {}
            }
        }
    }

    async fn next_event(&mut self, limit: Duration, waiting_for: &'static str) -> Result<Event, ImprovError> {
        let event = tokio::time::timeout(limit, self.events.recv())
            .await
            .map_err(|_| ImprovError::TimedOut { waiting_for, limit })?
            .ok_or_else(link_closed)??;
        self.note(&event);
        Ok(event)
    }

    fn note(&mut self, event: &Event) {
        if let Event::State(state) = event {
            tracing::debug!(?state, "improv: state");
            self.state = *state;
        }
    }
}

fn link_closed() -> ImprovError {
    ImprovError::LinkClosed
}

fn redirect_url(result: RpcResult) -> Option<String> {
    result.strings.into_iter().next().filter(|url| !url.is_empty())
}
