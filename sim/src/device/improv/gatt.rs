//! The simulated Improv device's GATT server: the five characteristics of the Improv service,
//! notifications in the order the device sends them (one queue per link, as ATT has), values cut
//! to MTU − 3 as a real notification is, and the advertisement with the `0x4677` service data.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use unbox_core::improv::ble::{
    CAPABILITIES_UUID, ERROR_UUID, RPC_COMMAND_UUID, RPC_RESULT_UUID, SERVICE_DATA_UUID, SERVICE_UUID,
    STATE_UUID,
};
use unbox_core::improv::{DeviceFault, RpcResult};
use unbox_core::platform::ble::{
    Advertisement, AttOperation, BleConnection, BleError, GattCharacteristic, NotificationListener,
};
use uuid::Uuid;

use super::{ImprovOutput, SimImprovDevice, lock};

/// ATT error: Invalid Handle.
const ATT_INVALID_HANDLE: u8 = 0x01;
/// ATT error: Write Not Permitted.
const ATT_WRITE_NOT_PERMITTED: u8 = 0x03;

/// How a simulated Improv device appears over BLE.
#[derive(Debug, Clone)]
pub struct SimImprovPeripheral {
    /// The stack's identifier for it.
    pub peripheral_id: String,
    /// The device behind the radio.
    pub device: SimImprovDevice,
    /// The ATT MTU the device agrees to (ESPHome's NimBLE/Bluedroid: 517 asked, ~247 typical).
    pub mtu: u16,
    /// Signal strength.
    pub rssi: i16,
    connected: Arc<AtomicBool>,
}

impl SimImprovPeripheral {
    /// A peripheral for `device` with MTU 247.
    pub fn new(peripheral_id: impl Into<String>, device: SimImprovDevice) -> Self {
        Self { peripheral_id: peripheral_id.into(), device, mtu: 247, rssi: -55, connected: Arc::default() }
    }

    /// Whether it advertises now: ESPHome stops once provisioned, and while a central is connected.
    pub fn advertising(&self) -> bool {
        !self.connected.load(Ordering::SeqCst)
            && self.device.state() != unbox_core::improv::State::Provisioned
    }

    /// The two reports of one advertising event: the ADV_IND with the service UUID and the
    /// service data (the spec wants both in the advertisement itself), and the scan response
    /// with the name.
    pub fn advertising_event(&self, jitter: i16) -> [Advertisement; 2] {
        let adv_ind = Advertisement {
            peripheral_id: self.peripheral_id.clone(),
            local_name: None,
            rssi: self.rssi + jitter,
            service_uuids: vec![SERVICE_UUID],
            manufacturer_data: BTreeMap::new(),
            service_data: BTreeMap::from([(SERVICE_DATA_UUID, self.device.service_data().encode().to_vec())]),
            tx_power: None,
        };
        let scan_response = Advertisement {
            local_name: Some(self.device.name()),
            service_uuids: Vec::new(),
            service_data: BTreeMap::new(),
            ..adv_ind.clone()
        };
        [adv_ind, scan_response]
    }

    /// Connects a central; one at a time.
    pub fn connect(&self) -> Result<Box<dyn BleConnection>, BleError> {
        if !self.advertising() {
            return Err(if self.connected.load(Ordering::SeqCst) {
                BleError::ConnectFailed("the device already has a central connected".into())
            } else {
                BleError::NotFound(self.peripheral_id.clone())
            });
        }
        self.connected.store(true, Ordering::SeqCst);
        Ok(Box::new(ImprovGattConnection {
            peripheral: self.clone(),
            outputs: Mutex::new(Some(self.device.outputs())),
            listeners: Arc::default(),
            forwarding: Mutex::new(None),
            link_up: Arc::new(AtomicBool::new(true)),
        }))
    }
}

type Listeners = Arc<Mutex<HashMap<Uuid, Arc<dyn NotificationListener>>>>;

struct ImprovGattConnection {
    peripheral: SimImprovPeripheral,
    /// What the device announced since the link came up, until the first subscription.
    outputs: Mutex<Option<broadcast::Receiver<ImprovOutput>>>,
    listeners: Listeners,
    forwarding: Mutex<Option<JoinHandle<()>>>,
    link_up: Arc<AtomicBool>,
}

impl ImprovGattConnection {
    fn check_link(&self) -> Result<(), BleError> {
        if self.link_up.load(Ordering::SeqCst) { Ok(()) } else { Err(BleError::Disconnected) }
    }

    fn close(&self) {
        if self.link_up.swap(false, Ordering::SeqCst) {
            self.peripheral.connected.store(false, Ordering::SeqCst);
        }
        if let Some(task) = lock(&self.forwarding).take() {
            task.abort();
        }
    }
}

fn result_value(result: &RpcResult, corrupt: bool) -> Vec<u8> {
    let mut value = result.encode_ble().unwrap_or_default();
    if let (true, Some(sum)) = (corrupt, value.last_mut()) {
        *sum ^= 0xff;
    }
    value
}

/// Sends the device's announcements to the subscribed characteristics, in order.
async fn forward(
    mut outputs: broadcast::Receiver<ImprovOutput>,
    listeners: Listeners,
    peripheral: SimImprovPeripheral,
    link_up: Arc<AtomicBool>,
) {
    let corrupt = peripheral.device.config().faults.corrupt_results;
    let max = usize::from(peripheral.mtu.saturating_sub(3));
    while let Ok(output) = outputs.recv().await {
        let (characteristic, mut value) = match output {
            ImprovOutput::State(state) => (STATE_UUID, vec![state.byte()]),
            ImprovOutput::Error(fault) => (ERROR_UUID, vec![fault.map_or(0, DeviceFault::byte)]),
            ImprovOutput::Result(result) => (RPC_RESULT_UUID, result_value(&result, corrupt)),
            ImprovOutput::LinkDropped => {
                link_up.store(false, Ordering::SeqCst);
                peripheral.connected.store(false, Ordering::SeqCst);
                return;
            }
        };
        // A notification carries at most MTU − 3 bytes.
        value.truncate(max);
        let listener = lock(&listeners).get(&characteristic).cloned();
        if let Some(listener) = listener {
            listener.on_notification(characteristic, value);
        }
    }
}

#[async_trait]
impl BleConnection for ImprovGattConnection {
    fn mtu(&self) -> u16 {
        self.peripheral.mtu
    }

    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError> {
        self.check_link()?;
        if service != SERVICE_UUID {
            return Err(BleError::ServiceNotFound(service));
        }
        Ok([STATE_UUID, ERROR_UUID, RPC_COMMAND_UUID, RPC_RESULT_UUID, CAPABILITIES_UUID]
            .into_iter()
            .map(|uuid| GattCharacteristic { uuid, user_description: None })
            .collect())
    }

    async fn write(&self, characteristic: Uuid, value: &[u8]) -> Result<(), BleError> {
        self.check_link()?;
        match characteristic {
            RPC_COMMAND_UUID => {
                self.peripheral.device.handle_ble(value);
                Ok(())
            }
            STATE_UUID | ERROR_UUID | RPC_RESULT_UUID | CAPABILITIES_UUID => {
                Err(BleError::Att { operation: AttOperation::Write, code: ATT_WRITE_NOT_PERMITTED })
            }
            _ => Err(BleError::Att { operation: AttOperation::Write, code: ATT_INVALID_HANDLE }),
        }
    }

    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError> {
        self.check_link()?;
        let device = &self.peripheral.device;
        Ok(match characteristic {
            STATE_UUID => vec![device.state().byte()],
            ERROR_UUID => vec![device.error().map_or(0, DeviceFault::byte)],
            CAPABILITIES_UUID => vec![device.config().capabilities.0],
            RPC_RESULT_UUID | RPC_COMMAND_UUID => Vec::new(),
            _ => return Err(BleError::Att { operation: AttOperation::Read, code: ATT_INVALID_HANDLE }),
        })
    }

    async fn subscribe(
        &self,
        characteristic: Uuid,
        listener: Arc<dyn NotificationListener>,
    ) -> Result<(), BleError> {
        self.check_link()?;
        if ![STATE_UUID, ERROR_UUID, RPC_RESULT_UUID].contains(&characteristic) {
            // Only these three have a CCCD.
            return Err(BleError::Att { operation: AttOperation::Write, code: ATT_INVALID_HANDLE });
        }
        lock(&self.listeners).insert(characteristic, listener);
        if let Some(outputs) = lock(&self.outputs).take() {
            let task = tokio::spawn(forward(
                outputs,
                Arc::clone(&self.listeners),
                self.peripheral.clone(),
                Arc::clone(&self.link_up),
            ));
            *lock(&self.forwarding) = Some(task);
        }
        Ok(())
    }

    async fn disconnect(&self) {
        self.close();
    }
}

impl Drop for ImprovGattConnection {
    fn drop(&mut self) {
        self.close();
    }
}
