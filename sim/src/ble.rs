//! An in-memory BLE world implementing [`BleCentral`]: simulated devices advertise (service UUID
//! in the advertisement, name and manufacturer data in the scan response), accept one
//! connection at a time, expose one characteristic per protocomm endpoint with its 0x2901 user
//! description, and serve write-with-response then read. The ATT rules of a real link hold:
//! values up to 512 bytes, the device's own value limit, long writes (Prepare/Execute) and long
//! reads (Read Blob) counted by MTU, disconnect = session lost.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;
use unbox_core::platform::ble::{
    Advertisement, AdvertisementListener, AttOperation, BleCentral, BleConnection, BleError,
    GattCharacteristic, MAX_ATTRIBUTE_LEN, NotificationListener, ScanFilter,
};
use unbox_core::security::SecurityLevel;
use uuid::Uuid;

use crate::device::improv::gatt::SimImprovPeripheral;
use crate::device::{SessionKey, SimDevice};

/// First 16-bit characteristic id of the provisioning service (prov-ctrl).
const FIRST_ENDPOINT_ID: u16 = 0xff4f;
/// ATT error: Invalid Attribute Value Length.
const ATT_INVALID_LENGTH: u8 = 0x0d;
/// ATT error: Invalid Handle.
const ATT_INVALID_HANDLE: u8 = 0x01;
/// ATT error: Request Not Supported (a characteristic without notify or indicate).
const ATT_REQUEST_NOT_SUPPORTED: u8 = 0x06;

/// How a simulated device appears over BLE.
#[derive(Debug, Clone)]
pub struct SimPeripheral {
    /// The stack's identifier for it (a MAC address on Android and Linux).
    pub peripheral_id: String,
    /// The device behind the radio.
    pub device: SimDevice,
    /// Provisioning service UUID.
    pub service: Uuid,
    /// The ATT MTU the device agrees to (NimBLE answers about 256).
    pub mtu: u16,
    /// Signal strength around which advertisements jitter.
    pub rssi: i16,
    /// Manufacturer data in the scan response.
    pub manufacturer_data: BTreeMap<u16, Vec<u8>>,
}

impl SimPeripheral {
    /// A peripheral for `device` with the default service UUID and MTU 256.
    pub fn new(peripheral_id: impl Into<String>, device: SimDevice) -> Self {
        Self {
            peripheral_id: peripheral_id.into(),
            device,
            service: ESP_IDF_DEFAULT_SERVICE_UUID,
            mtu: 256,
            rssi: -60,
            manufacturer_data: BTreeMap::new(),
        }
    }

    /// The largest value the firmware accepts: 481 bytes when sec2 is built in, else 257.
    fn value_limit(&self) -> usize {
        match self.device.config().info().security {
            SecurityLevel::Sec2 => 481,
            _ => 257,
        }
    }
}

/// Characteristic UUID of an endpoint: the service UUID with bytes 2..4 set to the 16-bit id.
pub fn characteristic_uuid(service: Uuid, id: u16) -> Uuid {
    let mut bytes = *service.as_bytes();
    bytes[2..4].copy_from_slice(&id.to_be_bytes());
    Uuid::from_bytes(bytes)
}

/// ATT PDUs exchanged with one peripheral, to show what long values cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttCounters {
    /// Write Requests (values that fit MTU − 3).
    pub writes: u32,
    /// Prepare Write Requests (long writes).
    pub prepare_writes: u32,
    /// Execute Write Requests.
    pub execute_writes: u32,
    /// Read Requests.
    pub reads: u32,
    /// Read Blob Requests (long reads).
    pub read_blobs: u32,
}

impl AttCounters {
    /// All request PDUs.
    pub fn total(&self) -> u32 {
        self.writes + self.prepare_writes + self.execute_writes + self.reads + self.read_blobs
    }
}

struct PeripheralState {
    config: SimPeripheral,
    endpoints: HashMap<Uuid, String>,
    connection: Mutex<Option<u64>>,
    att: Mutex<AttCounters>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The in-memory BLE world: a central that sees the simulated peripherals.
pub struct SimBleCentral {
    peripherals: Vec<Arc<PeripheralState>>,
    improv: Vec<SimImprovPeripheral>,
    advertising_interval: Duration,
    scan: Mutex<Option<JoinHandle<()>>>,
    next_handle: AtomicU64,
}

impl SimBleCentral {
    /// A world with these peripherals, advertising every 100 ms.
    pub fn new(peripherals: Vec<SimPeripheral>) -> Self {
        let peripherals = peripherals
            .into_iter()
            .map(|config| {
                let endpoints = (FIRST_ENDPOINT_ID..)
                    .zip(config.device.endpoint_names())
                    .map(|(id, name)| (characteristic_uuid(config.service, id), name))
                    .collect();
                Arc::new(PeripheralState {
                    config,
                    endpoints,
                    connection: Mutex::new(None),
                    att: Mutex::new(AttCounters::default()),
                })
            })
            .collect();
        Self {
            peripherals,
            improv: Vec::new(),
            advertising_interval: Duration::from_millis(100),
            scan: Mutex::new(None),
            next_handle: AtomicU64::new(1),
        }
    }

    /// Adds Improv Wi-Fi devices to the world, heard in the same scans.
    pub fn with_improv(mut self, peripherals: Vec<SimImprovPeripheral>) -> Self {
        self.improv.extend(peripherals);
        self
    }

    /// ATT PDUs exchanged with a peripheral so far.
    pub fn att_counters(&self, peripheral_id: &str) -> Option<AttCounters> {
        self.find(peripheral_id).map(|p| *lock(&p.att))
    }

    fn find(&self, peripheral_id: &str) -> Option<&Arc<PeripheralState>> {
        self.peripherals.iter().find(|p| p.config.peripheral_id == peripheral_id)
    }
}

impl Drop for SimBleCentral {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.scan).take() {
            task.abort();
        }
    }
}

/// The two packets a device sends per advertising event: ADV_IND (flags + service UUID) and the
/// scan response (name + manufacturer data), as the stack reports them after merging.
fn advertising_event(peripheral: &SimPeripheral, jitter: i16) -> [Advertisement; 2] {
    let adv_ind = Advertisement::esp_adv_ind(
        peripheral.peripheral_id.clone(),
        peripheral.service,
        peripheral.rssi + jitter,
    );
    let scan_response = Advertisement {
        local_name: Some(peripheral.device.config().name.clone()),
        manufacturer_data: peripheral.manufacturer_data.clone(),
        ..adv_ind.clone()
    };
    [adv_ind, scan_response]
}

#[async_trait]
impl BleCentral for SimBleCentral {
    async fn start_scan(
        &self,
        filter: ScanFilter,
        listener: Arc<dyn AdvertisementListener>,
    ) -> Result<(), BleError> {
        let peripherals = self.peripherals.clone();
        let improv = self.improv.clone();
        let interval = self.advertising_interval;
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            for round in 0u32.. {
                ticker.tick().await;
                for (index, peripheral) in peripherals.iter().enumerate() {
                    // ESP devices stop advertising while a central is connected.
                    if lock(&peripheral.connection).is_some()
                        || peripheral.config.device.provisioning_stopped()
                    {
                        continue;
                    }
                    let jitter = ((round as usize * 7 + index * 3) % 7) as i16 - 3;
                    for advertisement in advertising_event(&peripheral.config, jitter) {
                        if filter.matches(&advertisement) {
                            listener.on_advertisement(advertisement);
                        }
                    }
                }
                for (index, peripheral) in improv.iter().enumerate().filter(|(_, p)| p.advertising()) {
                    let jitter = ((round as usize * 5 + index * 3) % 7) as i16 - 3;
                    // The stack matches a service filter on the ADV_IND and reports the scan
                    // response of a peripheral it matched.
                    let [adv_ind, scan_response] = peripheral.advertising_event(jitter);
                    if filter.matches(&adv_ind) {
                        listener.on_advertisement(adv_ind);
                        listener.on_advertisement(scan_response);
                    }
                }
            }
        });
        if let Some(previous) = lock(&self.scan).replace(task) {
            previous.abort();
        }
        Ok(())
    }

    async fn stop_scan(&self) -> Result<(), BleError> {
        if let Some(task) = lock(&self.scan).take() {
            task.abort();
        }
        Ok(())
    }

    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn BleConnection>, BleError> {
        if let Some(improv) = self.improv.iter().find(|p| p.peripheral_id == peripheral_id) {
            return improv.connect();
        }
        let peripheral =
            self.find(peripheral_id).ok_or_else(|| BleError::NotFound(peripheral_id.to_owned()))?;
        if peripheral.config.device.provisioning_stopped() {
            return Err(BleError::NotFound(peripheral_id.to_owned()));
        }
        let handle = self.next_handle.fetch_add(1, Ordering::Relaxed) | (1 << 40);
        {
            let mut connection = lock(&peripheral.connection);
            if connection.is_some() {
                return Err(BleError::ConnectFailed("the device already has a central connected".into()));
            }
            *connection = Some(handle);
        }
        Ok(Box::new(SimConnection {
            peripheral: peripheral.clone(),
            handle,
            connected: AtomicBool::new(true),
            values: Mutex::new(HashMap::new()),
        }))
    }
}

struct SimConnection {
    peripheral: Arc<PeripheralState>,
    handle: SessionKey,
    connected: AtomicBool,
    values: Mutex<HashMap<Uuid, Vec<u8>>>,
}

impl SimConnection {
    fn check_link(&self) -> Result<(), BleError> {
        if !self.connected.load(Ordering::SeqCst) {
            return Err(BleError::Disconnected);
        }
        if self.peripheral.config.device.provisioning_stopped() {
            self.drop_link();
            return Err(BleError::Disconnected);
        }
        Ok(())
    }

    fn drop_link(&self) {
        if self.connected.swap(false, Ordering::SeqCst) {
            self.peripheral.config.device.end_session(self.handle);
            let mut connection = lock(&self.peripheral.connection);
            if *connection == Some(self.handle) {
                *connection = None;
            }
        }
    }

    fn payload_per_pdu(&self, header: u16) -> usize {
        usize::from(self.mtu().saturating_sub(header).max(1))
    }
}

#[async_trait]
impl BleConnection for SimConnection {
    fn mtu(&self) -> u16 {
        self.peripheral.config.mtu
    }

    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError> {
        self.check_link()?;
        if service != self.peripheral.config.service {
            return Err(BleError::ServiceNotFound(service));
        }
        let mut characteristics: Vec<GattCharacteristic> = self
            .peripheral
            .endpoints
            .iter()
            .map(|(uuid, name)| GattCharacteristic { uuid: *uuid, user_description: Some(name.clone()) })
            .collect();
        characteristics.sort_by_key(|c| c.uuid);
        Ok(characteristics)
    }

    async fn write(&self, characteristic: Uuid, value: &[u8]) -> Result<(), BleError> {
        self.check_link()?;
        if value.len() > MAX_ATTRIBUTE_LEN {
            return Err(BleError::ValueTooLong { len: value.len(), max: MAX_ATTRIBUTE_LEN });
        }
        let endpoint = self
            .peripheral
            .endpoints
            .get(&characteristic)
            .ok_or(BleError::Att { operation: AttOperation::Write, code: ATT_INVALID_HANDLE })?;
        {
            let mut att = lock(&self.peripheral.att);
            if value.len() > self.payload_per_pdu(3) {
                att.prepare_writes += value.len().div_ceil(self.payload_per_pdu(5)) as u32;
                att.execute_writes += 1;
            } else {
                att.writes += 1;
            }
        }
        if value.len() > self.peripheral.config.value_limit() {
            return Err(BleError::Att { operation: AttOperation::Write, code: ATT_INVALID_LENGTH });
        }
        let device = &self.peripheral.config.device;
        let delay = device.next_reply_delay() + device.config().ble_latency.sample();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match device.handle(self.handle, endpoint, value) {
            Ok(reply) => {
                tracing::info!(
                    endpoint,
                    request_len = value.len(),
                    reply_len = reply.len(),
                    "device: ble exchange"
                );
                lock(&self.values).insert(characteristic, reply);
                Ok(())
            }
            Err(failure) => {
                // Bluedroid drops the link when a handler fails.
                tracing::warn!(%failure, "device: handler failed, dropping the link");
                self.drop_link();
                Err(BleError::Disconnected)
            }
        }
    }

    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError> {
        self.check_link()?;
        if !self.peripheral.endpoints.contains_key(&characteristic) {
            return Err(BleError::Att { operation: AttOperation::Read, code: ATT_INVALID_HANDLE });
        }
        let value = lock(&self.values).get(&characteristic).cloned().unwrap_or_default();
        let per_pdu = self.payload_per_pdu(1);
        let mut att = lock(&self.peripheral.att);
        att.reads += 1;
        att.read_blobs += value.len().saturating_sub(1).checked_div(per_pdu).unwrap_or(0) as u32;
        Ok(value)
    }

    async fn subscribe(
        &self,
        characteristic: Uuid,
        _: Arc<dyn NotificationListener>,
    ) -> Result<(), BleError> {
        self.check_link()?;
        // Protocomm endpoints are read/write only (ESP-IDF `protocomm_ble.c` gives them no CCCD).
        let code = if self.peripheral.endpoints.contains_key(&characteristic) {
            ATT_REQUEST_NOT_SUPPORTED
        } else {
            ATT_INVALID_HANDLE
        };
        Err(BleError::Att { operation: AttOperation::Write, code })
    }

    async fn disconnect(&self) {
        self.drop_link();
    }
}

impl Drop for SimConnection {
    fn drop(&mut self) {
        self.drop_link();
    }
}
