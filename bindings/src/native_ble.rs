//! A Bluetooth LE central implemented in Rust, offered to the shells through the FFI
//! [`BleCentral`] trait: the operating system's central through btleplug
//! ([`platform_ble_central`], feature `btleplug`: CoreBluetooth on iOS, which has no shell
//! central of its own) and the simulator's (feature `sim`). Handed back to the library (to
//! `OnboardingClient` or discovery), it is unwrapped and the core uses it directly
//! ([`crate::ble::core_central`]); the FFI methods here serve a shell that calls it itself.

use std::sync::Arc;

use async_trait::async_trait;
use unbox_core::platform::ble as core;
use uuid::Uuid;

use unbox_core::platform::ble::{GattCharacteristic, ScanFilter};

use crate::ble::{AdvertisementSink, BleCentral, BleConnection, BleError, BleLink, NotificationSink};
use crate::runtime::in_runtime_context;

/// Opens the operating system's Bluetooth central (CoreBluetooth on iOS and macOS, BlueZ on
/// Linux) for `OnboardingClient` and discovery. Fails with
/// `BleError.Unavailable` when the system offers no Bluetooth adapter; a radio that is off
/// or not permitted is reported when scanning starts.
#[cfg(feature = "btleplug")]
#[uniffi::export]
pub async fn platform_ble_central() -> Result<Arc<dyn BleCentral>, BleError> {
    crate::runtime::on_runtime(async {
        let central = unbox_core::btleplug::BtleplugCentral::new().await?;
        Ok(Arc::new(NativeBleCentral(Arc::new(central))) as Arc<dyn BleCentral>)
    })
    .await
}

/// A core central seen through the FFI trait.
pub(crate) struct NativeBleCentral(pub(crate) Arc<dyn core::BleCentral>);

/// Hands the core's advertisements to an FFI sink.
struct SinkListener(Arc<AdvertisementSink>);

impl core::AdvertisementListener for SinkListener {
    fn on_advertisement(&self, advertisement: core::Advertisement) {
        self.0.on_advertisement(advertisement);
    }
}

#[async_trait]
impl BleCentral for NativeBleCentral {
    async fn start_scan(&self, filter: ScanFilter, sink: Arc<AdvertisementSink>) -> Result<(), BleError> {
        in_runtime_context(async move { Ok(self.0.start_scan(filter, Arc::new(SinkListener(sink))).await?) })
            .await
    }

    async fn stop_scan(&self) -> Result<(), BleError> {
        in_runtime_context(async move { Ok(self.0.stop_scan().await?) }).await
    }

    async fn connect(&self, peripheral_id: String) -> Result<Arc<BleLink>, BleError> {
        in_runtime_context(async move {
            let connection = self.0.connect(&peripheral_id).await?;
            Ok(BleLink::new(Arc::new(NativeBleConnection(connection))))
        })
        .await
    }
}

/// A core connection seen through the FFI trait.
struct NativeBleConnection(Box<dyn core::BleConnection>);

#[async_trait]
impl BleConnection for NativeBleConnection {
    fn mtu(&self) -> u16 {
        self.0.mtu()
    }

    async fn discover(&self, service: Uuid) -> Result<Vec<GattCharacteristic>, BleError> {
        in_runtime_context(async move { Ok(self.0.discover(service).await?) }).await
    }

    async fn write(&self, characteristic: Uuid, value: Vec<u8>) -> Result<(), BleError> {
        in_runtime_context(async move { Ok(self.0.write(characteristic, &value).await?) }).await
    }

    async fn read(&self, characteristic: Uuid) -> Result<Vec<u8>, BleError> {
        in_runtime_context(async move { Ok(self.0.read(characteristic).await?) }).await
    }

    async fn subscribe(&self, characteristic: Uuid, sink: Arc<NotificationSink>) -> Result<(), BleError> {
        in_runtime_context(
            async move { Ok(self.0.subscribe(characteristic, Arc::clone(&sink.listener)).await?) },
        )
        .await
    }

    async fn disconnect(&self) {
        in_runtime_context(async move {
            self.0.disconnect().await;
        })
        .await
    }
}
