//! The BLE-central seam: what Unbox needs from a phone's or computer's Bluetooth stack.
//!
//! Implemented by btleplug on desktop and iOS, by the Android shell in Kotlin, and by the
//! simulator's in-memory peripheral in tests. The operations are those every OS stack offers:
//! the stack itself splits long values into Prepare/Execute writes and Read Blob requests,
//! so a value may be longer than the MTU (up to [`MAX_ATTRIBUTE_LEN`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::UserAction;
use crate::prefix::matches_any_prefix;

/// Longest attribute value ATT allows (Bluetooth Core, Vol 3, Part F, 3.2.9).
pub const MAX_ATTRIBUTE_LEN: usize = 512;

/// The ATT MTU every link starts with.
pub const DEFAULT_ATT_MTU: u16 = 23;

/// Manufacturer-specific data of an advertisement by company identifier, in order (a map on
/// the foreign side).
pub type ManufacturerData = BTreeMap<u16, Vec<u8>>;

/// Service data of an advertisement by service UUID, in order (a map on the foreign side).
pub type ServiceData = BTreeMap<Uuid, Vec<u8>>;

/// One advertisement or scan response as the stack reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Advertisement {
    /// Stable identifier the stack uses for the peripheral (MAC on Android/Linux, UUID on Apple).
    pub peripheral_id: String,
    /// Local name, from the scan response on ESP devices.
    pub local_name: Option<String>,
    /// Received signal strength in dBm.
    pub rssi: i16,
    /// Advertised service UUIDs.
    pub service_uuids: Vec<Uuid>,
    /// Manufacturer-specific data by company identifier.
    pub manufacturer_data: ManufacturerData,
    /// Service data by service UUID.
    pub service_data: ServiceData,
    /// Advertised transmit power in dBm.
    pub tx_power: Option<i16>,
}

impl Advertisement {
    /// The ADV_IND an ESP device sends in setup mode: its provisioning service UUID and TX power,
    /// no name (ESP-IDF's `wifi_prov_scheme_ble` puts the name in the scan response).
    pub fn esp_adv_ind(peripheral_id: impl Into<String>, service: Uuid, rssi: i16) -> Self {
        Self {
            peripheral_id: peripheral_id.into(),
            local_name: None,
            rssi,
            service_uuids: vec![service],
            manufacturer_data: BTreeMap::new(),
            service_data: BTreeMap::new(),
            tx_power: Some(9),
        }
    }

    /// The scan response of an ESP device in setup mode: its name and manufacturer data, no
    /// service UUID.
    pub fn esp_scan_response(
        peripheral_id: impl Into<String>,
        name: impl Into<String>,
        rssi: i16,
        manufacturer_data: BTreeMap<u16, Vec<u8>>,
    ) -> Self {
        Self {
            peripheral_id: peripheral_id.into(),
            local_name: Some(name.into()),
            rssi,
            service_uuids: Vec::new(),
            manufacturer_data,
            service_data: BTreeMap::new(),
            tx_power: None,
        }
    }
}

/// What to scan for. Devices matching any service UUID or any name prefix are reported;
/// an empty filter reports everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ScanFilter {
    /// Service UUIDs to look for.
    pub service_uuids: Vec<Uuid>,
    /// Local-name prefixes to look for, e.g. `PROV_`.
    pub name_prefixes: Vec<String>,
}

impl ScanFilter {
    /// Whether `advertisement` matches: an advertised service in the filter, or a local name
    /// starting with one of the prefixes, ignoring ASCII case (ESP firmware writes the hex suffix
    /// either way). An empty filter matches everything. Every central applies this one rule.
    pub fn matches(&self, advertisement: &Advertisement) -> bool {
        if self.service_uuids.is_empty() && self.name_prefixes.is_empty() {
            return true;
        }
        let by_service = advertisement.service_uuids.iter().any(|uuid| self.service_uuids.contains(uuid));
        let by_name = !self.name_prefixes.is_empty()
            && advertisement
                .local_name
                .as_deref()
                .is_some_and(|name| matches_any_prefix(name, &self.name_prefixes));
        by_service || by_name
    }

    /// The service UUIDs to hand the platform's own scan filter: all of them when the filter has
    /// no name prefixes; none (scan unfiltered, then [`ScanFilter::matches`] in software) when it
    /// has, since a platform filter cannot match name prefixes and would drop devices known only
    /// by their name.
    pub fn platform_services(&self) -> Vec<Uuid> {
        if self.name_prefixes.is_empty() { self.service_uuids.clone() } else { Vec::new() }
    }
}

/// Receives advertisements while a scan runs.
pub trait AdvertisementListener: Send + Sync {
    /// Called for every advertisement or scan response heard.
    fn on_advertisement(&self, advertisement: Advertisement);
}

/// A GATT characteristic of the provisioning service with its 0x2901 user description.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct GattCharacteristic {
    /// Characteristic UUID.
    pub uuid: Uuid,
    /// The User Description descriptor (0x2901), which names the protocomm endpoint.
    pub user_description: Option<String>,
}

/// Receives the values a peripheral notifies or indicates on subscribed characteristics.
pub trait NotificationListener: Send + Sync {
    /// Called for every value, in the order the device sent them, from any thread.
    fn on_notification(&self, characteristic: Uuid, value: Vec<u8>);
}

/// The phone's or computer's Bluetooth LE central role.
#[async_trait]
pub trait BleCentral: Send + Sync {
    /// Starts an active scan (ESP devices put their name only in the scan response).
    async fn start_scan(
        &self,
        filter: ScanFilter,
        listener: Arc<dyn AdvertisementListener>,
    ) -> Result<(), BleError>;
    /// Stops the scan.
    async fn stop_scan(&self) -> Result<(), BleError>;
    /// Connects to a peripheral seen in a scan and negotiates the MTU.
    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn BleConnection>, BleError>;
}

/// A GATT connection to one peripheral. One protocomm session lives as long as the connection.
#[async_trait]
pub trait BleConnection: Send + Sync {
    /// The negotiated ATT MTU.
    fn mtu(&self) -> u16;
    /// Discovers the characteristics of `service` and reads their 0x2901 descriptors.
    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError>;
    /// Writes a value with response (a long write when it exceeds MTU − 3).
    async fn write(&self, characteristic: Uuid, value: &[u8]) -> Result<(), BleError>;
    /// Reads the whole value (long read when it exceeds MTU − 1).
    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError>;
    /// Subscribes to `characteristic` (writes its Client Characteristic Configuration descriptor:
    /// indications when the characteristic offers only those, otherwise notifications) and
    /// hands every value to `listener` until the link ends.
    async fn subscribe(
        &self,
        characteristic: Uuid,
        listener: Arc<dyn NotificationListener>,
    ) -> Result<(), BleError>;
    /// Disconnects; the device ends the protocomm session.
    async fn disconnect(&self);
}

/// Why a Bluetooth operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BleError {
    /// Bluetooth is off, missing or not permitted.
    #[error("Bluetooth is unavailable: {0}; turn it on and grant the Bluetooth permission")]
    Unavailable(String),
    /// The peripheral is not known to the stack (not seen in a scan, or gone).
    #[error("no Bluetooth device `{0}` is in range; scan again near the device")]
    NotFound(String),
    /// Connecting failed (Android's GATT 133 lands here).
    #[error("could not connect over Bluetooth: {0}; move closer and retry")]
    ConnectFailed(String),
    /// The link dropped; the protocomm session is gone.
    #[error("the Bluetooth link to the device dropped; reconnect and start again")]
    Disconnected,
    /// The device does not offer the provisioning service.
    #[error("the device does not offer the provisioning service {0}; is it in setup mode?")]
    ServiceNotFound(Uuid),
    /// A GATT read or write was refused with an ATT error.
    #[error("the device refused a Bluetooth {operation} (ATT error 0x{code:02x})")]
    Att {
        /// The operation refused.
        operation: AttOperation,
        /// ATT error code (e.g. 0x04 Invalid PDU, 0x05 insufficient authentication).
        code: u8,
    },
    /// A value exceeded what the attribute can hold.
    #[error("a {len}-byte value exceeds the {max}-byte attribute limit")]
    ValueTooLong {
        /// Size of the value.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The stack did not complete the operation in time.
    #[error("the Bluetooth operation timed out; move closer and retry")]
    Timeout,
    /// Any other stack failure.
    #[error("Bluetooth error: {0}")]
    Other(String),
}

/// The GATT operation an ATT error answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AttOperation {
    /// Reading a characteristic or descriptor value.
    Read,
    /// Writing a characteristic value.
    Write,
    /// Discovering the services and characteristics.
    ServiceDiscovery,
}

impl std::fmt::Display for AttOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::ServiceDiscovery => "service discovery",
        })
    }
}

impl BleError {
    /// What the app should offer: the phone's Bluetooth settings when Bluetooth is off or not
    /// permitted, moving closer for a failure that may pass, support otherwise.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::Unavailable(_) => UserAction::FixPhoneSettings,
            error if error.is_retryable() => UserAction::MoveCloser,
            _ => UserAction::ContactSupport,
        }
    }

    /// Whether retrying can help without the user changing anything.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Unavailable(_) | Self::ServiceNotFound(_) | Self::ValueTooLong { .. })
    }

    /// Whether the link (and so the protocomm session) is gone.
    pub fn ends_session(&self) -> bool {
        matches!(self, Self::Disconnected | Self::Timeout | Self::ConnectFailed(_) | Self::Att { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::ESP_IDF_DEFAULT_SERVICE_UUID as PROV_SERVICE;

    fn advertisement(name: Option<&str>, services: Vec<Uuid>) -> Advertisement {
        Advertisement {
            peripheral_id: "hci0/dev_24_0A_C4_12_34_56".to_owned(),
            local_name: name.map(str::to_owned),
            rssi: -60,
            service_uuids: services,
            manufacturer_data: BTreeMap::new(),
            service_data: BTreeMap::new(),
            tx_power: None,
        }
    }

    #[test]
    fn an_empty_filter_matches_everything() {
        assert!(ScanFilter::default().matches(&advertisement(None, vec![])));
        assert!(ScanFilter::default().platform_services().is_empty());
    }

    #[test]
    fn a_filter_matches_any_service_or_any_prefix_ignoring_ascii_case() {
        let filter = ScanFilter {
            service_uuids: vec![PROV_SERVICE],
            name_prefixes: vec!["PROV_".to_owned(), "ESP_".to_owned()],
        };
        assert!(filter.matches(&advertisement(None, vec![PROV_SERVICE])));
        assert!(filter.matches(&advertisement(Some("ESP_01"), vec![])));
        assert!(!filter.matches(&advertisement(Some("Soundbar"), vec![Uuid::nil()])));
        assert!(!filter.matches(&advertisement(None, vec![])));
        // The same rule as discovery's: ESP firmware writes the hex suffix in either case.
        assert!(filter.matches(&advertisement(Some("prov_1a2b3c"), vec![])));
        let by_service_only = ScanFilter { name_prefixes: Vec::new(), ..filter };
        assert!(!by_service_only.matches(&advertisement(Some("PROV_1A2B3C"), vec![])));
    }

    #[test]
    fn the_platform_filter_carries_services_only_without_prefixes() {
        let by_service = ScanFilter { service_uuids: vec![PROV_SERVICE], name_prefixes: vec![] };
        assert_eq!(by_service.platform_services(), vec![PROV_SERVICE]);
        let either = ScanFilter { name_prefixes: vec!["PROV_".to_owned()], ..by_service };
        assert!(either.platform_services().is_empty());
    }
}
