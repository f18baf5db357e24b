//! Reaching a device: the link to it (joining its access point, connecting over BLE or opening a
//! serial port), then the protocol's device handle on that link. The one place a protocol is
//! chosen by target.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::device::{DeviceHandle, DeviceProtocol};
use super::esp::EspDevice;
#[cfg(feature = "improv")]
use super::improv::ImprovDevice;
#[cfg(feature = "portal")]
use super::portal::PortalDevice;
use crate::device::{DeviceError, DeviceSession, SecurityPolicy};
use crate::flow::{DeviceTarget, FlowError, PhoneCapability};
use crate::improv::ImprovError;
use crate::platform::ble::{BleCentral, BleConnection};
use crate::platform::phone_wifi::PhoneWifi;
use crate::platform::service_browser::ServiceBrowser;
use crate::secret::SecretString;
use crate::security::ClientCredentials;
use crate::transport::Transport;
use crate::transport::ble::BleTransport;
use crate::transport::softap::SoftApTransport;

/// What the phone can do to reach devices, shared by every connection.
#[derive(Clone)]
pub struct Connector {
    ble: Option<Arc<dyn BleCentral>>,
    phone_wifi: Option<Arc<dyn PhoneWifi>>,
    service_browser: Option<Arc<dyn ServiceBrowser>>,
    exchange_timeout: Duration,
    #[cfg(feature = "improv")]
    improv_timeouts: crate::improv::ImprovTimeouts,
}

/// The device's access point while the phone is on it; left once, by whoever gets there first.
pub struct JoinedAccessPoint {
    wifi: Arc<dyn PhoneWifi>,
    ssid: Mutex<Option<String>>,
}

impl JoinedAccessPoint {
    /// Takes over `other`, a second join of the same access point: only one leave follows.
    pub(super) async fn absorb(&self, other: &JoinedAccessPoint) {
        if let Some(ssid) = other.ssid.lock().await.take() {
            self.ssid.lock().await.get_or_insert(ssid);
        }
    }

    /// Leaves the access point (nothing when already left).
    pub async fn leave(&self) {
        if let Some(ssid) = self.ssid.lock().await.take() {
            if let Err(error) = self.wifi.leave_network(ssid).await {
                tracing::warn!(%error, "could not leave the device's network");
            }
        }
    }
}

/// An open link to a device, before its protocol's session.
pub struct Link {
    channel: Channel,
    access_point: Option<Arc<JoinedAccessPoint>>,
}

/// What the link carries: protocomm (ESP unified provisioning), an Improv line, or nothing yet
/// (a captive portal's access point, where the device serves an HTTP form).
enum Channel {
    Protocomm(Arc<dyn Transport>),
    Improv(ImprovLine),
    Form,
}

/// An Improv device's line before its client: a GATT connection or a serial port.
enum ImprovLine {
    Ble(Box<dyn BleConnection>),
    #[cfg(feature = "improv-serial")]
    Serial(crate::improv::serial::PortStreams),
}

impl Link {
    /// The device's access point the phone joined for this link, if any.
    pub fn access_point(&self) -> Option<Arc<JoinedAccessPoint>> {
        self.access_point.clone()
    }

    /// The link with its transport, if it has one, wrapped by `wrap` (the flow's timeline records
    /// exchanges).
    pub fn wrap_transport(self, wrap: impl FnOnce(Arc<dyn Transport>) -> Arc<dyn Transport>) -> Self {
        let channel = match self.channel {
            Channel::Protocomm(transport) => Channel::Protocomm(wrap(transport)),
            other => other,
        };
        Self { channel, ..self }
    }

    /// Whether the phone keeps its internet on this link: over BLE or a serial cable, not on
    /// the device's access point.
    pub fn keeps_internet(&self) -> bool {
        match &self.channel {
            Channel::Protocomm(transport) => transport.kind() == crate::transport::TransportKind::Ble,
            Channel::Improv(_) => true,
            Channel::Form => false,
        }
    }
}

/// What opening a device's session needs besides the link.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    /// The device's name, for messages and its details.
    pub device_name: String,
    /// How to reach it (again, after an unconfirmed outcome).
    pub target: DeviceTarget,
    /// Its proof of possession or security 2 credentials.
    pub credentials: ClientCredentials,
    /// Which weak security to accept.
    pub policy: SecurityPolicy,
}

impl Connector {
    /// A connector over what this phone can do; `exchange_timeout` bounds each device exchange.
    pub fn new(
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        exchange_timeout: Duration,
    ) -> Self {
        Self {
            ble,
            phone_wifi,
            service_browser: None,
            exchange_timeout,
            #[cfg(feature = "improv")]
            improv_timeouts: crate::improv::ImprovTimeouts::default(),
        }
    }

    /// The same connector, able to find devices on the home network (DNS-SD) with `browser`.
    pub fn with_service_browser(mut self, browser: Arc<dyn ServiceBrowser>) -> Self {
        self.service_browser = Some(browser);
        self
    }

    /// The home network's DNS-SD browser, if the app gave one.
    #[cfg(feature = "portal")]
    pub(super) fn service_browser(&self) -> Option<Arc<dyn ServiceBrowser>> {
        self.service_browser.clone()
    }

    /// How long one device exchange may take.
    #[cfg(feature = "portal")]
    pub(super) fn exchange_timeout(&self) -> Duration {
        self.exchange_timeout
    }

    /// Opens the link to `target`: joins the device's access point, connects over BLE or opens
    /// the serial port.
    pub async fn link(&self, target: &DeviceTarget) -> Result<Link, FlowError> {
        match target {
            DeviceTarget::Ble { peripheral_id, service } => {
                let ble =
                    self.ble.as_ref().ok_or(FlowError::MissingCapability(PhoneCapability::Bluetooth))?;
                // A BLE target with Improv's service is an Improv device (as discovery lists it).
                if *service == crate::improv::ble::SERVICE_UUID {
                    let connection = ble.connect(peripheral_id).await.map_err(ImprovError::from)?;
                    let channel = Channel::Improv(ImprovLine::Ble(connection));
                    return Ok(Link { channel, access_point: None });
                }
                let transport =
                    BleTransport::connect(ble.as_ref(), peripheral_id, *service, self.exchange_timeout)
                        .await
                        .map_err(DeviceError::from)?;
                Ok(Link { channel: Channel::Protocomm(Arc::new(transport)), access_point: None })
            }
            DeviceTarget::SoftAp { ssid, passphrase, address } => {
                let access_point = self.join(ssid, passphrase.clone()).await?;
                let transport =
                    SoftApTransport::new(address, self.exchange_timeout).map_err(DeviceError::from);
                match transport {
                    Ok(transport) => Ok(Link {
                        channel: Channel::Protocomm(Arc::new(transport)),
                        access_point: Some(access_point),
                    }),
                    Err(error) => {
                        access_point.leave().await;
                        Err(error.into())
                    }
                }
            }
            DeviceTarget::Portal(portal) => {
                let access_point = self.join(&portal.ssid, portal.passphrase.clone()).await?;
                Ok(Link { channel: Channel::Form, access_point: Some(access_point) })
            }
            #[cfg(feature = "improv-serial")]
            DeviceTarget::ImprovSerial { port, baud } => {
                let streams = crate::improv::serial::open_port(port, *baud)?;
                Ok(Link { channel: Channel::Improv(ImprovLine::Serial(streams)), access_point: None })
            }
        }
    }

    async fn join(
        &self,
        ssid: &str,
        passphrase: Option<SecretString>,
    ) -> Result<Arc<JoinedAccessPoint>, FlowError> {
        let wifi =
            self.phone_wifi.as_ref().ok_or(FlowError::MissingCapability(PhoneCapability::WifiJoining))?;
        wifi.join_network(ssid.to_owned(), passphrase).await?;
        Ok(Arc::new(JoinedAccessPoint { wifi: wifi.clone(), ssid: Mutex::new(Some(ssid.to_owned())) }))
    }

    /// Opens the device's session on `link` and returns its handle. A failure closes the link.
    pub async fn open(&self, link: Link, request: &OpenRequest) -> Result<Box<dyn DeviceHandle>, FlowError> {
        let Link { channel, access_point } = link;
        let opened: Result<Box<dyn DeviceHandle>, FlowError> = match (&request.target, channel) {
            (DeviceTarget::Portal(target), _) => {
                self.open_portal(target, access_point.clone(), request).await
            }
            (_, Channel::Improv(line)) => self.open_improv(line, request).await,
            (_, Channel::Protocomm(transport)) => {
                let opened =
                    EspDevice::open(self.clone(), transport.clone(), access_point.clone(), request).await;
                if opened.is_err() {
                    transport.close().await;
                }
                opened.map(|d| Box::new(d) as _)
            }
            (_, Channel::Form) => Err(FlowError::MissingCapability(PhoneCapability::WifiJoining)),
        };
        if opened.is_err() {
            if let Some(access_point) = &access_point {
                access_point.leave().await;
            }
        }
        opened
    }

    /// Opens an Improv device on its line (GATT or serial). Improv has no session security; the
    /// flow checks its cleartext channel.
    #[cfg(feature = "improv")]
    async fn open_improv(
        &self,
        line: ImprovLine,
        request: &OpenRequest,
    ) -> Result<Box<dyn DeviceHandle>, FlowError> {
        let (client, protocol) = match line {
            ImprovLine::Ble(connection) => {
                (crate::improv::ble::open(connection, self.improv_timeouts).await?, DeviceProtocol::ImprovBle)
            }
            #[cfg(feature = "improv-serial")]
            ImprovLine::Serial((reader, writer)) => (
                crate::improv::serial::open(reader, writer, self.improv_timeouts).await?,
                DeviceProtocol::ImprovSerial,
            ),
        };
        let device = ImprovDevice::open(client, &request.device_name, protocol).await?;
        Ok(Box::new(device))
    }

    /// Without the `improv` feature (the phones' library until its FFI lands): refused, typed.
    /// (Improv serial needs the feature too, so only a GATT line reaches here.)
    #[cfg(not(feature = "improv"))]
    async fn open_improv(
        &self,
        line: ImprovLine,
        _: &OpenRequest,
    ) -> Result<Box<dyn DeviceHandle>, FlowError> {
        let ImprovLine::Ble(connection) = line;
        connection.disconnect().await;
        Err(FlowError::ProtocolNotIncluded(DeviceProtocol::ImprovBle))
    }

    /// Opens a captive portal's form on its access point.
    #[cfg(feature = "portal")]
    async fn open_portal(
        &self,
        target: &crate::flow::PortalTarget,
        access_point: Option<Arc<JoinedAccessPoint>>,
        request: &OpenRequest,
    ) -> Result<Box<dyn DeviceHandle>, FlowError> {
        Ok(Box::new(PortalDevice::open(self, target, access_point, request).await?))
    }

    /// Without the `portal` feature (the phones' library until its FFI lands): refused, typed.
    #[cfg(not(feature = "portal"))]
    async fn open_portal(
        &self,
        _: &crate::flow::PortalTarget,
        _: Option<Arc<JoinedAccessPoint>>,
        _: &OpenRequest,
    ) -> Result<Box<dyn DeviceHandle>, FlowError> {
        Err(FlowError::ProtocolNotIncluded(DeviceProtocol::CaptivePortal))
    }

    /// Opens a protocomm session on a new link to `request.target` (after the old one dropped).
    pub(super) async fn reopen_session(
        &self,
        request: &OpenRequest,
    ) -> Result<(DeviceSession, Option<Arc<JoinedAccessPoint>>), FlowError> {
        let link = self.link(&request.target).await?;
        let Channel::Protocomm(transport) = &link.channel else {
            // Only ESP devices reopen sessions; a portal's or an Improv device's link has no
            // protocomm transport.
            if let Some(access_point) = &link.access_point {
                access_point.leave().await;
            }
            return Err(FlowError::MissingCapability(PhoneCapability::WifiJoining));
        };
        let transport = transport.clone();
        match DeviceSession::open(transport.clone(), &request.credentials, &request.policy).await {
            Ok(session) => Ok((session, link.access_point)),
            Err(error) => {
                transport.close().await;
                if let Some(access_point) = &link.access_point {
                    access_point.leave().await;
                }
                Err(error.into())
            }
        }
    }
}
