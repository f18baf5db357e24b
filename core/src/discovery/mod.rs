//! Device discovery: finds devices in setup mode over BLE and SoftAP and lists each once.
//!
//! - [`DiscoveryTable`] folds BLE advertisements and scan responses into one entry per
//!   peripheral (pure; the caller passes the time);
//! - [`setup_mode_networks`] picks devices' access points out of the platform's Wi-Fi scan;
//! - [`discovered_devices`] merges both into one list, strongest signal first;
//! - [`DiscoveryScanner`] runs all of it against a [`BleCentral`](crate::platform::ble::BleCentral) and
//!   publishes the list through a `tokio::sync::watch` channel.

mod config;
mod merge;
mod scanner;
mod softap;
mod table;

pub use config::{
    DiscoveryConfig, DiscoveryConfigError, ESP_IDF_DEFAULT_SERVICE_UUID, ESP_IDF_EXAMPLE_SERVICE_UUID,
    ESP_SERVICE_NAME_PREFIX,
};
pub use merge::{BleEndpoint, DiscoveredDevice, SoftApEndpoint, discovered_devices};
pub use scanner::{DeviceListListener, DiscoveryError, DiscoveryScanner};
pub use softap::{WifiNetwork, setup_mode_networks};
pub use table::{BleDevice, DiscoveryTable, Ingested};
