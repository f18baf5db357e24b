//! Test support (feature `sim`, never in an app's library): the simulated world — identity
//! provider, binding backend and devices in setup mode — running in-process on loopback, so the
//! Kotlin and Swift tests onboard a device for real through the bindings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use unbox_sim::idp::DEFAULT_CLIENT_ID;
use unbox_sim::world::{
    APP_REDIRECT_URI, DEVICE_AP_PASSPHRASE, DEVICE_PASSWORD, HOME_PASSPHRASE, HOME_SSID, SimWorld,
    WorldOptions,
};

use crate::ble::BleCentral;
use crate::flow::OnboardingSettings;
use crate::native_ble::NativeBleCentral;
use crate::runtime::on_runtime;

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
    pub ble_service: String,
    /// The devices.
    pub devices: Vec<SimulatedDevice>,
}

/// A running simulated world; stops when dropped or on `stop()`.
#[derive(uniffi::Object)]
pub struct Simulator {
    world: Mutex<Option<SimWorld>>,
    info: SimulatorInfo,
    settings: OnboardingSettings,
    ble: Arc<dyn BleCentral>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("info", &self.info).finish_non_exhaustive()
    }
}

/// Starts the cloud and `devices` devices (quick timings: join in a fraction of a second).
#[uniffi::export]
pub async fn start_simulator(devices: u32) -> Result<Arc<Simulator>, SimulatorError> {
    on_runtime(async move {
        let options = WorldOptions {
            devices: devices as usize,
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
        let info = SimulatorInfo {
            cloud_url: world.cloud.base_url().to_owned(),
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_uri: APP_REDIRECT_URI.into(),
            home_ssid: HOME_SSID.into(),
            home_passphrase: HOME_PASSPHRASE.into(),
            device_password: DEVICE_PASSWORD.into(),
            device_ap_passphrase: DEVICE_AP_PASSPHRASE.into(),
            ble_service: unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID.to_string(),
            devices: simulated,
        };
        let settings = world.settings().into();
        let ble: Arc<dyn BleCentral> = Arc::new(NativeBleCentral(world.ble.clone()));
        Ok(Arc::new(Simulator { world: Mutex::new(Some(world)), info, settings, ble }))
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

    /// Stops every server of the world.
    pub fn stop(&self) {
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum SimulatorError {
    /// A server could not start.
    #[error("the simulator could not start: {0}")]
    Start(String),
}
