//! BLE transport: protocomm over GATT. Each endpoint is a characteristic named by its 0x2901
//! User Description; an exchange writes the request with response, then reads the reply back
//! from the same characteristic. The session lives as long as the connection.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{Transport, TransportError, TransportKind, check_request};
use crate::platform::ble::{BleCentral, BleConnection, BleError, MAX_ATTRIBUTE_LEN};

/// Default time one exchange (write and read) may take.
pub const DEFAULT_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Protocomm over a GATT connection.
pub struct BleTransport {
    connection: Box<dyn BleConnection>,
    endpoints: HashMap<String, Uuid>,
    timeout: Duration,
    in_flight: Mutex<()>,
}

impl BleTransport {
    /// Connects to a peripheral and maps the provisioning service's endpoints by their 0x2901
    /// descriptors.
    pub async fn connect(
        central: &dyn BleCentral,
        peripheral_id: &str,
        service: Uuid,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let connection = tokio::time::timeout(timeout, central.connect(peripheral_id))
            .await
            .map_err(|_| BleError::Timeout)??;
        Self::over(connection, service, timeout).await
    }

    /// Uses an established connection; discovers the service and builds the endpoint map.
    pub async fn over(
        connection: Box<dyn BleConnection>,
        service: Uuid,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let discovered = tokio::time::timeout(timeout, connection.discover(service)).await;
        let characteristics = match discovered {
            Ok(Ok(characteristics)) => characteristics,
            Ok(Err(error)) => {
                connection.disconnect().await;
                return Err(error.into());
            }
            Err(_) => {
                connection.disconnect().await;
                return Err(BleError::Timeout.into());
            }
        };
        let endpoints: HashMap<String, Uuid> = characteristics
            .into_iter()
            .filter_map(|c| Some((c.user_description?.trim_end_matches('\0').to_owned(), c.uuid)))
            .collect();
        if endpoints.is_empty() {
            connection.disconnect().await;
            return Err(BleError::ServiceNotFound(service).into());
        }
        tracing::debug!(endpoints = ?endpoints.keys().collect::<Vec<_>>(), mtu = connection.mtu(), "ble endpoints mapped");
        Ok(Self { connection, endpoints, timeout, in_flight: Mutex::new(()) })
    }

    /// The endpoint names the device offers.
    pub fn endpoint_names(&self) -> impl Iterator<Item = &str> {
        self.endpoints.keys().map(String::as_str)
    }

    async fn write_then_read(&self, characteristic: Uuid, request: &[u8]) -> Result<Vec<u8>, BleError> {
        self.connection.write(characteristic, request).await?;
        self.connection.read(characteristic).await
    }
}

#[async_trait]
impl Transport for BleTransport {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        check_request(endpoint, request, MAX_ATTRIBUTE_LEN)?;
        let characteristic = *self
            .endpoints
            .get(endpoint)
            .ok_or_else(|| TransportError::UnknownEndpoint(endpoint.to_owned()))?;
        let _one_at_a_time = self.in_flight.lock().await;
        let reply = tokio::time::timeout(self.timeout, self.write_then_read(characteristic, request))
            .await
            .map_err(|_| TransportError::Timeout { endpoint: endpoint.to_owned(), after: self.timeout })?
            .map_err(|error| match error {
                BleError::Disconnected => TransportError::SessionLost { endpoint: endpoint.to_owned() },
                other => TransportError::Ble(other),
            })?;
        if reply.is_empty() {
            return Err(TransportError::EmptyReply(endpoint.to_owned()));
        }
        tracing::trace!(endpoint, request_len = request.len(), reply_len = reply.len(), "ble exchange");
        Ok(reply)
    }

    fn max_message_len(&self) -> usize {
        MAX_ATTRIBUTE_LEN
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Ble
    }

    async fn close(&self) {
        self.connection.disconnect().await;
    }
}
