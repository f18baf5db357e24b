//! Test support (feature `sim`, never in an app's library): the simulated world — identity
//! provider, binding backend and devices in setup mode — running in-process on loopback, so the
//! Kotlin and Swift tests onboard a device for real through the bindings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use unbox_core::improv::State;
use unbox_sim::ble::SimBleCentral;
use unbox_sim::device::SimNetwork;
use unbox_sim::device::improv::gatt::SimImprovPeripheral;
use unbox_sim::device::improv::{ImprovDeviceConfig, SimImprovDevice};
use unbox_sim::idp::DEFAULT_CLIENT_ID;
use unbox_sim::world::{
    APP_REDIRECT_URI, DEVICE_AP_PASSPHRASE, DEVICE_PASSWORD, HOME_PASSPHRASE, HOME_SSID, PORTAL_CLAIM_FIELD,
    PORTAL_SERVICE_TYPE, SimWorld, WorldOptions,
};

use crate::ble::BleCentral;
use crate::flow::OnboardingSettings;
use crate::native_ble::NativeBleCentral;
use crate::runtime::on_runtime;
use unbox_core::platform::service_browser::{ServiceBrowser, ServiceQuery};

/// One simulated device in setup mode.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimulatedDevice {
    /// Its service name (SoftAP SSID and BLE name), `PROV_xxxxxx`.
    pub name: String,
    /// Its SoftAP HTTP server on loopback, `127.0.0.1:port`.
    pub softap_address: String,
    /// Its BLE peripheral id in the simulated Bluetooth world.
    pub peripheral_id: String,
    /// The Espressif setup QR code printed on it (security 2, SoftAP).
    pub setup_code: String,
}

/// One simulated captive-portal device (WiFiManager-style firmware with a claim field) in
/// portal mode: its open access point and its form.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimulatedPortal {
    /// Its access point's SSID, `ESP32_xxxxxx` (open: no passphrase).
    pub name: String,
    /// Its portal's web server on loopback, `127.0.0.1:port`.
    pub address: String,
    /// The form field for the claim token.
    pub claim_parameter: String,
    /// Its device id at the backend (printed on its label).
    pub device_id: String,
    /// How it announces itself on the home network once online.
    pub announce: ServiceQuery,
}

/// One simulated Improv Wi-Fi device (ESPHome-style) in its own simulated Bluetooth world,
/// reached through `Simulator.improvCentral()`. It asks for its button to be pressed; the
/// simulator presses it 300 ms after a phone connects while it asks, as a person would.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimulatedImprovDevice {
    /// Its name (device info).
    pub name: String,
    /// Its BLE peripheral id.
    pub peripheral_id: String,
    /// The redirect URL it answers after joining.
    pub redirect_url: Option<String>,
}

/// Where everything of the simulated world is and the secrets it was made with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimulatorInfo {
    /// The cloud's base URL: the OAuth issuer and the binding backend.
    pub cloud_url: String,
    /// The app's registered client id.
    pub client_id: String,
    /// The app's registered redirect URI.
    pub redirect_uri: String,
    /// The home network the devices can join.
    pub home_ssid: String,
    /// Its passphrase.
    pub home_passphrase: String,
    /// The devices' security 2 password.
    pub device_password: String,
    /// The passphrase of the devices' access points.
    pub device_ap_passphrase: String,
    /// The BLE provisioning service UUID.
    pub ble_service: uuid::Uuid,
    /// The devices.
    pub devices: Vec<SimulatedDevice>,
    /// The captive-portal devices.
    pub portals: Vec<SimulatedPortal>,
    /// The Improv device.
    pub improv: SimulatedImprovDevice,
}

/// A running simulated world; stops when dropped or on `stop()`.
#[derive(uniffi::Object)]
pub struct Simulator {
    world: Mutex<Option<SimWorld>>,
    info: SimulatorInfo,
    settings: OnboardingSettings,
    ble: Arc<dyn BleCentral>,
    service_browser: Arc<dyn ServiceBrowser>,
    improv: Arc<dyn BleCentral>,
    /// Presses the Improv device's button when it asks; stopped with the world.
    button_presser: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("info", &self.info).finish_non_exhaustive()
    }
}

/// Starts the cloud, `devices` ESP devices and two captive-portal devices (quick timings: join
/// in a fraction of a second).
#[uniffi::export]
pub async fn start_simulator(devices: u32) -> Result<Arc<Simulator>, SimulatorError> {
    on_runtime(async move {
        let options = WorldOptions {
            devices: devices as usize,
            portals: 2,
            apply_delay: Duration::from_millis(100),
            join_time: Duration::from_millis(200).into(),
            ..WorldOptions::default()
        };
        let world =
            SimWorld::start(options).await.map_err(|error| SimulatorError::Start(error.to_string()))?;
        let mut simulated = Vec::with_capacity(world.devices.len());
        for (index, device) in world.devices.iter().enumerate() {
            let setup_code =
                world.setup_code(index).map_err(|error| SimulatorError::Start(error.to_string()))?;
            simulated.push(SimulatedDevice {
                name: device.name.clone(),
                softap_address: device.server.address().to_string(),
                peripheral_id: device.peripheral_id.clone(),
                setup_code: setup_code.expose().to_owned(),
            });
        }
        let improv_device = SimImprovDevice::new(ImprovDeviceConfig::esphome(
            "Kitchen Light",
            vec![SimNetwork::new(HOME_SSID, HOME_PASSPHRASE)],
        ));
        let info = SimulatorInfo {
            cloud_url: world.cloud.base_url().to_owned(),
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_uri: APP_REDIRECT_URI.into(),
            home_ssid: HOME_SSID.into(),
            home_passphrase: HOME_PASSPHRASE.into(),
            device_password: DEVICE_PASSWORD.into(),
            device_ap_passphrase: DEVICE_AP_PASSPHRASE.into(),
            ble_service: unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID,
            devices: simulated,
            portals: (0..world.portals.len())
                .map(|index| SimulatedPortal {
                    name: world.portals[index].name.clone(),
                    address: world.portal_address(index),
                    claim_parameter: PORTAL_CLAIM_FIELD.into(),
                    device_id: world.portals[index].device_id.clone(),
                    announce: ServiceQuery {
                        service_type: PORTAL_SERVICE_TYPE.into(),
                        instance: world.portals[index].instance.clone(),
                    },
                })
                .collect(),
            improv: SimulatedImprovDevice {
                name: improv_device.name(),
                peripheral_id: IMPROV_PERIPHERAL.into(),
                redirect_url: improv_device.config().redirect_url.clone(),
            },
        };
        let settings = world.settings().into();
        let ble: Arc<dyn BleCentral> = Arc::new(NativeBleCentral(world.ble.clone()));
        let service_browser = world.service_browser.clone();
        let (improv, button_presser) = improv_world(&improv_device);
        Ok(Arc::new(Simulator {
            world: Mutex::new(Some(world)),
            info,
            settings,
            ble,
            service_browser,
            improv,
            button_presser,
        }))
    })
    .await
}

#[uniffi::export]
impl Simulator {
    /// Where everything is.
    pub fn info(&self) -> SimulatorInfo {
        self.info.clone()
    }

    /// Onboarding settings fit for the simulator (quick polling, the simulated backend as the
    /// devices' redeem URL).
    pub fn settings(&self) -> OnboardingSettings {
        self.settings.clone()
    }

    /// The simulated Bluetooth world's central, implemented in Rust (a shell test can wrap it in
    /// its own central to exercise the foreign BLE seam).
    pub fn ble_central(&self) -> Arc<dyn BleCentral> {
        Arc::clone(&self.ble)
    }

    /// The simulated home network's DNS-SD browser, where portal devices announce themselves
    /// once online, implemented in Rust.
    pub fn service_browser(&self) -> Arc<dyn ServiceBrowser> {
        Arc::clone(&self.service_browser)
    }

    /// The Bluetooth world of the Improv device (implemented in Rust).
    pub fn improv_central(&self) -> Arc<dyn BleCentral> {
        Arc::clone(&self.improv)
    }

    /// Stops every server of the world.
    pub fn stop(&self) {
        self.button_presser.abort();
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }
}

/// The Improv device's peripheral id.
const IMPROV_PERIPHERAL: &str = "C8:2B:96:00:00:01";

/// A Bluetooth world with `device` in it, and the task that presses its button when it asks.
fn improv_world(device: &SimImprovDevice) -> (Arc<dyn BleCentral>, tokio::task::JoinHandle<()>) {
    let peripheral = SimImprovPeripheral::new(IMPROV_PERIPHERAL, device.clone());
    let central = SimBleCentral::new(Vec::new()).with_improv(vec![peripheral.clone()]);
    let button = device.clone();
    let presser = tokio::spawn(async move {
        loop {
            // The person presses once the phone is connected and the device asks.
            while peripheral.advertising() || button.state() != State::AuthorizationRequired {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            button.press_button();
        }
    });
    (Arc::new(NativeBleCentral(Arc::new(central))), presser)
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SimulatorError {
    /// A server could not start.
    #[error("the simulator could not start: {0}")]
    Start(String),
}
