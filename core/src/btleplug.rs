//! The BLE-central seam on btleplug: BlueZ on Linux, CoreBluetooth on macOS and iOS, WinRT on
//! Windows. A thin adapter: btleplug's adapter, events and peripherals are mapped onto
//! [`BleCentral`] and [`BleConnection`]; no protocol logic lives here.
//!
//! # Peripheral ids
//! [`Advertisement::peripheral_id`] is btleplug's `PeripheralId` in string form:
//! - Linux (BlueZ): the D-Bus device path below `/org/bluez/`, e.g. `hci0/dev_24_0A_C4_12_34_56`;
//! - Windows: the MAC address, e.g. `24:0A:C4:12:34:56`;
//! - macOS and iOS: the per-host UUID CoreBluetooth assigns, e.g. `5F1C…-…`; the MAC is hidden.
//!
//! [`BleCentral::connect`] takes that id, or the MAC address (`24:0a:c4:12:34:56`, any case) on
//! stacks that expose one (Linux, Windows). The peripheral must be known to the stack, i.e. have
//! been heard in a scan recently (CoreBluetooth only knows peripherals this process discovered).
//! Stop the scan before connecting, as the ESP mobile SDKs do; some controllers connect poorly
//! while scanning.
//!
//! # MTU and long values
//! [`BleConnection::mtu`] reports what btleplug learns from the stack, at least
//! [`DEFAULT_ATT_MTU`]: BlueZ exposes the exchanged MTU on each characteristic (BlueZ ≥ 5.62,
//! else 23 is reported); CoreBluetooth only exposes the longest write without response, from which
//! btleplug infers the MTU after service discovery; WinRT reports the GATT session's MaxPduSize and
//! its changes. Every stack negotiates the MTU itself on connect and splits a write with response
//! longer than MTU − 3 into Prepare/Execute Writes and a read longer than MTU − 1 into Read Blob
//! requests, so values up to [`MAX_ATTRIBUTE_LEN`] pass whatever the figure says.
//!
//! # User descriptions (0x2901)
//! btleplug discovers descriptors on every platform and reads them with `read_descriptor`; the
//! value arrives as bytes (CoreBluetooth's string value is converted to UTF-8 by btleplug).
//!
//! # Scan filtering
//! Service UUIDs are handed to the stack only when the filter has no name prefixes, because the
//! seam reports devices matching *any* UUID *or* prefix and a stack filter would drop devices that
//! match by name only. Either way every report is filtered here again: BlueZ merges the discovery
//! filters of all its clients, so it reports devices other programs scan for too.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::btleplug::api::{
    BDAddr, Central, CentralEvent, CentralState, Characteristic, Manager as _, Peripheral as _,
    PeripheralProperties, ScanFilter as StackScanFilter, WriteType,
};
use ::btleplug::platform::{Adapter, Manager, Peripheral, PeripheralId};
use async_trait::async_trait;
use futures::StreamExt;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::platform::ble::{
    Advertisement, AdvertisementListener, AttOperation, BleCentral, BleConnection, BleError, DEFAULT_ATT_MTU,
    GattCharacteristic, MAX_ATTRIBUTE_LEN, NotificationListener, ScanFilter,
};

/// The Characteristic User Description descriptor (0x2901) in 128-bit form.
const USER_DESCRIPTION_UUID: Uuid = Uuid::from_u128(0x0000_2901_0000_1000_8000_0080_5f9b_34fb);

/// Longest a connect plus service discovery may take. BlueZ alone allows 30 s for resolving the
/// services of a device it has no cache for; the transport usually gives up sooner.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(35);

/// Longest one GATT read, write or descriptor read may take (a backstop; the transport applies its
/// own, shorter limit to a whole exchange).
const GATT_TIMEOUT: Duration = Duration::from_secs(20);

/// Longest an adapter call that should answer at once (scan start/stop, lookups) may take.
const ADAPTER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest asking the stack whether a link is still up may take.
const LINK_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// [`BleCentral`] on the host's Bluetooth adapter through btleplug.
pub struct BtleplugCentral {
    adapter: Adapter,
    scan: Mutex<Option<AbortOnDrop>>,
}

impl BtleplugCentral {
    /// Opens the first Bluetooth adapter the OS offers. Fails with [`BleError::Unavailable`] when
    /// there is none or the Bluetooth service cannot be reached (e.g. no BlueZ/D-Bus on Linux).
    pub async fn new() -> Result<Self, BleError> {
        let manager = bounded(ADAPTER_TIMEOUT, Manager::new(), Operation::Open, "").await?;
        let adapters = bounded(ADAPTER_TIMEOUT, manager.adapters(), Operation::Open, "").await?;
        let adapter = adapters
            .into_iter()
            .next()
            .ok_or_else(|| BleError::Unavailable("no Bluetooth adapter found".to_owned()))?;
        Ok(Self::from_adapter(adapter))
    }

    /// Uses a specific adapter, e.g. one picked from `Manager::adapters()` by its info string.
    pub fn from_adapter(adapter: Adapter) -> Self {
        Self { adapter, scan: Mutex::new(None) }
    }

    /// Replaces the running scan task (if any) with `task`; `None` just ends it.
    fn replace_scan_task(&self, task: Option<AbortOnDrop>) {
        *self.scan.lock().unwrap_or_else(PoisonError::into_inner) = task;
    }

    /// Turns a scan-start failure into [`BleError::Unavailable`] when Bluetooth is switched off.
    async fn explain_scan_failure(&self, error: BleError) -> BleError {
        let state = tokio::time::timeout(LINK_CHECK_TIMEOUT, self.adapter.adapter_state()).await;
        match state {
            Ok(Ok(CentralState::PoweredOff)) => BleError::Unavailable("Bluetooth is switched off".to_owned()),
            _ => error,
        }
    }

    /// Finds a peripheral the stack knows by its id string or MAC address.
    async fn find_peripheral(&self, peripheral_id: &str) -> Result<Peripheral, BleError> {
        let known =
            bounded(ADAPTER_TIMEOUT, self.adapter.peripherals(), Operation::Connect, peripheral_id).await?;
        known
            .into_iter()
            .find(|peripheral| {
                names_peripheral(peripheral_id, &peripheral.id().to_string(), peripheral.address())
            })
            .ok_or_else(|| BleError::NotFound(peripheral_id.to_owned()))
    }
}

#[async_trait]
impl BleCentral for BtleplugCentral {
    async fn start_scan(
        &self,
        filter: ScanFilter,
        listener: Arc<dyn AdvertisementListener>,
    ) -> Result<(), BleError> {
        // Subscribe before scanning so that no report is missed.
        let events = bounded(ADAPTER_TIMEOUT, self.adapter.events(), Operation::Scan, "").await?;
        let started = bounded(
            ADAPTER_TIMEOUT,
            self.adapter.start_scan(StackScanFilter { services: filter.platform_services() }),
            Operation::Scan,
            "",
        )
        .await;
        if let Err(error) = started {
            return Err(self.explain_scan_failure(error).await);
        }
        let adapter = self.adapter.clone();
        let task = tokio::spawn(async move {
            let mut events = events;
            while let Some(event) = events.next().await {
                let Some(id) = advertised_peripheral(&event) else { continue };
                let Some(advertisement) = read_advertisement(&adapter, id).await else { continue };
                if filter.matches(&advertisement) {
                    listener.on_advertisement(advertisement);
                }
            }
            tracing::debug!("btleplug event stream ended");
        });
        self.replace_scan_task(Some(AbortOnDrop(task)));
        Ok(())
    }

    async fn stop_scan(&self) -> Result<(), BleError> {
        self.replace_scan_task(None);
        bounded(ADAPTER_TIMEOUT, self.adapter.stop_scan(), Operation::Scan, "").await
    }

    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn BleConnection>, BleError> {
        let peripheral = self.find_peripheral(peripheral_id).await?;
        // A link left over from an earlier run carries that run's protocomm session: start afresh.
        // This happens before subscribing, so its disconnect is not taken for a drop of ours.
        if matches!(tokio::time::timeout(LINK_CHECK_TIMEOUT, peripheral.is_connected()).await, Ok(Ok(true))) {
            tracing::debug!(peripheral_id, "dropping a stale link before connecting");
            let _ = tokio::time::timeout(GATT_TIMEOUT, peripheral.disconnect()).await;
        }
        let link_dropped = Arc::new(AtomicBool::new(false));
        let events =
            bounded(ADAPTER_TIMEOUT, self.adapter.events(), Operation::Connect, peripheral_id).await?;
        let watcher =
            AbortOnDrop(tokio::spawn(watch_link(events, peripheral.id(), Arc::clone(&link_dropped))));

        let established = bounded(
            CONNECT_TIMEOUT,
            async {
                peripheral.connect().await?;
                peripheral.discover_services().await
            },
            Operation::Connect,
            peripheral_id,
        )
        .await;
        if let Err(error) = established {
            let _ = tokio::time::timeout(GATT_TIMEOUT, peripheral.disconnect()).await;
            return Err(error);
        }
        tracing::debug!(peripheral_id, mtu = peripheral.mtu(), "ble connected");
        Ok(Box::new(BtleplugConnection {
            peripheral,
            peripheral_id: peripheral_id.to_owned(),
            link_dropped,
            closed: AtomicBool::new(false),
            listeners: Arc::default(),
            notifications: Mutex::new(None),
            _watcher: watcher,
        }))
    }
}

/// A GATT connection through btleplug. Dropping it without [`BleConnection::disconnect`] still
/// disconnects (in a background task), so that no link and no device session is left behind.
pub struct BtleplugConnection {
    peripheral: Peripheral,
    peripheral_id: String,
    link_dropped: Arc<AtomicBool>,
    closed: AtomicBool,
    listeners: Arc<Mutex<BTreeMap<Uuid, Arc<dyn NotificationListener>>>>,
    /// Hands the peripheral's notifications to `listeners`; started by the first subscription.
    notifications: Mutex<Option<AbortOnDrop>>,
    _watcher: AbortOnDrop,
}

impl BtleplugConnection {
    /// Whether the link is known to be gone: a disconnect event arrived, or the stack says so.
    async fn link_lost(&self) -> bool {
        if self.link_dropped.load(Ordering::SeqCst) || self.closed.load(Ordering::SeqCst) {
            return true;
        }
        matches!(
            tokio::time::timeout(LINK_CHECK_TIMEOUT, self.peripheral.is_connected()).await,
            Ok(Ok(false))
        )
    }

    /// Runs one GATT operation with the timeout, reporting a dropped link as
    /// [`BleError::Disconnected`] whatever error the stack gave.
    async fn gatt<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = ::btleplug::Result<T>>,
    ) -> Result<T, BleError> {
        if self.link_dropped.load(Ordering::SeqCst) || self.closed.load(Ordering::SeqCst) {
            return Err(BleError::Disconnected);
        }
        match bounded(GATT_TIMEOUT, call, operation, &self.peripheral_id).await {
            Ok(value) => Ok(value),
            Err(BleError::Timeout) => Err(BleError::Timeout),
            Err(_) if self.link_lost().await => Err(BleError::Disconnected),
            Err(error) => Err(error),
        }
    }

    /// The characteristic with `uuid` among the discovered services.
    fn characteristic(&self, uuid: Uuid) -> Result<Characteristic, BleError> {
        self.peripheral
            .characteristics()
            .into_iter()
            .find(|c| c.uuid == uuid)
            .ok_or_else(|| BleError::Other(format!("the device offers no characteristic {uuid}")))
    }
}

#[async_trait]
impl BleConnection for BtleplugConnection {
    fn mtu(&self) -> u16 {
        self.peripheral.mtu().max(DEFAULT_ATT_MTU)
    }

    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError> {
        if self.link_lost().await {
            return Err(BleError::Disconnected);
        }
        let found = self.peripheral.services().into_iter().find(|s| s.uuid == service);
        let found = found.ok_or(BleError::ServiceNotFound(service))?;
        let mut characteristics = Vec::with_capacity(found.characteristics.len());
        for characteristic in &found.characteristics {
            let descriptor = characteristic.descriptors.iter().find(|d| d.uuid == USER_DESCRIPTION_UUID);
            let user_description = match descriptor {
                Some(descriptor) => {
                    let raw =
                        self.gatt(Operation::Discover, self.peripheral.read_descriptor(descriptor)).await?;
                    user_description_text(&raw)
                }
                None => None,
            };
            characteristics.push(GattCharacteristic { uuid: characteristic.uuid, user_description });
        }
        Ok(characteristics)
    }

    async fn write(&self, characteristic: Uuid, value: &[u8]) -> Result<(), BleError> {
        if value.len() > MAX_ATTRIBUTE_LEN {
            return Err(BleError::ValueTooLong { len: value.len(), max: MAX_ATTRIBUTE_LEN });
        }
        let characteristic = self.characteristic(characteristic)?;
        self.gatt(Operation::Write, self.peripheral.write(&characteristic, value, WriteType::WithResponse))
            .await
    }

    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError> {
        let characteristic = self.characteristic(characteristic)?;
        self.gatt(Operation::Read, self.peripheral.read(&characteristic)).await
    }

    async fn subscribe(
        &self,
        characteristic: Uuid,
        listener: Arc<dyn NotificationListener>,
    ) -> Result<(), BleError> {
        let found = self.characteristic(characteristic)?;
        if self.notifications.lock().unwrap_or_else(PoisonError::into_inner).is_none() {
            let mut values = self.gatt(Operation::Subscribe, self.peripheral.notifications()).await?;
            let listeners = Arc::clone(&self.listeners);
            let task = tokio::spawn(async move {
                while let Some(notification) = values.next().await {
                    let listener = listeners
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(&notification.uuid)
                        .cloned();
                    if let Some(listener) = listener {
                        listener.on_notification(notification.uuid, notification.value);
                    }
                }
            });
            *self.notifications.lock().unwrap_or_else(PoisonError::into_inner) = Some(AbortOnDrop(task));
        }
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).insert(characteristic, listener);
        // btleplug writes the descriptor for indications when the characteristic has no notify.
        self.gatt(Operation::Subscribe, self.peripheral.subscribe(&found)).await
    }

    async fn disconnect(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        match tokio::time::timeout(GATT_TIMEOUT, self.peripheral.disconnect()).await {
            Ok(Ok(())) => tracing::debug!(peripheral_id = %self.peripheral_id, "ble disconnected"),
            Ok(Err(error)) => tracing::debug!(%error, "ble disconnect failed"),
            Err(_) => tracing::debug!("ble disconnect timed out"),
        }
    }
}

impl Drop for BtleplugConnection {
    fn drop(&mut self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let peripheral = self.peripheral.clone();
        runtime.spawn(async move {
            let _ = tokio::time::timeout(GATT_TIMEOUT, peripheral.disconnect()).await;
        });
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Marks the link as dropped when the stack reports that `id` disconnected after it connected.
///
/// Disconnects reported before the connect event (a late report of the stale link `connect`
/// closed) are ignored; every stack reports the connect this watcher was started for.
async fn watch_link(
    mut events: impl futures::Stream<Item = CentralEvent> + Unpin,
    id: PeripheralId,
    link_dropped: Arc<AtomicBool>,
) {
    let mut connected = false;
    while let Some(event) = events.next().await {
        match event {
            CentralEvent::DeviceConnected(peer) if peer == id => connected = true,
            CentralEvent::DeviceDisconnected(peer) if peer == id && connected => {
                tracing::debug!(peripheral_id = %id, "ble link dropped");
                link_dropped.store(true, Ordering::SeqCst);
                return;
            }
            _ => {}
        }
    }
}

/// Reads the properties of the peripheral an event is about, as an advertisement.
async fn read_advertisement(adapter: &Adapter, id: &PeripheralId) -> Option<Advertisement> {
    let peripheral = adapter.peripheral(id).await.ok()?;
    let properties = peripheral.properties().await.ok()??;
    advertisement_from(id.to_string(), properties)
}

/// The peripheral an event reports advertising data for; `None` for other events.
fn advertised_peripheral(event: &CentralEvent) -> Option<&PeripheralId> {
    match event {
        CentralEvent::DeviceDiscovered(id)
        | CentralEvent::DeviceUpdated(id)
        | CentralEvent::ManufacturerDataAdvertisement { id, .. }
        | CentralEvent::ServiceDataAdvertisement { id, .. }
        | CentralEvent::ServicesAdvertisement { id, .. }
        | CentralEvent::RssiUpdate { id, .. } => Some(id),
        CentralEvent::DeviceConnected(_)
        | CentralEvent::DeviceDisconnected(_)
        | CentralEvent::DeviceServicesModified(_)
        | CentralEvent::StateUpdate(_) => None,
    }
}

/// Converts the properties the stack has gathered for a peripheral into an [`Advertisement`].
///
/// `None` when there is no RSSI: the stack is replaying a device from its cache (BlueZ lists every
/// device it has ever seen), not reporting a packet heard now. The advertised name is preferred
/// over the local name because BlueZ's local name is the user-settable alias, which defaults to
/// the address for devices without a name.
fn advertisement_from(peripheral_id: String, properties: PeripheralProperties) -> Option<Advertisement> {
    Some(Advertisement {
        peripheral_id,
        rssi: properties.rssi?,
        local_name: properties.advertisement_name.or(properties.local_name),
        service_uuids: properties.services,
        manufacturer_data: properties.manufacturer_data.into_iter().collect::<BTreeMap<_, _>>(),
        service_data: properties.service_data.into_iter().collect::<BTreeMap<_, _>>(),
        tx_power: properties.tx_power_level,
    })
}

/// Whether `wanted` names a peripheral with this id string or (when the stack exposes one) MAC.
fn names_peripheral(wanted: &str, id: &str, address: BDAddr) -> bool {
    if wanted == id {
        return true;
    }
    address != BDAddr::default() && wanted.parse::<BDAddr>().is_ok_and(|parsed| parsed == address)
}

/// A 0x2901 User Description as text: UTF-8 without trailing NULs; `None` when empty or not UTF-8.
fn user_description_text(raw: &[u8]) -> Option<String> {
    let end = raw.iter().rposition(|&byte| byte != 0).map_or(0, |last| last + 1);
    let text = std::str::from_utf8(raw.get(..end)?).ok()?;
    (!text.is_empty()).then(|| text.to_owned())
}

/// What was being done when btleplug failed; picks the [`BleError`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Open,
    Scan,
    Connect,
    Discover,
    Read,
    Write,
    Subscribe,
}

impl Operation {
    /// The activity, for messages ("… while reading").
    fn activity(self) -> &'static str {
        match self {
            Self::Open => "opening the adapter",
            Self::Scan => "scanning",
            Self::Connect => "connecting",
            Self::Discover => "reading a user description",
            Self::Read => "reading",
            Self::Write => "writing",
            Self::Subscribe => "subscribing to notifications",
        }
    }

    /// The ATT operation, for [`BleError::Att`]; `None` outside GATT.
    fn att_operation(self) -> Option<AttOperation> {
        match self {
            Self::Discover | Self::Read => Some(AttOperation::Read),
            Self::Write | Self::Subscribe => Some(AttOperation::Write),
            Self::Open | Self::Scan | Self::Connect => None,
        }
    }
}

/// Awaits a btleplug call for at most `limit`, mapping its error.
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = ::btleplug::Result<T>>,
    operation: Operation,
    peripheral_id: &str,
) -> Result<T, BleError> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| BleError::Timeout)?
        .map_err(|error| ble_error(error, operation, peripheral_id))
}

/// Maps a btleplug error onto the seam's [`BleError`].
///
/// BlueZ reports every GATT failure as a D-Bus error, so ATT error codes are recovered from its
/// message (`Operation failed with ATT error: 0x0e`). WinRT's `AccessDenied` status and a denied
/// OS permission both arrive as `PermissionDenied`; a device that requires pairing can cause it.
fn ble_error(error: ::btleplug::Error, operation: Operation, peripheral_id: &str) -> BleError {
    use ::btleplug::Error as E;
    match error {
        E::NotConnected => BleError::Disconnected,
        E::TimedOut(_) => BleError::Timeout,
        E::DeviceNotFound if operation == Operation::Connect => BleError::NotFound(peripheral_id.to_owned()),
        E::DeviceNotFound if operation.att_operation().is_some() => BleError::Disconnected,
        E::PermissionDenied => BleError::Unavailable(format!(
            "permission denied while {} (the device may require pairing)",
            operation.activity()
        )),
        E::NoAdapterAvailable => BleError::Unavailable("no Bluetooth adapter found".to_owned()),
        other => {
            let message = other.to_string();
            match (operation.att_operation(), att_error_code(&message)) {
                (Some(operation), Some(code)) => BleError::Att { operation, code },
                _ if operation == Operation::Connect => BleError::ConnectFailed(message),
                _ if operation == Operation::Open => BleError::Unavailable(message),
                _ => BleError::Other(format!("{message} (while {})", operation.activity())),
            }
        }
    }
}

/// The ATT error code in a BlueZ error message, e.g. `0x0e` in
/// `Operation failed with ATT error: 0x0e`.
fn att_error_code(message: &str) -> Option<u8> {
    let (_, rest) = message.split_once("ATT error: 0x")?;
    let digits: String = rest.chars().take_while(char::is_ascii_hexdigit).take(2).collect();
    u8::from_str_radix(&digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    const PROV_SERVICE: Uuid = crate::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;

    fn esp_properties() -> PeripheralProperties {
        PeripheralProperties {
            local_name: Some("my-alias".to_owned()),
            advertisement_name: Some("PROV_12AB34".to_owned()),
            rssi: Some(-58),
            tx_power_level: Some(9),
            services: vec![PROV_SERVICE],
            manufacturer_data: HashMap::from([(0x02e5, vec![1, 2, 3])]),
            service_data: HashMap::from([(PROV_SERVICE, vec![7])]),
            ..PeripheralProperties::default()
        }
    }

    #[test]
    fn properties_become_an_advertisement() {
        let got = advertisement_from("hci0/dev_24_0A_C4_12_34_56".to_owned(), esp_properties());
        assert_eq!(
            got,
            Some(Advertisement {
                peripheral_id: "hci0/dev_24_0A_C4_12_34_56".to_owned(),
                local_name: Some("PROV_12AB34".to_owned()),
                rssi: -58,
                service_uuids: vec![PROV_SERVICE],
                manufacturer_data: BTreeMap::from([(0x02e5, vec![1, 2, 3])]),
                service_data: BTreeMap::from([(PROV_SERVICE, vec![7])]),
                tx_power: Some(9),
            })
        );
    }

    #[test]
    fn local_name_is_used_when_nothing_was_advertised() {
        let properties = PeripheralProperties { advertisement_name: None, ..esp_properties() };
        let got = advertisement_from("id".to_owned(), properties).and_then(|a| a.local_name);
        assert_eq!(got.as_deref(), Some("my-alias"));
    }

    #[test]
    fn cached_devices_without_rssi_are_not_reported() {
        let properties = PeripheralProperties { rssi: None, ..esp_properties() };
        assert_eq!(advertisement_from("id".to_owned(), properties), None);
    }

    #[test]
    fn peripherals_are_named_by_id_or_mac() {
        let address = BDAddr::from([0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56]);
        let id = "hci0/dev_24_0A_C4_12_34_56";
        assert!(names_peripheral(id, id, address));
        assert!(names_peripheral("24:0a:c4:12:34:56", id, address));
        assert!(names_peripheral("24:0A:C4:12:34:56", id, address));
        assert!(!names_peripheral("24:0A:C4:12:34:57", id, address));
        assert!(!names_peripheral("hci1/dev_24_0A_C4_12_34_56", id, address));
        // CoreBluetooth hides the MAC: an all-zero address never matches.
        assert!(!names_peripheral(
            "00:00:00:00:00:00",
            "5f1c0000-0000-0000-0000-000000000000",
            BDAddr::default()
        ));
    }

    #[test]
    fn user_descriptions_lose_trailing_nuls() {
        assert_eq!(user_description_text(b"prov-session").as_deref(), Some("prov-session"));
        assert_eq!(user_description_text(b"prov-config\0").as_deref(), Some("prov-config"));
        assert_eq!(user_description_text(b"proto-ver\0\0\0").as_deref(), Some("proto-ver"));
        assert_eq!(user_description_text(b""), None);
        assert_eq!(user_description_text(b"\0\0"), None);
        assert_eq!(user_description_text(&[0xff, 0xfe]), None);
    }

    #[test]
    fn att_codes_are_read_from_bluez_messages() {
        assert_eq!(att_error_code("Operation failed with ATT error: 0x0e"), Some(0x0e));
        assert_eq!(att_error_code("Operation failed with ATT error: 0x4"), Some(0x04));
        assert_eq!(att_error_code("Operation failed"), None);
        assert_eq!(att_error_code("ATT error: 0x"), None);
    }

    #[test]
    fn btleplug_errors_map_onto_the_seam() {
        use ::btleplug::Error as E;
        let id = "24:0A:C4:12:34:56";
        assert_eq!(ble_error(E::NotConnected, Operation::Write, id), BleError::Disconnected);
        assert_eq!(ble_error(E::DeviceNotFound, Operation::Connect, id), BleError::NotFound(id.to_owned()));
        assert_eq!(ble_error(E::DeviceNotFound, Operation::Read, id), BleError::Disconnected);
        assert_eq!(ble_error(E::TimedOut(Duration::from_secs(5)), Operation::Connect, id), BleError::Timeout);
        assert!(matches!(
            ble_error(E::PermissionDenied, Operation::Scan, id),
            BleError::Unavailable(message) if message.contains("scanning")
        ));
        assert!(matches!(ble_error(E::NoAdapterAvailable, Operation::Open, id), BleError::Unavailable(_)));
        let att = || E::Other("Operation failed with ATT error: 0x04".into());
        assert_eq!(
            ble_error(att(), Operation::Write, id),
            BleError::Att { operation: AttOperation::Write, code: 0x04 }
        );
        assert_eq!(
            ble_error(att(), Operation::Discover, id),
            BleError::Att { operation: AttOperation::Read, code: 0x04 }
        );
        assert_eq!(
            ble_error(E::RuntimeError("Peer removed pairing information".to_owned()), Operation::Connect, id),
            BleError::ConnectFailed("Runtime Error: Peer removed pairing information".to_owned())
        );
        assert_eq!(
            ble_error(E::NotSupported("ProtocolError".to_owned()), Operation::Read, id),
            BleError::Other("The operation is not supported: ProtocolError (while reading)".to_owned())
        );
        assert_eq!(
            ble_error(E::RuntimeError("D-Bus unreachable".to_owned()), Operation::Open, id),
            BleError::Unavailable("Runtime Error: D-Bus unreachable".to_owned())
        );
    }
}
