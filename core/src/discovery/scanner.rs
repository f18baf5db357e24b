//! The running discovery: drives a BLE scan, takes Wi-Fi scan results from the platform, and
//! publishes the merged, sorted device list.
//!
//! The Bluetooth stack calls the listener on its own thread; the listener only hands each
//! advertisement to a bounded channel, and one task owns the [`DiscoveryTable`]. New, renamed
//! and vanished devices are published at once; signal-strength changes and expiry are published
//! every `refresh_interval`, so a list on screen does not reshuffle with every advertisement.
//! The task reads time from tokio, so tests with paused time are deterministic.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::config::{DiscoveryConfig, DiscoveryConfigError};
use super::merge::{DiscoveredDevice, discovered_devices};
use super::softap::WifiNetwork;
use super::table::{DiscoveryTable, Ingested};
use crate::platform::ble::{Advertisement, AdvertisementListener, BleCentral, BleError};

/// A running device discovery. Stop it with [`DiscoveryScanner::stop`]; dropping it also stops
/// the BLE scan (in the background).
#[derive(Debug)]
pub struct DiscoveryScanner {
    devices: watch::Receiver<Vec<DiscoveredDevice>>,
    wifi_networks: watch::Sender<Vec<WifiNetwork>>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), BleError>>,
}

impl DiscoveryScanner {
    /// Starts discovery: a BLE scan on `central` when given (`None` for SoftAP only, e.g. with
    /// Bluetooth off), plus the Wi-Fi networks passed to [`Self::set_wifi_networks`].
    /// Must be called within a tokio runtime.
    pub async fn start(
        config: DiscoveryConfig,
        central: Option<Arc<dyn BleCentral>>,
    ) -> Result<Self, DiscoveryError> {
        let table = DiscoveryTable::new(config)?;
        let (advertisement_sender, advertisements) = mpsc::channel(table.config().advertisement_buffer);
        if let Some(central) = &central {
            let listener = Arc::new(ChannelListener { advertisements: advertisement_sender });
            central.start_scan(table.config().scan_filter(), listener).await?;
        }
        let (devices_sender, devices) = watch::channel(Vec::new());
        let (wifi_networks, wifi_receiver) = watch::channel(Vec::new());
        let (stop, stop_receiver) = oneshot::channel();
        let worker = Worker { table, advertisements, wifi_networks: wifi_receiver, devices: devices_sender };
        let task = tokio::spawn(worker.run(stop_receiver, central));
        Ok(Self { devices, wifi_networks, stop, task })
    }

    /// A receiver of the device list, strongest signal first; it is told of every change.
    pub fn subscribe(&self) -> watch::Receiver<Vec<DiscoveredDevice>> {
        self.devices.clone()
    }

    /// Tells `listener` of every change of the device list, from a task of its own, until the
    /// discovery stops (or is dropped).
    pub fn notify(&self, listener: Arc<dyn DeviceListListener>) {
        let mut changes = self.devices.clone();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                let list = changes.borrow_and_update().clone();
                listener.on_devices_changed(list);
            }
        });
    }

    /// The current device list, strongest signal first.
    pub fn devices(&self) -> Vec<DiscoveredDevice> {
        self.devices.borrow().clone()
    }

    /// Replaces the Wi-Fi scan results with the platform's latest scan; the setup-mode access
    /// points among them join the list until the next call.
    pub fn set_wifi_networks(&self, networks: Vec<WifiNetwork>) {
        self.wifi_networks.send_replace(networks);
    }

    /// Stops the BLE scan and the discovery task.
    pub async fn stop(self) -> Result<(), DiscoveryError> {
        // The task may have ended already (runtime shutting down); then there is nothing to stop.
        let _ = self.stop.send(());
        match self.task.await {
            Ok(stopped) => Ok(stopped?),
            Err(join_error) if join_error.is_panic() => std::panic::resume_unwind(join_error.into_panic()),
            Err(_cancelled) => Ok(()),
        }
    }
}

/// Told of every change of the device list (see [`DiscoveryScanner::notify`]); keep it quick.
pub trait DeviceListListener: Send + Sync {
    /// The whole list, strongest signal first.
    fn on_devices_changed(&self, devices: Vec<DiscoveredDevice>);
}

/// Why discovery could not start or stop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiscoveryError {
    /// The discovery settings are unusable.
    #[error(transparent)]
    Config(#[from] DiscoveryConfigError),
    /// The Bluetooth stack refused to start or stop the scan.
    #[error(transparent)]
    Ble(#[from] BleError),
}

impl DiscoveryError {
    /// Whether starting again can help without the user changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) => false,
            Self::Ble(error) => error.is_retryable(),
        }
    }

    /// What the app should offer: support for unusable settings (the app's), the Bluetooth
    /// failure's own action otherwise.
    pub fn user_action(&self) -> crate::UserAction {
        match self {
            Self::Config(_) => crate::UserAction::ContactSupport,
            Self::Ble(error) => error.user_action(),
        }
    }
}

/// Hands advertisements from the Bluetooth stack's thread to the discovery task.
struct ChannelListener {
    advertisements: mpsc::Sender<Advertisement>,
}

impl AdvertisementListener for ChannelListener {
    fn on_advertisement(&self, advertisement: Advertisement) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.advertisements.try_send(advertisement) {
            tracing::trace!("discovery is behind; dropped an advertisement (the device will repeat it)");
        }
    }
}

/// The discovery task's state.
struct Worker {
    table: DiscoveryTable,
    advertisements: mpsc::Receiver<Advertisement>,
    wifi_networks: watch::Receiver<Vec<WifiNetwork>>,
    devices: watch::Sender<Vec<DiscoveredDevice>>,
}

impl Worker {
    async fn run(
        mut self,
        mut stop: oneshot::Receiver<()>,
        central: Option<Arc<dyn BleCentral>>,
    ) -> Result<(), BleError> {
        let mut refresh = tokio::time::interval(self.table.config().refresh_interval);
        refresh.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut networks: Vec<WifiNetwork> = Vec::new();
        let mut advertisements_open = central.is_some();
        let mut wifi_open = true;
        loop {
            let publish = tokio::select! {
                biased;
                _ = &mut stop => break,
                _ = refresh.tick() => {
                    self.table.expire(now());
                    true
                },
                advertisement = self.advertisements.recv(), if advertisements_open => match advertisement {
                    Some(advertisement) => self.ingest_pending(advertisement),
                    None => {
                        advertisements_open = false;
                        false
                    }
                },
                changed = self.wifi_networks.changed(), if wifi_open => match changed {
                    Ok(()) => {
                        networks = self.wifi_networks.borrow_and_update().clone();
                        true
                    }
                    Err(_closed) => {
                        wifi_open = false;
                        false
                    }
                },
            };
            if publish {
                let table = &self.table;
                self.devices.send_if_modified(|current| {
                    let latest = discovered_devices(table, &networks);
                    let modified = *current != latest;
                    *current = latest;
                    modified
                });
            }
        }
        match central {
            Some(central) => central.stop_scan().await,
            None => Ok(()),
        }
    }

    /// Ingests `first` and whatever else is already queued; returns whether a device was added,
    /// changed or removed (signal-strength changes wait for the next refresh).
    fn ingest_pending(&mut self, first: Advertisement) -> bool {
        let now = now();
        let mut changed = is_visible_change(self.table.ingest(first, now));
        while let Ok(advertisement) = self.advertisements.try_recv() {
            changed |= is_visible_change(self.table.ingest(advertisement, now));
        }
        changed
    }
}

fn is_visible_change(ingested: Ingested) -> bool {
    matches!(ingested, Ingested::Added | Ingested::Updated | Ingested::Removed)
}

/// The current time from tokio's clock, which tests can pause and advance.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
