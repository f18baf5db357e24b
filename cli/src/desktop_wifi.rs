//! The computer's Wi-Fi as the flow's phone-Wi-Fi seam: NetworkManager (`nmcli`) where it runs,
//! otherwise the person joins the device's network by hand (or is already on it).

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use unbox_core::discovery::WifiNetwork;
use unbox_core::platform::phone_wifi::{ManualJoin, PhoneWifi, PhoneWifiError};
use unbox_core::secret::SecretString;

/// Parses `nmcli -t -f SSID,BSSID,SIGNAL,CHAN,SECURITY dev wifi list` (colons in values are
/// escaped with a backslash; signal is 0–100 %).
pub fn parse_nmcli(output: &str) -> Vec<WifiNetwork> {
    output
        .lines()
        .filter_map(|line| {
            let mut fields = Vec::new();
            let mut current = String::new();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => current.extend(chars.next()),
                    ':' => fields.push(std::mem::take(&mut current)),
                    other => current.push(other),
                }
            }
            fields.push(current);
            let [ssid, bssid, signal, channel, security] = <[String; 5]>::try_from(fields).ok()?;
            if ssid.is_empty() {
                return None;
            }
            let bssid = hex::decode(bssid.replace(':', "")).ok().and_then(|b| <[u8; 6]>::try_from(b).ok());
            // NetworkManager reports quality in percent; map it onto a dBm-like scale.
            let quality: i16 = signal.parse().ok()?;
            Some(WifiNetwork {
                ssid,
                bssid,
                rssi: quality / 2 - 100,
                channel: channel.parse().ok(),
                secured: !security.is_empty() && security != "--",
            })
        })
        .collect()
}

/// Whether NetworkManager's command-line client answers.
pub fn nmcli_available() -> bool {
    std::process::Command::new("nmcli").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Wi-Fi networks the OS sees, when NetworkManager runs.
pub fn scan_with_nmcli() -> Option<Vec<WifiNetwork>> {
    let output = std::process::Command::new("nmcli")
        .args(["-t", "-f", "SSID,BSSID,SIGNAL,CHAN,SECURITY", "dev", "wifi", "list"])
        .output()
        .ok()?;
    output.status.success().then(|| parse_nmcli(&String::from_utf8_lossy(&output.stdout)))
}

/// The desktop's Wi-Fi.
pub enum DesktopWifi {
    /// NetworkManager joins and leaves (the passphrase goes through its stdin, never argv).
    Nmcli,
    /// The person is already on the device's network (or joins it by hand; `provision` says so
    /// before the device steps start).
    Manual(ManualJoin),
}

fn failed(ssid: &str, reason: impl Into<String>) -> PhoneWifiError {
    PhoneWifiError::JoinFailed { ssid: ssid.to_owned(), reason: reason.into() }
}

#[async_trait]
impl PhoneWifi for DesktopWifi {
    async fn join_network(
        &self,
        ssid: String,
        passphrase: Option<SecretString>,
    ) -> Result<(), PhoneWifiError> {
        match self {
            Self::Manual(manual) => manual.join_network(ssid, passphrase).await,
            Self::Nmcli => {
                let mut child = tokio::process::Command::new("nmcli")
                    .args(["--ask", "dev", "wifi", "connect", &ssid])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .map_err(|e| PhoneWifiError::Unavailable(e.to_string()))?;
                if let (Some(mut stdin), Some(passphrase)) = (child.stdin.take(), passphrase) {
                    let mut line = zeroize::Zeroizing::new(passphrase.expose().as_bytes().to_vec());
                    line.push(b'\n');
                    stdin.write_all(&line).await.map_err(|e| failed(&ssid, e.to_string()))?;
                }
                let status = child.wait().await.map_err(|e| failed(&ssid, e.to_string()))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(failed(&ssid, format!("nmcli exited with {status}")))
                }
            }
        }
    }

    async fn leave_network(&self, ssid: String) -> Result<(), PhoneWifiError> {
        match self {
            Self::Manual(manual) => manual.leave_network(ssid).await,
            Self::Nmcli => {
                let status = tokio::process::Command::new("nmcli")
                    .args(["connection", "down", "id", &ssid])
                    .stdout(std::process::Stdio::null())
                    .status()
                    .await
                    .map_err(|e| PhoneWifiError::Other(e.to_string()))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(PhoneWifiError::Other(format!("nmcli exited with {status}")))
                }
            }
        }
    }

    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError> {
        match self {
            Self::Manual(manual) => manual.scan_networks().await,
            Self::Nmcli => tokio::task::spawn_blocking(scan_with_nmcli)
                .await
                .map_err(|e| PhoneWifiError::Other(e.to_string()))?
                .ok_or_else(|| PhoneWifiError::Unavailable("nmcli failed to list networks".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nmcli_terse_output() {
        let output = "PROV_1A2B3C:24\\:0A\\:C4\\:1A\\:2B\\:3C:80:6:WPA2\nHome\\:Net:AA\\:BB\\:CC\\:DD\\:EE\\:FF:40:11:\n:00\\:11\\:22\\:33\\:44\\:55:10:1:WPA2\n";
        let networks = parse_nmcli(output);
        assert_eq!(networks.len(), 2, "hidden networks are skipped");
        assert_eq!(networks[0].ssid, "PROV_1A2B3C");
        assert_eq!(networks[0].bssid, Some([0x24, 0x0a, 0xc4, 0x1a, 0x2b, 0x3c]));
        assert_eq!((networks[0].rssi, networks[0].channel, networks[0].secured), (-60, Some(6), true));
        assert_eq!(networks[1].ssid, "Home:Net");
        assert!(!networks[1].secured);
    }
}
