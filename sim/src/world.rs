//! A whole simulated world on one machine: the cloud (identity provider + binding backend),
//! devices in setup mode (each with its SoftAP server on loopback, a BLE peripheral and the
//! `unbox-claim` endpoint, registered at the backend as the factory would), the phone's Wi-Fi
//! and Bluetooth, and a signed-in-able app. Used by the demo, `unbox sim all`, tests, benchmarks
//! and the binding tests.

use std::sync::Arc;
use std::time::Duration;

use std::net::{IpAddr, SocketAddr, TcpListener};

use unbox_core::auth::{AuthClient, ClientConfig, Session};
use unbox_core::binding::BindingClient;
use unbox_core::device::{StatusPolling, WifiCredentials};
use unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;
use unbox_core::flow::{
    BindingMode, DeviceTarget, Onboarding, OnboardingRequest, OnboardingSettings, PortalTarget,
};
use unbox_core::platform::clock::{Clock, SystemClock};
use unbox_core::platform::secret_store::{MemorySecretStore, SecretStore};
use unbox_core::platform::service_browser::ServiceQuery;
use unbox_core::qr::{EspressifQr, QrError};
use unbox_core::secret::SecretString;
use unbox_core::security::{ClientCredentials, SecurityLevel};
use unbox_core::transport::TransportKind;
use url::Url;

use crate::backend::BackendConfig;
use crate::ble::{SimBleCentral, SimPeripheral};
use crate::browser::AutoConsentBrowser;
use crate::cloud::SimCloud;
use crate::device::{
    ClaimEndpoint, ClaimFirmware, DeviceConfig, Faults, Flavour, PortalConfig, PortalServer, SimDevice,
    SimNetwork, SimPortal, SimSecurity,
};
use crate::idp::{DEFAULT_CLIENT_ID, IdpConfig};
use crate::latency::{LatencyRange, SimLatency};
use crate::mdns::SimServiceBrowser;
use crate::phone::SimPhoneWifi;
use crate::softap::SoftApServer;

/// The home network every simulated device can join.
pub const HOME_SSID: &str = "HomeNet";
/// Its passphrase.
pub const HOME_PASSPHRASE: &str = "correct horse battery";
/// The sec2 password (QR "pop") of every simulated device.
pub const DEVICE_PASSWORD: &str = "abcd1234";
/// The passphrase of the devices' own access points.
pub const DEVICE_AP_PASSPHRASE: &str = "setup-1234";
/// The redirect URI the simulated app registers (never followed by the scripted browser).
pub const APP_REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";

/// `host` as it appears in a URL or `host:port`: an IPv6 address in brackets.
fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() }
}

/// A device running the C component, registered at the backend with a fresh 32-byte secret the
/// way the factory would.
#[cfg(feature = "c-firmware")]
fn c_device(
    cloud: &SimCloud,
    device_id: &str,
    backend: Option<&Url>,
) -> std::io::Result<Arc<crate::device::CClaimEndpoint>> {
    use rand::RngCore;
    use unbox_core::binding::{DeviceCredential, DeviceId};
    use unbox_core::secret::SecretBytes;

    let backend = backend.ok_or_else(|| std::io::Error::other("the cloud has no loopback URL"))?;
    let mut secret = zeroize::Zeroizing::new(vec![0u8; 32]);
    rand::rng().fill_bytes(&mut secret);
    let id = DeviceId::new(device_id).map_err(|e| std::io::Error::other(e.to_string()))?;
    let credential = DeviceCredential::new(id, SecretBytes::new(secret.to_vec()))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    cloud.backend().register_device(credential);
    crate::device::CClaimEndpoint::new(device_id, secret, backend, Default::default())
        .map_err(std::io::Error::other)
}

/// How to reach a simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Its access point and HTTP server.
    SoftAp,
    /// Bluetooth LE.
    Ble,
}

/// One device of the world.
pub struct WorldDevice {
    /// Its service name, `PROV_xxxxxx`.
    pub name: String,
    /// The device.
    pub device: SimDevice,
    /// Its claim firmware (to follow its redemption).
    pub claim: Arc<dyn ClaimFirmware>,
    /// The C component running its claim endpoint, when [`WorldOptions::firmware`] is C.
    #[cfg(feature = "c-firmware")]
    pub c_firmware: Option<Arc<crate::device::CClaimEndpoint>>,
    /// Its SoftAP server.
    pub server: SoftApServer,
    /// Its BLE peripheral id.
    pub peripheral_id: String,
}

/// The SSID prefix of the world's portal devices (WiFiManager's default AP name on an ESP32:
/// `ESP32_` + the chip id, `getDefaultAPName`).
pub const PORTAL_SSID_PREFIX: &str = "ESP32_";
/// The form field the world's portal firmware takes the claim token in.
pub const PORTAL_CLAIM_FIELD: &str = "claim";
/// The DNS-SD service type the world's portal devices announce once online.
pub const PORTAL_SERVICE_TYPE: &str = "_http._tcp";

/// One captive-portal device of the world.
pub struct WorldPortal {
    /// Its access point's SSID, `ESP32_xxxxxx`.
    pub name: String,
    /// Its device id at the backend (printed on its label).
    pub device_id: String,
    /// The DNS-SD instance name it announces once online.
    pub instance: String,
    /// The device.
    pub portal: SimPortal,
    /// Its web server.
    pub server: PortalServer,
}

/// What runs the devices' `unbox-claim` endpoint and redemption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceFirmware {
    /// The simulator's Rust implementation (core's claim code).
    #[default]
    Rust,
    /// The firmware component `firmware/unbox-claim` in C (needs the `c-firmware` feature).
    C,
}

impl DeviceFirmware {
    /// Whether this build can run it.
    pub fn is_available(self) -> bool {
        self == Self::Rust || cfg!(feature = "c-firmware")
    }
}

/// Knobs of the world.
#[derive(Clone)]
pub struct WorldOptions {
    /// Number of devices.
    pub devices: usize,
    /// Delay between apply and the join starting (the firmware's 1 s by default).
    pub apply_delay: Duration,
    /// How long joining takes, drawn for each device when the world starts (its floor is
    /// `apply_delay` plus what it drew: see [`WorldDevice::device`]'s config).
    pub join_time: LatencyRange,
    /// How long each BLE and SoftAP exchange and each backend round trip take.
    pub latency: SimLatency,
    /// The devices' firmware flavour (how they treat a failed join).
    pub flavour: Flavour,
    /// The identity provider's and the app's clock (a manual one lets tests expire tokens).
    pub clock: Arc<dyn Clock>,
    /// Serve on every interface and give clients this host (e.g. `10.0.2.2`, the Android
    /// emulator's name for the host) in the issuer, backend and device addresses. The devices,
    /// which run here, keep redeeming claims at the cloud over loopback. `None`: loopback only.
    pub public_host: Option<String>,
    /// What runs the devices' claim endpoint and redemption.
    pub firmware: DeviceFirmware,
    /// Faults every device injects.
    pub faults: Faults,
    /// Number of captive-portal devices (WiFiManager-style firmware with a claim field).
    pub portals: usize,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            devices: 1,
            apply_delay: Duration::from_secs(1),
            join_time: LatencyRange::fixed(Duration::from_millis(1500)),
            latency: SimLatency::default(),
            flavour: Flavour::Plain,
            clock: Arc::new(SystemClock),
            public_host: None,
            firmware: DeviceFirmware::Rust,
            faults: Faults::default(),
            portals: 0,
        }
    }
}

/// Everything, running.
pub struct SimWorld {
    /// The cloud.
    pub cloud: SimCloud,
    /// The phone's Wi-Fi.
    pub phone_wifi: Arc<SimPhoneWifi>,
    /// The phone's Bluetooth.
    pub ble: Arc<SimBleCentral>,
    /// The devices.
    pub devices: Vec<WorldDevice>,
    /// The captive-portal devices.
    pub portals: Vec<WorldPortal>,
    /// The home network's DNS-SD, where portal devices announce themselves once online.
    pub service_browser: Arc<SimServiceBrowser>,
    clock: Arc<dyn Clock>,
    /// The soonest a device can report it joined after apply: the apply delay plus the shortest join.
    earliest_join: Duration,
    public_host: Option<String>,
    /// The cloud as the devices (running here) reach it.
    loopback_cloud: Option<Url>,
}

impl SimWorld {
    /// Starts the cloud and `options.devices` devices, on loopback unless
    /// [`WorldOptions::public_host`] is set.
    pub async fn start(options: WorldOptions) -> std::io::Result<Self> {
        if !options.firmware.is_available() {
            return Err(std::io::Error::other(
                "this build has no C device firmware: build it with the `c-firmware` feature (needs libprotobuf-c-dev)",
            ));
        }
        let idp = IdpConfig { clock: options.clock.clone(), ..IdpConfig::default() };
        let (listen_ip, cloud_url) = match &options.public_host {
            None => (IpAddr::from([127, 0, 0, 1]), None),
            Some(host) => {
                // The advertised URL needs the port before the cloud starts.
                let port = TcpListener::bind((IpAddr::from([0, 0, 0, 0]), 0))?.local_addr()?.port();
                (IpAddr::from([0, 0, 0, 0]), Some((port, format!("http://{}:{port}", url_host(host)))))
            }
        };
        let cloud = SimCloud::start(
            SocketAddr::new(listen_ip, cloud_url.as_ref().map_or(0, |(port, _)| *port)),
            cloud_url.as_ref().map(|(_, url)| url.clone()),
            idp,
            BackendConfig { round_trip: options.latency.backend_round_trip, ..BackendConfig::default() },
        )
        .await?;
        let loopback_cloud = match &cloud_url {
            Some((port, _)) => Url::parse(&format!("http://127.0.0.1:{port}")).ok(),
            None => Url::parse(cloud.base_url()).ok(),
        };
        let phone_wifi = Arc::new(SimPhoneWifi::new());
        let mut devices = Vec::with_capacity(options.devices);
        let mut peripherals = Vec::with_capacity(options.devices);
        for index in 0..options.devices {
            let suffix = format!("{:06X}", 0x1A2B3C + index);
            let name = format!("PROV_{suffix}");
            let device_id = format!("dev-{suffix}");
            #[cfg(feature = "c-firmware")]
            let c_firmware = match options.firmware {
                DeviceFirmware::C => Some(c_device(&cloud, &device_id, loopback_cloud.as_ref())?),
                DeviceFirmware::Rust => None,
            };
            // The firmware's built-in backend is the simulated cloud.
            let claim: Arc<dyn ClaimFirmware> = match () {
                #[cfg(feature = "c-firmware")]
                () if c_firmware.is_some() => c_firmware.clone().expect("checked"),
                () => ClaimEndpoint::new(cloud.manufacture_device(&device_id), loopback_cloud.clone()),
            };
            let config = DeviceConfig::new(&name)
                .with_security(SimSecurity::Sec2 {
                    username: "wifiprov".into(),
                    password: SecretString::new(DEVICE_PASSWORD),
                    patch_version: 1,
                })
                .with_timing(options.apply_delay, options.join_time.sample())
                .with_latency(options.latency.ble_exchange, options.latency.softap_exchange)
                .with_flavour(options.flavour)
                .with_faults(options.faults.clone())
                .with_network(SimNetwork::new(HOME_SSID, HOME_PASSPHRASE))
                .with_network(SimNetwork {
                    rssi: -74,
                    channel: 1,
                    ..SimNetwork::new("Neighbour", "not-yours-1")
                });
            let device = SimDevice::new(config, vec![claim.clone().endpoint()]);
            let server =
                SoftApServer::bind(device.clone(), &SocketAddr::new(listen_ip, 0).to_string()).await?;
            phone_wifi.add_access_point(&name, Some(SecretString::new(DEVICE_AP_PASSPHRASE)), -55);
            let peripheral_id = format!("24:0A:C4:{}:{}:{}", &suffix[0..2], &suffix[2..4], &suffix[4..6]);
            peripherals.push(SimPeripheral::new(&peripheral_id, device.clone()));
            devices.push(WorldDevice {
                name,
                device,
                claim,
                #[cfg(feature = "c-firmware")]
                c_firmware,
                server,
                peripheral_id,
            });
        }
        let ble = Arc::new(SimBleCentral::new(peripherals));
        let service_browser = Arc::new(SimServiceBrowser::default());
        let mut portals = Vec::with_capacity(options.portals);
        for index in 0..options.portals {
            let suffix = format!("{:06X}", 0xC0FFEE + index);
            let name = format!("{PORTAL_SSID_PREFIX}{suffix}");
            let device_id = format!("portal-{suffix}");
            let backend =
                loopback_cloud.clone().ok_or_else(|| std::io::Error::other("the cloud has no URL"))?;
            let mut config = PortalConfig::new(
                &name,
                vec![
                    SimNetwork::new(HOME_SSID, HOME_PASSPHRASE),
                    SimNetwork { rssi: -74, channel: 1, ..SimNetwork::new("Neighbour", "not-yours-1") },
                ],
            )
            .with_claim(PORTAL_CLAIM_FIELD, cloud.manufacture_device(&device_id), backend);
            config.close_delay = options.apply_delay;
            config.join_time = options.join_time.sample();
            let portal = SimPortal::new(config);
            let server =
                PortalServer::bind(portal.clone(), &SocketAddr::new(listen_ip, 0).to_string()).await?;
            phone_wifi.add_access_point(&name, None, -50);
            phone_wifi.follow_portal(&portal);
            let instance = name.to_ascii_lowercase().replace('_', "-");
            service_browser.add(portal.clone(), PORTAL_SERVICE_TYPE, &instance);
            portals.push(WorldPortal { name, device_id, instance, portal, server });
        }
        Ok(Self {
            cloud,
            phone_wifi,
            ble,
            devices,
            portals,
            service_browser,
            clock: options.clock,
            earliest_join: options.apply_delay + options.join_time.min,
            public_host: options.public_host,
            loopback_cloud,
        })
    }

    /// The text of device `index`'s setup QR code (Espressif's JSON: name, security 2 username
    /// and password, SoftAP passphrase), as printed on its sticker.
    pub fn setup_code(&self, index: usize) -> Result<SecretString, QrError> {
        EspressifQr {
            name: self.devices[index].name.clone(),
            pop: SecretString::new(DEVICE_PASSWORD),
            transport: Some(TransportKind::SoftAp),
            security: Some(SecurityLevel::Sec2),
            username: Some("wifiprov".into()),
            softap_password: Some(SecretString::new(DEVICE_AP_PASSPHRASE)),
            network: None,
        }
        .to_qr_text()
    }

    /// Where clients reach device `index`'s SoftAP HTTP server (`host:port`).
    pub fn device_address(&self, index: usize) -> String {
        let address = self.devices[index].server.address();
        match &self.public_host {
            Some(host) => format!("{}:{}", url_host(host), address.port()),
            None => address.to_string(),
        }
    }

    /// The cloud's URL from this computer (loopback, whatever [`WorldOptions::public_host`] says).
    pub fn local_cloud_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.cloud.server().local_addr().port())
    }

    /// The request to onboard device `index` over `link` onto the home network.
    pub fn request(&self, index: usize, link: Link) -> OnboardingRequest {
        let device = &self.devices[index];
        let target = match link {
            Link::SoftAp => DeviceTarget::SoftAp {
                ssid: device.name.clone(),
                passphrase: Some(SecretString::new(DEVICE_AP_PASSPHRASE)),
                address: self.device_address(index),
            },
            Link::Ble => DeviceTarget::Ble {
                peripheral_id: device.peripheral_id.clone(),
                service: ESP_IDF_DEFAULT_SERVICE_UUID,
            },
        };
        OnboardingRequest {
            device_name: device.name.clone(),
            target,
            credentials: ClientCredentials::Sec2 {
                username: "wifiprov".into(),
                password: SecretString::new(DEVICE_PASSWORD),
            },
            wifi: Some(WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)),
            scan_wifi: true,
            binding: BindingMode::Claim,
            code: None,
        }
    }

    /// Where clients reach portal `index`'s web server (`host:port`).
    pub fn portal_address(&self, index: usize) -> String {
        let address = self.portals[index].server.address();
        match &self.public_host {
            Some(host) => format!("{}:{}", url_host(host), address.port()),
            None => address.to_string(),
        }
    }

    /// The request to onboard portal device `index` onto the home network with `binding`: the
    /// claim in its claim field with its labelled device id, or Wi-Fi only, confirmed by its
    /// announcement on the home network.
    pub fn portal_request(&self, index: usize, binding: BindingMode) -> OnboardingRequest {
        let portal = &self.portals[index];
        OnboardingRequest {
            device_name: portal.name.clone(),
            target: DeviceTarget::Portal(PortalTarget {
                ssid: portal.name.clone(),
                passphrase: None,
                address: self.portal_address(index),
                parameters: Vec::new(),
                claim_parameter: Some(PORTAL_CLAIM_FIELD.into()),
                device_id: Some(portal.device_id.clone()),
                announce: Some(ServiceQuery {
                    service_type: PORTAL_SERVICE_TYPE.into(),
                    instance: portal.instance.clone(),
                }),
            }),
            credentials: ClientCredentials::Sec0,
            wifi: Some(WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE)),
            scan_wifi: true,
            binding,
            code: None,
        }
    }

    /// The app's sign-in session against the simulated provider, keeping tokens in `store`.
    pub async fn session(&self, store: Arc<dyn SecretStore>) -> Result<Arc<Session>, String> {
        let config =
            ClientConfig::new(DEFAULT_CLIENT_ID, APP_REDIRECT_URI).with_scopes(["openid", "profile"]);
        let client = AuthClient::discover(config, self.cloud.base_url())
            .await
            .map_err(|e| e.to_string())?
            .with_clock(self.clock.clone());
        let browser = AutoConsentBrowser::new().map_err(|e| e.to_string())?;
        Ok(Arc::new(Session::new(client, Arc::new(browser), store)))
    }

    /// Flow settings fit for the simulator: status polling that starts when its devices can first
    /// have joined and then polls quickly, the simulated backend as the device's redeem URL.
    pub fn settings(&self) -> OnboardingSettings {
        OnboardingSettings {
            polling: StatusPolling {
                initial_delay: self.earliest_join,
                interval: Duration::from_millis(50),
                max_delay: Duration::from_millis(500),
                deadline: Duration::from_secs(30),
            },
            device_backend_url: self.loopback_cloud.clone(),
            ..OnboardingSettings::default()
        }
    }

    /// A ready onboarding service for this world with a fresh in-memory secret store.
    pub async fn onboarding(&self) -> Result<Onboarding, String> {
        self.onboarding_with(Arc::new(MemorySecretStore::new()), self.settings()).await
    }

    /// An onboarding service keeping state in `store`, with `settings`.
    pub async fn onboarding_with(
        &self,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
    ) -> Result<Onboarding, String> {
        let session = self.session(store.clone()).await?;
        let backend = Url::parse(self.cloud.base_url()).map_err(|e| e.to_string())?;
        let binding = BindingClient::new(&backend, session.clone()).map_err(|e| e.to_string())?;
        Ok(Onboarding::new(
            session,
            binding,
            Some(self.ble.clone()),
            Some(self.phone_wifi.clone()),
            store,
            settings,
        )
        .with_service_browser(self.service_browser.clone()))
    }
}
