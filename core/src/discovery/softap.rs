//! SoftAP discovery: picks the access points of devices in setup mode out of a Wi-Fi scan.
//!
//! The phone's shell owns Wi-Fi scanning (Android `WifiManager`, iOS offers no scan API, desktop
//! OS tools) and hands the results to the core, which keeps the networks whose SSID has a wanted
//! prefix. An ESP device names its access point after its service name, e.g. `PROV_1A2B3C`.

use crate::prefix::matches_any_prefix;

/// One network from the platform's Wi-Fi scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifiNetwork {
    /// The network name.
    pub ssid: String,
    /// The access point's MAC address, when the platform reports it.
    pub bssid: Option<[u8; 6]>,
    /// Received signal strength in dBm.
    pub rssi: i16,
    /// The Wi-Fi channel, when the platform reports it.
    pub channel: Option<u16>,
    /// Whether joining needs a passphrase (WPA/WPA2-PSK on ESP devices with a service key).
    pub secured: bool,
}

/// The networks whose SSID starts with one of `ssid_prefixes` (ignoring ASCII case; every
/// network when there are none), one per access point: an access point reported twice (same
/// SSID and BSSID, or same SSID without a BSSID) keeps its strongest report.
pub fn setup_mode_networks(networks: &[WifiNetwork], ssid_prefixes: &[String]) -> Vec<WifiNetwork> {
    let mut kept: Vec<WifiNetwork> = Vec::new();
    for network in networks.iter().filter(|network| matches_any_prefix(&network.ssid, ssid_prefixes)) {
        match kept.iter_mut().find(|seen| seen.ssid == network.ssid && seen.bssid == network.bssid) {
            Some(seen) if seen.rssi < network.rssi => *seen = network.clone(),
            Some(_) => {}
            None => kept.push(network.clone()),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(ssid: &str, bssid: Option<[u8; 6]>, rssi: i16) -> WifiNetwork {
        WifiNetwork { ssid: ssid.to_owned(), bssid, rssi, channel: Some(6), secured: false }
    }

    #[test]
    fn keeps_only_networks_with_a_wanted_prefix_ignoring_case() {
        let scan = [
            network("HomeNet", None, -40),
            network("PROV_1A2B3C", None, -60),
            network("prov_d4e5f6", None, -70),
            network("", None, -30),
            network("PRO", None, -30),
        ];
        let kept = setup_mode_networks(&scan, &["PROV_".to_owned()]);
        let ssids: Vec<&str> = kept.iter().map(|network| network.ssid.as_str()).collect();
        assert_eq!(ssids, ["PROV_1A2B3C", "prov_d4e5f6"]);
    }

    #[test]
    fn no_prefixes_keeps_every_network() {
        let scan = [network("HomeNet", None, -40), network("PROV_1A2B3C", None, -60)];
        assert_eq!(setup_mode_networks(&scan, &[]), scan.to_vec());
    }

    #[test]
    fn repeated_reports_of_one_access_point_keep_the_strongest() {
        let first = [0x24, 0x0a, 0xc4, 0, 0, 1];
        let second = [0x24, 0x0a, 0xc4, 0, 0, 2];
        let scan = [
            network("PROV_1A2B3C", Some(first), -70),
            network("PROV_1A2B3C", Some(first), -55),
            network("PROV_1A2B3C", Some(first), -80),
            network("PROV_1A2B3C", Some(second), -75),
            network("PROV_000000", None, -90),
            network("PROV_000000", None, -85),
        ];
        let kept = setup_mode_networks(&scan, &["PROV_".to_owned()]);
        assert_eq!(
            kept,
            [
                network("PROV_1A2B3C", Some(first), -55),
                network("PROV_1A2B3C", Some(second), -75),
                network("PROV_000000", None, -85)
            ]
        );
    }
}
