//! Improv over BLE (improv-wifi.com `ble.md`): the GATT service, the advertisement's service
//! data, and the link that writes commands to the RPC characteristic and hears state, error and
//! result notifications.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::ImprovError;
use super::client::{Event, ImprovClient, ImprovLink, ImprovTimeouts};
use super::frame::{Capabilities, Command, DeviceFault, FrameError, RpcResult, State};
use crate::platform::ble::{Advertisement, BleConnection, BleError, NotificationListener};

/// The Improv GATT service.
pub const SERVICE_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8000);
/// Current state (read, notify; 1 byte).
pub const STATE_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8001);
/// Error state (read, notify; 1 byte).
pub const ERROR_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8002);
/// RPC command (write).
pub const RPC_COMMAND_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8003);
/// RPC result (read, notify).
pub const RPC_RESULT_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8004);
/// Capabilities (read; 1 byte).
pub const CAPABILITIES_UUID: Uuid = Uuid::from_u128(0x0046_7768_6228_2272_4663_2774_7826_8005);
/// The 16-bit UUID `0x4677` of the advertisement's service data, in 128-bit form.
pub const SERVICE_DATA_UUID: Uuid = Uuid::from_u128(0x0000_4677_0000_1000_8000_0080_5f9b_34fb);

/// What a 2.0+ device advertises under `0x4677`: `[state, capabilities, 0, 0, 0, 0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceData {
    /// The device's state.
    pub state: State,
    /// Its capabilities.
    pub capabilities: Capabilities,
}

impl ServiceData {
    /// Reads the service data of an advertisement, if it carries Improv's.
    pub fn from_advertisement(advertisement: &Advertisement) -> Option<Result<Self, FrameError>> {
        Self::find(&advertisement.service_data)
    }

    /// Reads Improv's entry among service data by UUID, if there is one.
    pub fn find(service_data: &BTreeMap<Uuid, Vec<u8>>) -> Option<Result<Self, FrameError>> {
        service_data.get(&SERVICE_DATA_UUID).map(|data| Self::decode(data))
    }

    /// Reads the six bytes (the reserved four are not checked, as later revisions may use them).
    pub fn decode(data: &[u8]) -> Result<Self, FrameError> {
        let [state, capabilities, ..] = data else {
            return Err(FrameError::TooShort { len: data.len() });
        };
        Ok(Self { state: State::from_byte(*state)?, capabilities: Capabilities(*capabilities) })
    }

    /// The six bytes.
    pub fn encode(self) -> [u8; 6] {
        [self.state.byte(), self.capabilities.0, 0, 0, 0, 0]
    }
}

/// Opens Improv on a connected peripheral: checks the service, subscribes to state, error and
/// result notifications, then reads state and capabilities.
pub async fn open(
    connection: Box<dyn BleConnection>,
    timeouts: ImprovTimeouts,
) -> Result<ImprovClient, ImprovError> {
    let characteristics = match connection.discover(SERVICE_UUID).await {
        Ok(found) => found,
        Err(BleError::ServiceNotFound(_)) => return Err(ImprovError::NotImprov),
        Err(error) => return Err(error.into()),
    };
    let offered = |uuid| characteristics.iter().any(|c| c.uuid == uuid);
    if ![STATE_UUID, ERROR_UUID, RPC_COMMAND_UUID, RPC_RESULT_UUID, CAPABILITIES_UUID]
        .into_iter()
        .all(offered)
    {
        return Err(ImprovError::NotImprov);
    }
    let (sender, events) = mpsc::unbounded_channel();
    let listener: Arc<dyn NotificationListener> = Arc::new(Notifications(sender));
    for characteristic in [STATE_UUID, ERROR_UUID, RPC_RESULT_UUID] {
        connection.subscribe(characteristic, Arc::clone(&listener)).await?;
    }
    let state = State::from_byte(one_byte(&connection.read(STATE_UUID).await?)?)?;
    let capabilities = Capabilities(one_byte(&connection.read(CAPABILITIES_UUID).await?)?);
    tracing::debug!(?state, ?capabilities, "improv: opened over ble");
    Ok(ImprovClient::new(Box::new(BleLink(connection)), events, state, Some(capabilities), timeouts))
}

fn one_byte(value: &[u8]) -> Result<u8, FrameError> {
    value.first().copied().ok_or(FrameError::TooShort { len: 0 })
}

/// Turns notifications into events.
struct Notifications(mpsc::UnboundedSender<Result<Event, ImprovError>>);

impl NotificationListener for Notifications {
    fn on_notification(&self, characteristic: Uuid, value: Vec<u8>) {
        let event = match characteristic {
            STATE_UUID => one_byte(&value).and_then(State::from_byte).map(Event::State),
            ERROR_UUID => one_byte(&value).map(|byte| Event::Error(DeviceFault::from_byte(byte))),
            RPC_RESULT_UUID => RpcResult::decode_ble(&value).map(Event::Result),
            _ => return,
        };
        // The client may be gone already; nothing to do then.
        let _ = self.0.send(event.map_err(ImprovError::from));
    }
}

struct BleLink(Box<dyn BleConnection>);

#[async_trait]
impl ImprovLink for BleLink {
    async fn send(&self, command: &Command) -> Result<(), ImprovError> {
        let frame = command.encode_ble()?;
        Ok(self.0.write(RPC_COMMAND_UUID, &frame).await?)
    }

    async fn close(&self) {
        self.0.disconnect().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_data_is_read_without_connecting() {
        let data = ServiceData { state: State::AuthorizationRequired, capabilities: Capabilities(0x01) };
        assert_eq!(data.encode(), [0x01, 0x01, 0, 0, 0, 0]);
        let mut advertisement = Advertisement::esp_adv_ind("AA", SERVICE_UUID, -50);
        assert_eq!(ServiceData::from_advertisement(&advertisement), None);
        advertisement.service_data.insert(SERVICE_DATA_UUID, data.encode().to_vec());
        assert_eq!(ServiceData::from_advertisement(&advertisement), Some(Ok(data)));
        assert_eq!(ServiceData::decode(&[0x09, 0, 0, 0, 0, 0]), Err(FrameError::UnknownState(9)));
        assert_eq!(ServiceData::decode(&[0x01]), Err(FrameError::TooShort { len: 1 }));
    }

    #[test]
    fn service_data_uuid_is_the_16_bit_0x4677() {
        assert_eq!(SERVICE_DATA_UUID.to_string(), "00004677-0000-1000-8000-00805f9b34fb");
        assert_eq!(SERVICE_UUID.to_string(), "00467768-6228-2272-4663-277478268000");
    }
}
