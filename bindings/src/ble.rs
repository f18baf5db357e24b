//! The Bluetooth LE central the Android shell implements (over `BluetoothLeScanner` and
//! `BluetoothGatt`), adapted to the core's [`BleCentral`](unbox_core::platform::ble::BleCentral) seam.
//! UUIDs arrive as the platforms' UUID types (`java.util.UUID`, `Foundation.UUID`).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use unbox_core::platform::ble as core;
use unbox_core::platform::ble::{Advertisement, AttOperation, GattCharacteristic, ScanFilter};
use uuid::Uuid;

#[cfg(any(feature = "btleplug", feature = "sim"))]
use crate::native_ble::NativeBleCentral;

/// The phone's Bluetooth LE central role.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait BleCentral: Any + Send + Sync {
    /// Starts an active scan (ESP devices put their name in the scan response) and reports every
    /// advertisement or scan response to `sink` until `stopScan`.
    async fn start_scan(&self, filter: ScanFilter, sink: Arc<AdvertisementSink>) -> Result<(), BleError>;
    /// Stops the scan.
    async fn stop_scan(&self) -> Result<(), BleError>;
    /// Connects to a peripheral seen in a scan, negotiates the MTU, and returns the connection
    /// wrapped in a `BleLink`.
    async fn connect(&self, peripheral_id: String) -> Result<Arc<BleLink>, BleError>;
}

/// The shell's `BleConnection` as returned by `connect` of a `BleCentral` (UniFFI cannot return a
/// foreign trait object from an async foreign method, so it travels in this wrapper).
#[derive(uniffi::Object)]
pub struct BleLink {
    connection: Arc<dyn BleConnection>,
}

#[uniffi::export]
impl BleLink {
    /// Wraps a connection.
    #[uniffi::constructor]
    pub fn new(connection: Arc<dyn BleConnection>) -> Arc<Self> {
        Arc::new(Self { connection })
    }

    /// The wrapped connection.
    pub fn connection(&self) -> Arc<dyn BleConnection> {
        Arc::clone(&self.connection)
    }
}

impl fmt::Debug for BleLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BleLink").field("mtu", &self.connection.mtu()).finish()
    }
}

/// A GATT connection to one peripheral.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait BleConnection: Send + Sync {
    /// The negotiated ATT MTU.
    fn mtu(&self) -> u16;
    /// Discovers the characteristics of `service` and reads their 0x2901 user descriptions.
    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError>;
    /// Writes a value with response (the stack does a long write when needed).
    async fn write(&self, characteristic: Uuid, value: Vec<u8>) -> Result<(), BleError>;
    /// Reads the whole value (the stack does a long read when needed).
    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError>;
    /// Enables notifications on `characteristic` (indications when it offers only those) by
    /// writing its 0x2902 descriptor, then reports every value to `sink` until disconnect.
    async fn subscribe(&self, characteristic: Uuid, sink: Arc<NotificationSink>) -> Result<(), BleError>;
    /// Disconnects.
    async fn disconnect(&self);
}

/// Whether `advertisement` matches `filter`: an advertised service in the filter, or a local
/// name starting with one of the prefixes, ignoring ASCII case. An empty filter matches
/// everything. The core's one rule, for centrals that filter in the shell (Android).
#[uniffi::export]
pub fn scan_filter_matches(filter: ScanFilter, advertisement: Advertisement) -> bool {
    filter.matches(&advertisement)
}

/// The service UUIDs to give the platform's own scan filter: all of them without name prefixes,
/// none with (scan unfiltered and call `scanFilterMatches`), since a platform filter cannot match
/// a name prefix.
#[uniffi::export]
pub fn scan_filter_platform_services(filter: ScanFilter) -> Vec<Uuid> {
    filter.platform_services()
}

/// Receives the advertisements of a running scan; the shell calls it from any thread.
#[derive(uniffi::Object)]
pub struct AdvertisementSink {
    listener: Arc<dyn core::AdvertisementListener>,
}

impl fmt::Debug for AdvertisementSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdvertisementSink").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl AdvertisementSink {
    /// Reports one advertisement or scan response. Returns at once.
    pub fn on_advertisement(&self, advertisement: Advertisement) {
        self.listener.on_advertisement(advertisement);
    }
}

/// Receives the notified or indicated values of subscribed characteristics; the shell calls it
/// from any thread, in the order the device sent them.
#[derive(uniffi::Object)]
pub struct NotificationSink {
    pub(crate) listener: Arc<dyn core::NotificationListener>,
}

impl NotificationSink {
    /// A sink handing values to a core listener.
    pub(crate) fn new(listener: Arc<dyn core::NotificationListener>) -> Arc<Self> {
        Arc::new(Self { listener })
    }
}

impl fmt::Debug for NotificationSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationSink").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl NotificationSink {
    /// Reports one value of `characteristic`. Returns at once.
    pub fn on_notification(&self, characteristic: Uuid, value: Vec<u8>) {
        self.listener.on_notification(characteristic, value);
    }
}

// Thrown by the shells: an error of its own, since what a shell throws unexpectedly must convert
// into it (`From<UnexpectedUniFFICallbackError>`), which the orphan rule forbids on the core's.

/// Why a Bluetooth operation failed. Thrown by the shell's central and connections.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum BleError {
    /// Bluetooth is off, missing or not permitted.
    Unavailable {
        /// What the stack said.
        reason: String,
    },
    /// The peripheral is not known to the stack.
    NotFound {
        /// The peripheral asked for.
        peripheral_id: String,
    },
    /// Connecting failed (Android's GATT 133 goes here).
    ConnectFailed {
        /// What the stack said.
        reason: String,
    },
    /// The link dropped.
    Disconnected,
    /// The device does not offer the provisioning service.
    ServiceNotFound {
        /// The service UUID.
        service: Uuid,
    },
    /// A GATT read or write was refused with an ATT error.
    Att {
        /// The operation refused.
        operation: AttOperation,
        /// The ATT error code.
        code: u8,
    },
    /// A value exceeded what the attribute can hold.
    ValueTooLong {
        /// Size of the value.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The stack did not complete the operation in time.
    Timeout,
    /// Any other stack failure.
    Other {
        /// What the stack said.
        reason: String,
    },
}

/// The operation in words (`read`, `write`, `service discovery`), as the core's messages name it.
#[uniffi::export]
pub fn describe_att_operation(operation: AttOperation) -> String {
    operation.to_string()
}

impl fmt::Display for BleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::BleError::from(self.clone()).fmt(f)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for BleError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { reason: error.reason }
    }
}

impl From<core::BleError> for BleError {
    fn from(error: core::BleError) -> Self {
        match error {
            core::BleError::Unavailable(reason) => Self::Unavailable { reason },
            core::BleError::NotFound(peripheral_id) => Self::NotFound { peripheral_id },
            core::BleError::ConnectFailed(reason) => Self::ConnectFailed { reason },
            core::BleError::Disconnected => Self::Disconnected,
            core::BleError::ServiceNotFound(service) => Self::ServiceNotFound { service },
            core::BleError::Att { operation, code } => Self::Att { operation, code },
            core::BleError::ValueTooLong { len, max } => {
                Self::ValueTooLong { len: len as u64, max: max as u64 }
            }
            core::BleError::Timeout => Self::Timeout,
            core::BleError::Other(reason) => Self::Other { reason },
        }
    }
}

impl From<BleError> for core::BleError {
    fn from(error: BleError) -> Self {
        match error {
            BleError::Unavailable { reason } => Self::Unavailable(reason),
            BleError::NotFound { peripheral_id } => Self::NotFound(peripheral_id),
            BleError::ConnectFailed { reason } => Self::ConnectFailed(reason),
            BleError::Disconnected => Self::Disconnected,
            BleError::ServiceNotFound { service } => Self::ServiceNotFound(service),
            BleError::Att { operation, code } => Self::Att { operation, code },
            BleError::ValueTooLong { len, max } => Self::ValueTooLong {
                len: usize::try_from(len).unwrap_or(usize::MAX),
                max: usize::try_from(max).unwrap_or(usize::MAX),
            },
            BleError::Timeout => Self::Timeout,
            BleError::Other { reason } => Self::Other(reason),
        }
    }
}

/// The core central behind an FFI central: a central the library made itself (the platform's
/// through btleplug, the simulator's) goes to the core directly, without crossing the FFI twice
/// per operation; a shell's central is adapted.
pub(crate) fn core_central(central: Arc<dyn BleCentral>) -> Arc<dyn core::BleCentral> {
    #[cfg(any(feature = "btleplug", feature = "sim"))]
    {
        let any: Arc<dyn Any + Send + Sync> = central.clone();
        if let Ok(native) = any.downcast::<NativeBleCentral>() {
            return Arc::clone(&native.0);
        }
    }
    Arc::new(ForeignBleCentral(central))
}

/// A shell's central seen as the core's central.
struct ForeignBleCentral(Arc<dyn BleCentral>);

#[async_trait]
impl core::BleCentral for ForeignBleCentral {
    async fn start_scan(
        &self,
        filter: core::ScanFilter,
        listener: Arc<dyn core::AdvertisementListener>,
    ) -> Result<(), core::BleError> {
        Ok(self.0.start_scan(filter, Arc::new(AdvertisementSink { listener })).await?)
    }

    async fn stop_scan(&self) -> Result<(), core::BleError> {
        Ok(self.0.stop_scan().await?)
    }

    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn core::BleConnection>, core::BleError> {
        let link = self.0.connect(peripheral_id.to_owned()).await?;
        Ok(Box::new(ForeignBleConnection(Arc::clone(&link.connection))))
    }
}

/// A shell's connection seen as the core's connection.
struct ForeignBleConnection(Arc<dyn BleConnection>);

#[async_trait]
impl core::BleConnection for ForeignBleConnection {
    fn mtu(&self) -> u16 {
        self.0.mtu()
    }

    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, core::BleError> {
        Ok(self.0.discover(service).await?)
    }

    async fn write(&self, characteristic: Uuid, value: &[u8]) -> Result<(), core::BleError> {
        Ok(self.0.write(characteristic, value.to_vec()).await?)
    }

    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, core::BleError> {
        Ok(self.0.read(characteristic).await?)
    }

    async fn subscribe(
        &self,
        characteristic: Uuid,
        listener: Arc<dyn core::NotificationListener>,
    ) -> Result<(), core::BleError> {
        Ok(self.0.subscribe(characteristic, NotificationSink::new(listener)).await?)
    }

    async fn disconnect(&self) {
        self.0.disconnect().await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    const SERVICE: &str = "1775244d-6b43-439b-877c-060f2d9bed07";

    #[derive(Default)]
    struct Heard(Mutex<Vec<core::Advertisement>>);

    impl core::AdvertisementListener for Heard {
        fn on_advertisement(&self, advertisement: core::Advertisement) {
            self.0.lock().unwrap().push(advertisement);
        }
    }

    /// A core central that finds nothing.
    struct Empty;

    #[async_trait]
    impl core::BleCentral for Empty {
        async fn start_scan(
            &self,
            _filter: core::ScanFilter,
            _listener: Arc<dyn core::AdvertisementListener>,
        ) -> Result<(), core::BleError> {
            Ok(())
        }

        async fn stop_scan(&self) -> Result<(), core::BleError> {
            Ok(())
        }

        async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn core::BleConnection>, core::BleError> {
            Err(core::BleError::NotFound(peripheral_id.to_owned()))
        }
    }

    /// A shell's central (here written in Rust, as a foreign one would be seen).
    struct Shell;

    #[async_trait]
    impl BleCentral for Shell {
        async fn start_scan(
            &self,
            _filter: ScanFilter,
            _sink: Arc<AdvertisementSink>,
        ) -> Result<(), BleError> {
            Ok(())
        }

        async fn stop_scan(&self) -> Result<(), BleError> {
            Ok(())
        }

        async fn connect(&self, peripheral_id: String) -> Result<Arc<BleLink>, BleError> {
            Err(BleError::NotFound { peripheral_id })
        }
    }

    #[cfg(any(feature = "btleplug", feature = "sim"))]
    #[tokio::test]
    async fn the_library_s_own_central_reaches_the_core_directly_and_a_shell_s_is_adapted() {
        let inner: Arc<dyn core::BleCentral> = Arc::new(Empty);
        let native: Arc<dyn BleCentral> = Arc::new(NativeBleCentral(Arc::clone(&inner)));
        assert!(Arc::ptr_eq(&core_central(native), &inner), "no FFI wrapper around the core's own central");
        let adapted = core_central(Arc::new(Shell));
        let error = adapted.connect("AA:BB").await.err().expect("the shell's answer");
        assert_eq!(error, core::BleError::NotFound("AA:BB".into()));
    }

    fn service() -> Uuid {
        Uuid::parse_str(SERVICE).unwrap()
    }

    #[test]
    fn advertisements_reach_the_core_whole() {
        let heard = Arc::new(Heard::default());
        let sink = AdvertisementSink { listener: heard.clone() };
        sink.on_advertisement(Advertisement {
            peripheral_id: "AA:BB:CC:DD:EE:FF".into(),
            local_name: Some("PROV_1A2B3C".into()),
            rssi: -60,
            service_uuids: vec![service()],
            manufacturer_data: BTreeMap::from([(0x02E5, vec![1, 2])]),
            service_data: BTreeMap::from([(service(), vec![3])]),
            tx_power: Some(4),
        });
        let heard = heard.0.lock().unwrap();
        assert_eq!(heard.len(), 1);
        assert_eq!(heard[0].service_uuids, vec![service()]);
        assert_eq!(heard[0].service_data.get(&service()), Some(&vec![3]));
        assert_eq!(heard[0].manufacturer_data.get(&0x02E5), Some(&vec![1, 2]));
    }

    #[test]
    fn errors_keep_the_core_meaning_and_message() {
        let cases = [
            (BleError::Unavailable { reason: "off".into() }, core::BleError::Unavailable("off".into())),
            (BleError::Disconnected, core::BleError::Disconnected),
            (BleError::ServiceNotFound { service: service() }, core::BleError::ServiceNotFound(service())),
            (
                BleError::Att { operation: AttOperation::Write, code: 5 },
                core::BleError::Att { operation: AttOperation::Write, code: 5 },
            ),
            (
                BleError::ValueTooLong { len: 600, max: 512 },
                core::BleError::ValueTooLong { len: 600, max: 512 },
            ),
        ];
        for (ffi, expected) in cases {
            assert_eq!(ffi.to_string(), expected.to_string());
            assert_eq!(BleError::from(expected.clone()), ffi);
            assert_eq!(core::BleError::from(ffi), expected);
        }
    }

    #[derive(Default)]
    struct Notified(Mutex<Vec<(Uuid, Vec<u8>)>>);

    impl core::NotificationListener for Notified {
        fn on_notification(&self, characteristic: Uuid, value: Vec<u8>) {
            self.0.lock().unwrap().push((characteristic, value));
        }
    }

    #[test]
    fn notifications_reach_the_core_listener() {
        let notified = Arc::new(Notified::default());
        let sink = NotificationSink::new(notified.clone());
        sink.on_notification(service(), vec![1]);
        assert_eq!(*notified.0.lock().unwrap(), vec![(service(), vec![1])]);
    }

    #[test]
    fn the_shell_filters_scans_by_the_core_s_rule() {
        let filter = ScanFilter { service_uuids: vec![service()], name_prefixes: vec!["PROV_".into()] };
        let named = |name: &str| Advertisement {
            peripheral_id: "AA:BB:CC:DD:EE:FF".into(),
            local_name: Some(name.into()),
            rssi: -60,
            service_uuids: Vec::new(),
            manufacturer_data: BTreeMap::new(),
            service_data: BTreeMap::new(),
            tx_power: None,
        };
        assert!(scan_filter_matches(filter.clone(), named("prov_1a2b3c")));
        assert!(!scan_filter_matches(filter.clone(), named("Headphones")));
        assert!(
            scan_filter_platform_services(filter.clone()).is_empty(),
            "name prefixes: no platform filter"
        );
        let by_service = ScanFilter { name_prefixes: Vec::new(), ..filter };
        assert_eq!(scan_filter_platform_services(by_service), vec![service()]);
    }
}
