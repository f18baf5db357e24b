//! How a simulated device is set up: identity, security, capabilities, networks, timing, faults.

use std::time::Duration;

use unbox_core::device::{CAP_NO_POP, CAP_NO_SEC, CAP_WIFI_SCAN, DeviceInfo};
use unbox_core::secret::SecretString;
use unbox_core::security::SecurityLevel;

use super::wifi::{Flavour, SimNetwork};
use crate::latency::LatencyRange;

/// The security a simulated device runs.
#[derive(Debug, Clone)]
pub enum SimSecurity {
    /// Security 0.
    Sec0,
    /// Security 1 with a PoP (`None` = the `no_pop` build).
    Sec1 {
        /// The proof of possession.
        pop: Option<SecretString>,
    },
    /// Security 2 with SRP credentials; salt and verifier are derived at start.
    Sec2 {
        /// SRP username.
        username: String,
        /// SRP password.
        password: SecretString,
        /// `sec_patch_ver` announced and used (0 or 1).
        patch_version: u32,
    },
}

/// Faults to inject, counted in exchanges since the device started (1-based).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Fail the handler of this exchange: the link drops and the session is lost.
    pub drop_at_exchange: Option<u32>,
    /// Flip a byte of this exchange's reply.
    pub corrupt_reply_at: Option<u32>,
    /// Reboot at this exchange: link dropped, session and Wi-Fi configuration lost.
    pub reboot_at_exchange: Option<u32>,
    /// Delay every reply by this much.
    pub reply_delay: Duration,
    /// Hold this exchange's request for this long before handling it, once: the firmware's
    /// handler is blocked (protocomm runs handlers on the httpd or NimBLE host task, which a
    /// slow flash write or a busy Wi-Fi driver stalls), so the phone's step timeout fires first.
    pub stall_at_exchange: Option<(u32, Duration)>,
    /// Joining never completes.
    pub never_connect: bool,
    /// The access point follows the router's channel this long after an accepted apply: the
    /// station connected then (the phone) drops off and its session is lost; a station that
    /// joins again gets a new session. ESP devices run AP and station on one radio, so the
    /// AP moves to the home network's channel when the station joins (esp_wifi, softAP+STA).
    pub channel_switch_after_apply: Option<Duration>,
    /// Announce this `sec_patch_ver` whatever the security really runs (a lying device).
    pub announced_patch_version: Option<u32>,
}

/// A simulated device's configuration.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Service name: BLE local name and SoftAP SSID, e.g. `PROV_1A2B3C`.
    pub name: String,
    /// Security scheme and credentials.
    pub security: SimSecurity,
    /// Provisioning capabilities besides the security ones (default `wifi_scan`).
    pub capabilities: Vec<String>,
    /// Provisioning version announced (`v1.1`).
    pub prov_version: String,
    /// Networks in range.
    pub networks: Vec<SimNetwork>,
    /// Delay between apply and the start of the join (the firmware waits 1 s).
    pub apply_delay: Duration,
    /// How long joining takes once started.
    pub join_time: Duration,
    /// How long provisioning keeps running after the device reported Connected.
    pub stop_after_connected: Duration,
    /// How the firmware treats a failed join (plain manager or ESP-IDF's example app).
    pub flavour: Flavour,
    /// Faults to inject.
    pub faults: Faults,
    /// How long each BLE exchange takes on the air (drawn per exchange).
    pub ble_latency: LatencyRange,
    /// How long each SoftAP exchange takes on the air (drawn per exchange).
    pub softap_latency: LatencyRange,
}

impl DeviceConfig {
    /// A security 2 device (patch 1) with Espressif's example credentials and no networks.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            security: SimSecurity::Sec2 {
                username: "wifiprov".into(),
                password: SecretString::new("abcd1234"),
                patch_version: 1,
            },
            capabilities: vec![CAP_WIFI_SCAN.into()],
            prov_version: "v1.1".into(),
            networks: Vec::new(),
            apply_delay: Duration::from_secs(1),
            join_time: Duration::from_secs(1),
            stop_after_connected: Duration::from_secs(1),
            flavour: Flavour::Plain,
            faults: Faults::default(),
            ble_latency: LatencyRange::ZERO,
            softap_latency: LatencyRange::ZERO,
        }
    }

    /// Sets the security.
    pub fn with_security(mut self, security: SimSecurity) -> Self {
        self.security = security;
        self
    }

    /// Adds a network in range.
    pub fn with_network(mut self, network: SimNetwork) -> Self {
        self.networks.push(network);
        self
    }

    /// Sets the join timing.
    pub fn with_timing(mut self, apply_delay: Duration, join_time: Duration) -> Self {
        self.apply_delay = apply_delay;
        self.join_time = join_time;
        self
    }

    /// Sets the firmware flavour.
    pub fn with_flavour(mut self, flavour: Flavour) -> Self {
        self.flavour = flavour;
        self
    }

    /// Sets the latency of each BLE and each SoftAP exchange.
    pub fn with_latency(mut self, ble: LatencyRange, softap: LatencyRange) -> Self {
        self.ble_latency = ble;
        self.softap_latency = softap;
        self
    }

    /// Sets the faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The version info the device announces on `proto-ver`.
    pub fn info(&self) -> DeviceInfo {
        let mut capabilities = self.capabilities.clone();
        let (security, security_patch) = match &self.security {
            SimSecurity::Sec0 => {
                capabilities.insert(0, CAP_NO_SEC.into());
                (SecurityLevel::Sec0, 0)
            }
            SimSecurity::Sec1 { pop } => {
                if pop.as_ref().is_none_or(SecretString::is_empty) {
                    capabilities.insert(0, CAP_NO_POP.into());
                }
                (SecurityLevel::Sec1, 0)
            }
            SimSecurity::Sec2 { patch_version, .. } => (SecurityLevel::Sec2, *patch_version),
        };
        let security_patch = self.faults.announced_patch_version.unwrap_or(security_patch);
        DeviceInfo {
            prov_version: Some(self.prov_version.clone()),
            security,
            security_patch,
            capabilities,
            app_info: Default::default(),
        }
    }
}
