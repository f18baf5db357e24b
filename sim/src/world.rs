//! A whole simulated world on one machine: the cloud (identity provider + binding backend),
//! devices in setup mode (each with its SoftAP server on loopback, a BLE peripheral and the
//! `unbox-claim` endpoint, registered at the backend as the factory would), the phone's Wi-Fi
//! and Bluetooth, and a signed-in-able app. Used by the demo, `unbox sim all`, tests, benchmarks
//! and the binding tests.

use std::sync::Arc;
use std::time::Duration;

use std::net::SocketAddr;

use unbox_core::auth::{AuthClient, ClientConfig, Clock, Session, SystemClock};
use unbox_core::binding::BindingClient;
use unbox_core::device::{StatusPolling, WifiCredentials};
use unbox_core::flow::{DeviceTarget, FlowSettings, Onboarding, OnboardingRequest};
use unbox_core::secret::SecretString;
use unbox_core::secret_store::{MemorySecretStore, SecretStore};
use unbox_core::security::ClientCredentials;
use unbox_core::transport::ble::DEFAULT_SERVICE_UUID;
use url::Url;

use crate::backend::BackendConfig;
use crate::ble::{SimBleCentral, SimPeripheral};
use crate::browser::AutoConsentBrowser;
use crate::cloud::SimCloud;
use crate::device::{ClaimEndpoint, DeviceConfig, SimDevice, SimNetwork, SimSecurity};
use crate::idp::{DEFAULT_CLIENT_ID, IdpConfig};
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
    /// Its claim endpoint (to follow its redemption).
    pub claim: Arc<ClaimEndpoint>,
    /// Its SoftAP server.
    pub server: SoftApServer,
    /// Its BLE peripheral id.
    pub peripheral_id: String,
}

/// Knobs of the world.
#[derive(Clone)]
pub struct WorldOptions {
    /// Number of devices.
    pub devices: usize,
    /// Delay between apply and the join starting (the firmware's 1 s by default).
    pub apply_delay: Duration,
    /// How long joining takes.
    pub join_time: Duration,
    /// The identity provider's and the app's clock (a manual one lets tests expire tokens).
    pub clock: Arc<dyn Clock>,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            devices: 1,
            apply_delay: Duration::from_secs(1),
            join_time: Duration::from_millis(1500),
            clock: Arc::new(SystemClock),
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
    clock: Arc<dyn Clock>,
}

impl SimWorld {
    /// Starts the cloud and `options.devices` devices on loopback.
    pub async fn start(options: WorldOptions) -> std::io::Result<Self> {
        let idp = IdpConfig { clock: options.clock.clone(), ..IdpConfig::default() };
        let cloud =
            SimCloud::start(SocketAddr::from(([127, 0, 0, 1], 0)), None, idp, BackendConfig::default())
                .await?;
        let phone_wifi = Arc::new(SimPhoneWifi::new());
        let mut devices = Vec::with_capacity(options.devices);
        let mut peripherals = Vec::with_capacity(options.devices);
        for index in 0..options.devices {
            let suffix = format!("{:06X}", 0x1A2B3C + index);
            let name = format!("PROV_{suffix}");
            let credential = cloud.manufacture_device(&format!("dev-{suffix}"));
            let claim = ClaimEndpoint::new(credential, None);
            let config = DeviceConfig::new(&name)
                .with_security(SimSecurity::Sec2 {
                    username: "wifiprov".into(),
                    password: SecretString::new(DEVICE_PASSWORD),
                    patch_version: 1,
                })
                .with_timing(options.apply_delay, options.join_time)
                .with_network(SimNetwork::new(HOME_SSID, HOME_PASSPHRASE))
                .with_network(SimNetwork {
                    rssi: -74,
                    channel: 1,
                    ..SimNetwork::new("Neighbour", "not-yours-1")
                });
            let device = SimDevice::new(config, vec![claim.clone()]);
            let server = SoftApServer::bind(device.clone(), "127.0.0.1:0").await?;
            phone_wifi.add_access_point(&name, Some(SecretString::new(DEVICE_AP_PASSPHRASE)), -55);
            let peripheral_id = format!("24:0A:C4:{}:{}:{}", &suffix[0..2], &suffix[2..4], &suffix[4..6]);
            peripherals.push(SimPeripheral::new(&peripheral_id, device.clone()));
            devices.push(WorldDevice { name, device, claim, server, peripheral_id });
        }
        let ble = Arc::new(SimBleCentral::new(peripherals));
        Ok(Self { cloud, phone_wifi, ble, devices, clock: options.clock })
    }

    /// The request to onboard device `index` over `link` onto the home network.
    pub fn request(&self, index: usize, link: Link) -> OnboardingRequest {
        let device = &self.devices[index];
        let target = match link {
            Link::SoftAp => DeviceTarget::SoftAp {
                ssid: device.name.clone(),
                passphrase: Some(SecretString::new(DEVICE_AP_PASSPHRASE)),
                address: device.server.address().to_string(),
            },
            Link::Ble => DeviceTarget::Ble {
                peripheral_id: device.peripheral_id.clone(),
                service: DEFAULT_SERVICE_UUID,
            },
        };
        OnboardingRequest {
            device_name: device.name.clone(),
            target,
            credentials: ClientCredentials::Sec2 {
                username: "wifiprov".into(),
                password: SecretString::new(DEVICE_PASSWORD),
                patch_version: 1,
            },
            wifi: WifiCredentials::new(HOME_SSID, HOME_PASSPHRASE),
            scan_wifi: true,
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

    /// Flow settings fit for the simulator: quick status polling, the simulated backend as the
    /// device's redeem URL.
    pub fn settings(&self) -> FlowSettings {
        FlowSettings {
            polling: StatusPolling {
                initial_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(500),
                deadline: Duration::from_secs(30),
            },
            device_backend_url: Url::parse(self.cloud.base_url()).ok(),
            ..FlowSettings::default()
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
        settings: FlowSettings,
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
        ))
    }
}
