//! What a device says about itself on `proto-ver`: its provisioning version, security scheme and
//! capabilities, with the fallbacks ESP clients apply to older firmware.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::security::SecurityLevel;

/// The endpoint that answers version information.
pub const VERSION_ENDPOINT: &str = "proto-ver";

/// What the client sends to `proto-ver` (any non-empty bytes; the mobile SDKs send `ESP`).
pub const VERSION_REQUEST: &[u8] = b"ESP";

/// Capability: the device runs security 0.
pub const CAP_NO_SEC: &str = "no_sec";
/// Capability: the device runs security 1 without a proof of possession.
pub const CAP_NO_POP: &str = "no_pop";
/// Capability: the device can scan for Wi-Fi networks.
pub const CAP_WIFI_SCAN: &str = "wifi_scan";
/// Capability of `network_provisioning` firmware: it takes Wi-Fi credentials.
pub const CAP_WIFI_PROV: &str = "wifi_prov";
/// Capability of `network_provisioning` firmware: it takes a Thread dataset.
pub const CAP_THREAD_PROV: &str = "thread_prov";

/// Version and capabilities of a device in setup mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Provisioning protocol version, e.g. `v1.1`; `None` for firmware that predates JSON.
    pub prov_version: Option<String>,
    /// The security scheme the device runs.
    pub security: SecurityLevel,
    /// The security patch version (`sec_patch_ver`, 0 when absent).
    pub security_patch: u32,
    /// Capabilities of the provisioning service (`wifi_scan`, `no_pop`, ...).
    pub capabilities: Vec<String>,
    /// Extra sections added by the application (label → version and capabilities).
    pub app_info: BTreeMap<String, AppInfo>,
}

/// A section an application adds to the version info (e.g. RainMaker's `rmaker`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppInfo {
    /// The application's version string.
    #[serde(default)]
    pub ver: String,
    /// The application's capabilities.
    #[serde(default)]
    pub cap: Vec<String>,
}

#[derive(Deserialize)]
struct ProvSection {
    ver: Option<String>,
    sec_ver: Option<u32>,
    sec_patch_ver: Option<u32>,
    #[serde(default)]
    cap: Vec<String>,
}

/// Why a version reply could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfoError {
    /// The reply is JSON but has no usable `prov` section.
    #[error("the device's version info has no valid `prov` section: {0}")]
    MissingProv(String),
    /// The device announces a security scheme Unbox does not know.
    #[error("the device uses security scheme {0}, which this app does not support; update the app")]
    UnknownSecurity(u32),
}

impl DeviceInfo {
    /// Parses a `proto-ver` reply. A reply that is not JSON at all comes from very old
    /// firmware: security 1, no capabilities (as Espressif's clients assume).
    pub fn parse(reply: &[u8]) -> Result<Self, InfoError> {
        let Ok(sections) = serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(reply) else {
            return Ok(Self::legacy());
        };
        let mut prov = None;
        let mut app_info = BTreeMap::new();
        for (label, value) in sections {
            if label == "prov" {
                let section: ProvSection =
                    serde_json::from_value(value).map_err(|e| InfoError::MissingProv(e.to_string()))?;
                prov = Some(section);
            } else if let Ok(info) = serde_json::from_value::<AppInfo>(value) {
                app_info.insert(label, info);
            }
        }
        let prov = prov.ok_or_else(|| InfoError::MissingProv("no `prov` key".into()))?;
        let has_no_sec = prov.cap.iter().any(|c| c == CAP_NO_SEC);
        let security = match prov.sec_ver.unwrap_or(if has_no_sec { 0 } else { 1 }) {
            0 => SecurityLevel::Sec0,
            1 => SecurityLevel::Sec1,
            2 => SecurityLevel::Sec2,
            other => return Err(InfoError::UnknownSecurity(other)),
        };
        Ok(Self {
            prov_version: prov.ver,
            security,
            security_patch: prov.sec_patch_ver.unwrap_or(0),
            capabilities: prov.cap,
            app_info,
        })
    }

    fn legacy() -> Self {
        Self {
            prov_version: None,
            security: SecurityLevel::Sec1,
            security_patch: 0,
            capabilities: Vec::new(),
            app_info: BTreeMap::new(),
        }
    }

    /// Whether the provisioning service lists `capability`.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Whether the device can scan for Wi-Fi networks on request.
    pub fn can_scan_wifi(&self) -> bool {
        self.has_capability(CAP_WIFI_SCAN)
    }

    /// Whether the firmware runs ESP-IDF's `network_provisioning` component (`ver`
    /// `netprov-v1.x`, or the `wifi_prov`/`thread_prov` capabilities only it announces), whose
    /// scan messages differ from `wifi_provisioning`'s.
    pub fn uses_network_provisioning(&self) -> bool {
        self.prov_version.as_deref().is_some_and(|ver| ver.starts_with("netprov"))
            || self.has_capability(CAP_WIFI_PROV)
            || self.has_capability(CAP_THREAD_PROV)
    }

    /// Whether the device runs security 1 without a proof of possession.
    pub fn lacks_pop(&self) -> bool {
        self.security == SecurityLevel::Sec1 && self.has_capability(CAP_NO_POP)
    }

    #[cfg(feature = "device-side")]
    /// Renders the info as the firmware does (cJSON pretty-printed), for the simulator.
    pub fn to_json(&self) -> String {
        let mut root = serde_json::Map::new();
        for (label, info) in &self.app_info {
            root.insert(label.clone(), serde_json::json!({"ver": info.ver, "cap": info.cap}));
        }
        let sec_ver = match self.security {
            SecurityLevel::Sec0 => 0,
            SecurityLevel::Sec1 => 1,
            SecurityLevel::Sec2 => 2,
        };
        let mut prov = serde_json::json!({
            "ver": self.prov_version.clone().unwrap_or_else(|| "v1.1".into()),
            "sec_ver": sec_ver,
            "cap": self.capabilities,
        });
        if self.security_patch > 0 {
            prov["sec_patch_ver"] = self.security_patch.into();
        }
        root.insert("prov".into(), prov);
        // Tab-indented as cJSON prints; indenting through the formatter leaves the values alone
        // (replacing double spaces afterwards would also rewrite them inside strings).
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        match serde::Serialize::serialize(&serde_json::Value::Object(root), &mut serializer) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_info_reads_back_with_spaces_in_its_strings() {
        // Found by the device_info fuzz target: double spaces inside a value were turned into
        // raw tabs, which is not JSON, so the written info read back as legacy firmware.
        let info = DeviceInfo {
            prov_version: Some("v1.1  custom".into()),
            security: SecurityLevel::Sec1,
            security_patch: 0,
            capabilities: vec!["wifi  scan".into()],
            app_info: BTreeMap::new(),
        };
        let json = info.to_json();
        assert!(json.contains("\n\t\"prov\": {"), "{json}");
        assert_eq!(DeviceInfo::parse(json.as_bytes()).unwrap(), info);
    }

    #[test]
    fn parses_a_current_reply_with_app_sections() {
        let reply = b"{\n\t\"rmaker\":\t{\"ver\":\"1.0\",\"cap\":[\"claim\"]},\n\t\"prov\":\t{\"ver\":\"v1.1\",\"sec_ver\":2,\"sec_patch_ver\":1,\"cap\":[\"wifi_scan\"]}\n}";
        let info = DeviceInfo::parse(reply).unwrap();
        assert_eq!(info.security, SecurityLevel::Sec2);
        assert_eq!(info.security_patch, 1);
        assert!(info.can_scan_wifi());
        assert_eq!(info.app_info["rmaker"].cap, vec!["claim".to_string()]);
    }

    #[test]
    fn applies_espressif_fallbacks() {
        let old = DeviceInfo::parse(b"V0.1").unwrap();
        assert_eq!((old.security, old.capabilities.len()), (SecurityLevel::Sec1, 0));
        let no_sec = DeviceInfo::parse(br#"{"prov":{"ver":"v1.0","cap":["no_sec"]}}"#).unwrap();
        assert_eq!(no_sec.security, SecurityLevel::Sec0);
        let idf4 = DeviceInfo::parse(br#"{"prov":{"ver":"v1.0","cap":["no_pop"]}}"#).unwrap();
        assert_eq!((idf4.security, idf4.security_patch), (SecurityLevel::Sec1, 0));
        assert!(idf4.lacks_pop());
    }

    #[test]
    fn rejects_unknown_security_and_missing_prov() {
        assert_eq!(DeviceInfo::parse(br#"{"prov":{"sec_ver":7}}"#), Err(InfoError::UnknownSecurity(7)));
        assert!(matches!(DeviceInfo::parse(br#"{"other":{}}"#), Err(InfoError::MissingProv(_))));
        assert!(matches!(DeviceInfo::parse(br#"{"prov":{"cap":"x"}}"#), Err(InfoError::MissingProv(_))));
    }

    #[test]
    fn renders_what_it_parses() {
        let info = DeviceInfo::parse(
            br#"{"prov":{"ver":"v1.1","sec_ver":2,"sec_patch_ver":1,"cap":["wifi_scan"]}}"#,
        )
        .unwrap();
        assert_eq!(DeviceInfo::parse(info.to_json().as_bytes()).unwrap(), info);
    }
}
