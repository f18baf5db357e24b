//! What discovery looks for and how it judges what it hears.

use std::time::Duration;

use uuid::Uuid;

use crate::platform::ble::ScanFilter;
use crate::prefix::matches_any_prefix;

/// The provisioning service UUID of ESP-IDF's `wifi_provisioning` manager (its default).
pub const ESP_IDF_DEFAULT_SERVICE_UUID: Uuid = Uuid::from_u128(0x1775244d_6b43_439b_877c_060f2d9bed07);

/// The provisioning service UUID used by ESP-IDF's provisioning examples.
pub const ESP_IDF_EXAMPLE_SERVICE_UUID: Uuid = Uuid::from_u128(0x021a9004_0382_4aea_bff4_6b3f1c5adfb4);

/// The name prefix ESP devices use in setup mode, for both the BLE name and the SoftAP SSID.
pub const ESP_SERVICE_NAME_PREFIX: &str = "PROV_";

/// Settings of device discovery. [`Default`] finds ESP devices in setup mode and Improv Wi-Fi
/// devices (by the Improv service UUID in their advertisement).
///
/// An empty `service_uuids` *and* empty `name_prefixes` matches every BLE device, and an empty
/// `ssid_prefixes` matches every Wi-Fi network, as with [`ScanFilter`]. Prefixes are compared
/// ignoring ASCII case, because ESP firmware writes the hex suffix in either case.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryConfig {
    /// BLE service UUIDs that mark a device in setup mode.
    pub service_uuids: Vec<Uuid>,
    /// BLE local-name prefixes that mark a device in setup mode.
    pub name_prefixes: Vec<String>,
    /// SoftAP SSID prefixes that mark a device in setup mode.
    pub ssid_prefixes: Vec<String>,
    /// SSID prefixes of captive-portal devices' access points (WiFiManager's default names
    /// start `ESP32_` or `ESP_`); none by default, since any network could match.
    pub portal_ssid_prefixes: Vec<String>,
    /// A BLE device not heard for longer than this leaves the list.
    pub expiry: Duration,
    /// Weight of the newest sample in the smoothed RSSI (exponentially weighted moving
    /// average), in `(0, 1]`; 1 means no smoothing.
    pub rssi_smoothing: f32,
    /// Most BLE devices tracked at once; when full, the device heard least recently makes room.
    pub max_devices: usize,
    /// How often the scanner expires devices and publishes signal-strength changes.
    pub refresh_interval: Duration,
    /// Advertisements the scanner buffers between the Bluetooth stack and the device table;
    /// beyond that, advertisements are dropped (devices repeat them several times a second).
    pub advertisement_buffer: usize,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            service_uuids: vec![
                ESP_IDF_DEFAULT_SERVICE_UUID,
                ESP_IDF_EXAMPLE_SERVICE_UUID,
                crate::improv::ble::SERVICE_UUID,
            ],
            name_prefixes: vec![ESP_SERVICE_NAME_PREFIX.to_owned()],
            ssid_prefixes: vec![ESP_SERVICE_NAME_PREFIX.to_owned()],
            portal_ssid_prefixes: Vec::new(),
            expiry: Duration::from_secs(10),
            rssi_smoothing: 0.3,
            max_devices: 2048,
            refresh_interval: Duration::from_secs(1),
            advertisement_buffer: 1024,
        }
    }
}

impl DiscoveryConfig {
    /// Checks that every setting is usable.
    pub fn validate(&self) -> Result<(), DiscoveryConfigError> {
        if !(self.rssi_smoothing > 0.0 && self.rssi_smoothing <= 1.0) {
            return Err(DiscoveryConfigError::RssiSmoothingOutOfRange(self.rssi_smoothing));
        }
        if self.expiry.is_zero() {
            return Err(DiscoveryConfigError::Zero("expiry"));
        }
        if self.refresh_interval.is_zero() {
            return Err(DiscoveryConfigError::Zero("refresh_interval"));
        }
        if self.max_devices == 0 {
            return Err(DiscoveryConfigError::Zero("max_devices"));
        }
        if self.advertisement_buffer == 0 {
            return Err(DiscoveryConfigError::Zero("advertisement_buffer"));
        }
        Ok(())
    }

    /// Whether a BLE device with this local name is wanted regardless of its services: its name
    /// has a wanted prefix, or the BLE filter is empty and so wants every device.
    pub(crate) fn accepts_name(&self, local_name: Option<&str>) -> bool {
        if self.name_prefixes.is_empty() {
            return self.service_uuids.is_empty();
        }
        local_name.is_some_and(|name| matches_any_prefix(name, &self.name_prefixes))
    }

    /// The filter to hand the Bluetooth stack for this configuration.
    pub fn scan_filter(&self) -> ScanFilter {
        ScanFilter { service_uuids: self.service_uuids.clone(), name_prefixes: self.name_prefixes.clone() }
    }
}

/// Why a [`DiscoveryConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiscoveryConfigError {
    /// The RSSI smoothing weight is outside `(0, 1]`.
    #[error("RSSI smoothing weight {0} is outside (0, 1]; use e.g. 0.3, or 1 for no smoothing")]
    RssiSmoothingOutOfRange(f32),
    /// A duration or count that must be positive is zero.
    #[error("discovery setting `{0}` is zero; give it a positive value")]
    Zero(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_targets_esp_devices() {
        let config = DiscoveryConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(ESP_IDF_DEFAULT_SERVICE_UUID.to_string(), "1775244d-6b43-439b-877c-060f2d9bed07");
        assert_eq!(ESP_IDF_EXAMPLE_SERVICE_UUID.to_string(), "021a9004-0382-4aea-bff4-6b3f1c5adfb4");
        let filter = config.scan_filter();
        assert_eq!(filter.service_uuids, config.service_uuids);
        assert_eq!(filter.name_prefixes, vec!["PROV_".to_owned()]);
    }

    #[test]
    fn rejects_unusable_settings() {
        for smoothing in [0.0, -0.5, 1.5, f32::NAN] {
            let config = DiscoveryConfig { rssi_smoothing: smoothing, ..DiscoveryConfig::default() };
            assert!(matches!(config.validate(), Err(DiscoveryConfigError::RssiSmoothingOutOfRange(_))));
        }
        let zero_expiry = DiscoveryConfig { expiry: Duration::ZERO, ..DiscoveryConfig::default() };
        assert_eq!(zero_expiry.validate(), Err(DiscoveryConfigError::Zero("expiry")));
        let zero_refresh = DiscoveryConfig { refresh_interval: Duration::ZERO, ..DiscoveryConfig::default() };
        assert_eq!(zero_refresh.validate(), Err(DiscoveryConfigError::Zero("refresh_interval")));
        let zero_devices = DiscoveryConfig { max_devices: 0, ..DiscoveryConfig::default() };
        assert_eq!(zero_devices.validate(), Err(DiscoveryConfigError::Zero("max_devices")));
        let zero_buffer = DiscoveryConfig { advertisement_buffer: 0, ..DiscoveryConfig::default() };
        assert_eq!(zero_buffer.validate(), Err(DiscoveryConfigError::Zero("advertisement_buffer")));
    }
}
