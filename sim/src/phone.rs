//! A simulated phone Wi-Fi: the device access points it can join (each a simulated device's
//! SoftAP served on loopback), with the passphrase check and join/leave bookkeeping a real
//! phone's connectivity manager does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use unbox_core::discovery::WifiNetwork;
use unbox_core::platform::phone_wifi::{PhoneWifi, PhoneWifiError};
use unbox_core::secret::SecretString;

use crate::device::{PortalState, SimPortal};

struct AccessPoint {
    passphrase: Option<SecretString>,
    rssi: i16,
}

/// The phone's Wi-Fi in the simulator.
#[derive(Default)]
pub struct SimPhoneWifi {
    access_points: Mutex<BTreeMap<String, AccessPoint>>,
    joined: Mutex<Option<String>>,
    history: Mutex<Vec<String>>,
}

impl SimPhoneWifi {
    /// A phone that sees no access point yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts a device's access point in range.
    pub fn add_access_point(&self, ssid: impl Into<String>, passphrase: Option<SecretString>, rssi: i16) {
        lock(&self.access_points).insert(ssid.into(), AccessPoint { passphrase, rssi });
    }

    /// Takes a device's access point out of range (the device shut it down); a phone on it is
    /// dropped from it.
    pub fn remove_access_point(&self, ssid: &str) {
        lock(&self.access_points).remove(ssid);
        let mut joined = lock(&self.joined);
        if joined.as_deref() == Some(ssid) {
            *joined = None;
        }
    }

    /// Keeps a portal device's access point in range while its portal is open, as the device
    /// shuts both down once it joined a network or left portal mode.
    pub fn follow_portal(self: &Arc<Self>, portal: &SimPortal) {
        let phone = Arc::downgrade(self);
        let ssid = portal.ap_ssid().to_owned();
        let mut state = portal.state();
        tokio::spawn(async move {
            if state.wait_for(|s| matches!(s, PortalState::Online { .. } | PortalState::Closed)).await.is_ok()
            {
                if let Some(phone) = phone.upgrade() {
                    phone.remove_access_point(&ssid);
                }
            }
        });
    }

    /// The network the phone is on, if it joined one.
    pub fn joined(&self) -> Option<String> {
        lock(&self.joined).clone()
    }

    /// What the phone did, in order (`join X`, `leave X`).
    pub fn history(&self) -> Vec<String> {
        lock(&self.history).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl PhoneWifi for SimPhoneWifi {
    async fn join_network(
        &self,
        ssid: String,
        passphrase: Option<SecretString>,
    ) -> Result<(), PhoneWifiError> {
        let access_points = lock(&self.access_points);
        let access_point = access_points.get(&ssid).ok_or_else(|| PhoneWifiError::JoinFailed {
            ssid: ssid.clone(),
            reason: "not in range".into(),
        })?;
        let expected = access_point.passphrase.as_ref().map(SecretString::expose);
        if expected != passphrase.as_ref().map(SecretString::expose) {
            return Err(PhoneWifiError::JoinFailed { ssid, reason: "wrong passphrase".into() });
        }
        *lock(&self.joined) = Some(ssid.clone());
        lock(&self.history).push(format!("join {ssid}"));
        Ok(())
    }

    async fn leave_network(&self, ssid: String) -> Result<(), PhoneWifiError> {
        let mut joined = lock(&self.joined);
        if joined.as_deref() == Some(ssid.as_str()) {
            *joined = None;
        }
        lock(&self.history).push(format!("leave {ssid}"));
        Ok(())
    }

    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError> {
        Ok(lock(&self.access_points)
            .iter()
            .map(|(ssid, ap)| WifiNetwork {
                ssid: ssid.clone(),
                bssid: None,
                rssi: ap.rssi,
                channel: Some(1),
                secured: ap.passphrase.is_some(),
            })
            .collect())
    }
}
