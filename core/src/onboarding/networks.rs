//! The networks a device sees, as a picker shows them: one entry per network name (its strongest
//! access point kept, the others counted), signal as dBm and bars, security, channel and band,
//! hidden networks left out, strongest first.

use crate::device::{AuthMode, WifiNetworkSeen};

/// How a network is secured, as a picker names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum NetworkSecurity {
    /// No password: anyone nearby can read the device's traffic. Offered with a warning.
    Open,
    /// WEP (broken; offered with a warning).
    Wep,
    /// WPA personal (legacy).
    Wpa,
    /// WPA2 personal (or WPA/WPA2).
    Wpa2,
    /// WPA3 personal.
    Wpa3,
    /// WPA2/WPA3 personal (transition mode).
    Wpa2Wpa3,
    /// WPA2/WPA3 enterprise: ESP provisioning cannot send enterprise credentials.
    Enterprise,
    /// A mode the device reports that this version does not name (WAPI, OWE, ...).
    Other,
}

impl NetworkSecurity {
    /// Maps the ESP device's authentication mode.
    pub fn from_auth(auth: AuthMode) -> Self {
        match auth {
            AuthMode::Open => Self::Open,
            AuthMode::Wep => Self::Wep,
            AuthMode::WpaPsk => Self::Wpa,
            AuthMode::Wpa2Psk | AuthMode::WpaWpa2Psk => Self::Wpa2,
            AuthMode::Wpa3Psk => Self::Wpa3,
            AuthMode::Wpa2Wpa3Psk => Self::Wpa2Wpa3,
            AuthMode::Wpa2Enterprise => Self::Enterprise,
            AuthMode::Other(_) => Self::Other,
        }
    }

    /// Whether joining needs a passphrase.
    pub fn needs_passphrase(self) -> bool {
        !matches!(self, Self::Open)
    }

    /// Whether the device can be provisioned onto such a network.
    pub fn is_supported(self) -> bool {
        !matches!(self, Self::Enterprise)
    }

    /// What the picker should tell the person about this network, if anything.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Self::Open => Some("open network: anyone nearby can read the device's traffic"),
            Self::Wep => Some("WEP is broken: anyone nearby can read the device's traffic"),
            Self::Enterprise => Some("enterprise networks cannot be set up this way; choose another network"),
            _ => None,
        }
    }
}

/// The radio band of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum WifiBand {
    /// 2.4 GHz (channels 1 to 14).
    Ghz2_4,
    /// 5 GHz (channels 32 to 177).
    Ghz5,
    /// Not reported (channel 0) or outside both.
    Unknown,
}

impl WifiBand {
    /// The band of `channel`.
    pub fn of_channel(channel: u32) -> Self {
        match channel {
            1..=14 => Self::Ghz2_4,
            32..=177 => Self::Ghz5,
            _ => Self::Unknown,
        }
    }
}

/// Signal bars (0 to 4) for a signal strength in dBm, with the thresholds phones use.
pub fn signal_bars(rssi: i32) -> u8 {
    match rssi {
        r if r >= -55 => 4,
        r if r >= -67 => 3,
        r if r >= -78 => 2,
        r if r >= -89 => 1,
        _ => 0,
    }
}

/// One network in the picker.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PickerNetwork {
    /// Its name.
    pub ssid: String,
    /// Signal of its strongest access point, in dBm.
    pub rssi: i32,
    /// The same as bars, 0 to 4.
    pub bars: u8,
    /// How it is secured.
    pub security: NetworkSecurity,
    /// Channel of its strongest access point (0 when not reported).
    pub channel: u32,
    /// Band of that channel.
    pub band: WifiBand,
    /// Its strongest access point, when reported.
    pub bssid: Option<[u8; 6]>,
    /// How many more access points share the name.
    pub other_access_points: u32,
}

impl PickerNetwork {
    /// Whether the picker should ask for a password.
    pub fn needs_passphrase(&self) -> bool {
        self.security.needs_passphrase()
    }

    /// What the picker should tell the person about this network, if anything.
    pub fn warning(&self) -> Option<&'static str> {
        self.security.warning()
    }
}

/// What a device's scan gives a picker: the networks, plus entering a network by name for
/// hidden ones (always possible).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NetworkList {
    /// One entry per network name, strongest first.
    pub networks: Vec<PickerNetwork>,
    /// How many hidden access points (no name) were left out; enter their name by hand.
    pub hidden: u32,
}

impl NetworkList {
    /// The picker list of what a device reported.
    pub fn from_seen(seen: &[WifiNetworkSeen]) -> Self {
        let mut list = Self::default();
        let mut strongest_first: Vec<&WifiNetworkSeen> = seen.iter().collect();
        strongest_first.sort_by_key(|n| std::cmp::Reverse(n.rssi));
        for network in strongest_first {
            if network.ssid_bytes.iter().all(|b| *b == 0) {
                list.hidden += 1;
                continue;
            }
            if let Some(known) = list.networks.iter_mut().find(|n| n.ssid == network.ssid) {
                known.other_access_points += 1;
                continue;
            }
            list.networks.push(PickerNetwork {
                ssid: network.ssid.clone(),
                rssi: network.rssi,
                bars: signal_bars(network.rssi),
                security: NetworkSecurity::from_auth(network.auth),
                channel: network.channel,
                band: WifiBand::of_channel(network.channel),
                bssid: network.bssid,
                other_access_points: 0,
            });
        }
        list
    }

    /// The network named `ssid`, if the device sees it.
    pub fn find(&self, ssid: &str) -> Option<&PickerNetwork> {
        self.networks.iter().find(|n| n.ssid == ssid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ssid: &str, rssi: i32, channel: u32, auth: AuthMode) -> WifiNetworkSeen {
        WifiNetworkSeen {
            ssid: ssid.into(),
            ssid_bytes: ssid.as_bytes().to_vec(),
            bssid: Some([0, 1, 2, 3, 4, rssi.unsigned_abs() as u8]),
            channel,
            rssi,
            auth,
        }
    }

    #[test]
    fn one_entry_per_name_strongest_first_hidden_left_out() {
        let list = NetworkList::from_seen(&[
            seen("home", -70, 6, AuthMode::Wpa2Psk),
            seen("", -40, 1, AuthMode::Wpa2Psk),
            seen("cafe", -50, 11, AuthMode::Open),
            seen("home", -60, 1, AuthMode::Wpa2Psk),
            seen("office", -80, 36, AuthMode::Wpa2Enterprise),
            seen("home", -90, 11, AuthMode::Wpa2Psk),
        ]);
        let names: Vec<_> = list.networks.iter().map(|n| n.ssid.as_str()).collect();
        assert_eq!(names, ["cafe", "home", "office"]);
        assert_eq!(list.hidden, 1);
        let home = list.find("home").unwrap();
        assert_eq!((home.rssi, home.channel, home.other_access_points), (-60, 1, 2));
        assert_eq!((home.bars, home.band, home.security), (3, WifiBand::Ghz2_4, NetworkSecurity::Wpa2));
        assert_eq!(home.bssid, Some([0, 1, 2, 3, 4, 60]));
        let cafe = list.find("cafe").unwrap();
        assert!(!cafe.needs_passphrase());
        assert!(cafe.warning().unwrap().contains("open network"));
        let office = list.find("office").unwrap();
        assert_eq!(office.band, WifiBand::Ghz5);
        assert!(!office.security.is_supported());
        assert!(office.warning().unwrap().contains("enterprise"));
    }

    #[test]
    fn bars_follow_signal_strength() {
        let bars: Vec<_> = [-30, -55, -56, -67, -70, -78, -85, -89, -95].map(signal_bars).to_vec();
        assert_eq!(bars, [4, 4, 3, 3, 2, 2, 1, 1, 0]);
        assert_eq!(WifiBand::of_channel(0), WifiBand::Unknown);
        assert_eq!(WifiBand::of_channel(14), WifiBand::Ghz2_4);
    }

    #[test]
    fn every_auth_mode_has_a_picker_security() {
        assert_eq!(NetworkSecurity::from_auth(AuthMode::WpaWpa2Psk), NetworkSecurity::Wpa2);
        assert_eq!(NetworkSecurity::from_auth(AuthMode::Wpa3Psk), NetworkSecurity::Wpa3);
        assert_eq!(NetworkSecurity::from_auth(AuthMode::Wpa2Wpa3Psk), NetworkSecurity::Wpa2Wpa3);
        assert_eq!(NetworkSecurity::from_auth(AuthMode::Other(9)), NetworkSecurity::Other);
        assert!(NetworkSecurity::Wep.warning().is_some());
    }
}
