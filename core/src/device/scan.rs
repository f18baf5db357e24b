//! The networks a device sees (`prov-scan`): a blocking scan, one status read and as few result
//! pages as the link allows, in either of the two schemas shipping firmware speaks.

use prost::Message;

use super::wifi::bssid;
use super::{
    AuthMode, DeviceError, DeviceSession, ScanOptions, WifiNetworkSeen, check_status, decode, unexpected,
};
use crate::proto::{
    self, CmdScanResult, CmdScanStart, CmdScanStatus, NetCmdScanResult, NetCmdScanStart, NetCmdScanStatus,
    NetWifiScanStart, NetworkScanPayload, WiFiScanMsgType, WiFiScanPayload, WiFiScanResult,
    net_cmd_scan_start, network_scan_payload, wi_fi_scan_payload,
};

/// The endpoint for Wi-Fi scans.
pub const SCAN_ENDPOINT: &str = "prov-scan";

/// Most results read from any device: firmware built with a larger scan table lists a few dozen
/// networks at most, and a hostile device must not keep the phone paging.
pub const SCAN_RESULT_LIMIT: usize = 64;
/// Most results a device returns per scan by default (`CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES`); a
/// page reaching past this table makes the firmware fail the handler.
const SCAN_MAX_ENTRIES: usize = 16;
/// Encoded size bound of one scan result entry (SSID 32, BSSID 6, numbers and tags).
const SCAN_ENTRY_MAX_LEN: usize = 64;
/// Value limits of ESP BLE characteristics by firmware build (sec2 enabled or not).
const BLE_VALUE_LIMIT_SEC2: usize = 481;
const BLE_VALUE_LIMIT_SEC01: usize = 257;

/// The two wire schemas of `prov-scan`: `wifi_provisioning` (ESP-IDF 4.x and 5.x) and the
/// `network_provisioning` component (IDF 5.x managed component, 6.x), whose messages all carry
/// a network type first and so number their fields differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    WifiProvisioning,
    NetworkProvisioning,
}

/// One decoded scan reply, whatever the schema.
enum ScanReply {
    Started,
    Status { result_count: u32 },
    Results(Vec<WiFiScanResult>),
}

impl Schema {
    fn encode(self, command: ScanCommand) -> Vec<u8> {
        use ScanCommand as C;
        match self {
            Self::WifiProvisioning => {
                use wi_fi_scan_payload::Payload;
                let (msg, payload) = match command {
                    C::Start(options) => (
                        WiFiScanMsgType::TypeCmdScanStart,
                        Payload::CmdScanStart(CmdScanStart {
                            blocking: true,
                            passive: options.passive,
                            group_channels: options.group_channels,
                            period_ms: options.period_ms,
                        }),
                    ),
                    C::Status => {
                        (WiFiScanMsgType::TypeCmdScanStatus, Payload::CmdScanStatus(CmdScanStatus {}))
                    }
                    C::Results { start_index, count } => (
                        WiFiScanMsgType::TypeCmdScanResult,
                        Payload::CmdScanResult(CmdScanResult { start_index, count }),
                    ),
                };
                WiFiScanPayload { msg: msg as i32, status: 0, payload: Some(payload) }.encode_to_vec()
            }
            Self::NetworkProvisioning => {
                use network_scan_payload::Payload;
                let wifi = proto::NetworkType::NetworkWifi as i32;
                let (msg, payload) = match command {
                    C::Start(options) => (
                        WiFiScanMsgType::TypeCmdScanStart,
                        Payload::CmdScanStart(NetCmdScanStart {
                            net_type: wifi,
                            payload: Some(net_cmd_scan_start::Payload::WifiScanStart(NetWifiScanStart {
                                blocking: true,
                                passive: options.passive,
                                group_channels: options.group_channels,
                                period_ms: options.period_ms,
                            })),
                        }),
                    ),
                    C::Status => (
                        WiFiScanMsgType::TypeCmdScanStatus,
                        Payload::CmdScanStatus(NetCmdScanStatus { net_type: wifi }),
                    ),
                    C::Results { start_index, count } => (
                        WiFiScanMsgType::TypeCmdScanResult,
                        Payload::CmdScanResult(NetCmdScanResult { net_type: wifi, start_index, count }),
                    ),
                };
                NetworkScanPayload { msg: msg as i32, status: 0, payload: Some(payload) }.encode_to_vec()
            }
        }
    }

    /// Decodes a reply, checking its type and status.
    fn decode(self, expected_msg: i32, reply: &[u8]) -> Result<ScanReply, DeviceError> {
        let (msg, status, reply) = match self {
            Self::WifiProvisioning => {
                use wi_fi_scan_payload::Payload;
                let reply: WiFiScanPayload = decode(SCAN_ENDPOINT, reply)?;
                let decoded = match reply.payload {
                    Some(Payload::RespScanStart(_)) => Some(ScanReply::Started),
                    Some(Payload::RespScanStatus(status)) => {
                        Some(ScanReply::Status { result_count: status.result_count })
                    }
                    Some(Payload::RespScanResult(result)) => Some(ScanReply::Results(result.entries)),
                    _ => None,
                };
                (reply.msg, reply.status, decoded)
            }
            Self::NetworkProvisioning => {
                use network_scan_payload::Payload;
                let reply: NetworkScanPayload = decode(SCAN_ENDPOINT, reply)?;
                let decoded = match reply.payload {
                    Some(Payload::RespScanStart(_)) => Some(ScanReply::Started),
                    Some(Payload::RespScanStatus(status)) => {
                        Some(ScanReply::Status { result_count: status.result_count })
                    }
                    Some(Payload::RespScanResult(result)) => Some(ScanReply::Results(
                        result
                            .entries
                            .into_iter()
                            .filter_map(|entry| {
                                entry.result.map(|proto::net_scan_result::Result::WifiResult(w)| w)
                            })
                            .collect(),
                    )),
                    _ => None,
                };
                (reply.msg, reply.status, decoded)
            }
        };
        if msg != expected_msg {
            return Err(unexpected(SCAN_ENDPOINT, msg));
        }
        check_status(SCAN_ENDPOINT, status)?;
        // A start reply may arrive without its (empty) payload from a protobuf-c device.
        match reply {
            Some(reply) => Ok(reply),
            None if expected_msg == WiFiScanMsgType::TypeRespScanStart as i32 => Ok(ScanReply::Started),
            None => Err(unexpected(SCAN_ENDPOINT, "a scan reply without its payload")),
        }
    }
}

enum ScanCommand {
    Start(ScanOptions),
    Status,
    Results { start_index: u32, count: u32 },
}

impl ScanCommand {
    fn reply_msg(&self) -> i32 {
        let msg = match self {
            Self::Start(_) => WiFiScanMsgType::TypeCmdScanStart,
            Self::Status => WiFiScanMsgType::TypeCmdScanStatus,
            Self::Results { .. } => WiFiScanMsgType::TypeCmdScanResult,
        };
        msg as i32 + 1
    }
}

impl DeviceSession {
    fn scan_schema(&self) -> Schema {
        if self.info().uses_network_provisioning() {
            Schema::NetworkProvisioning
        } else {
            Schema::WifiProvisioning
        }
    }

    async fn scan_request(&self, command: ScanCommand) -> Result<ScanReply, DeviceError> {
        let schema = self.scan_schema();
        let expected = command.reply_msg();
        let reply = self.request(SCAN_ENDPOINT, &schema.encode(command)).await?;
        schema.decode(expected, &reply)
    }

    /// How many scan results fit in one reply on this link and security.
    pub fn scan_page_size(&self) -> usize {
        let mut limit = self.transport().max_message_len();
        if self.transport().kind() == crate::transport::TransportKind::Ble {
            let value_limit = match self.info().security {
                crate::security::SecurityLevel::Sec2 => BLE_VALUE_LIMIT_SEC2,
                _ => BLE_VALUE_LIMIT_SEC01,
            };
            limit = limit.min(value_limit);
        }
        (limit.saturating_sub(32) / SCAN_ENTRY_MAX_LEN).clamp(1, SCAN_MAX_ENTRIES)
    }

    /// Asks the device to scan and returns what it sees, strongest first. Uses a blocking scan
    /// (the reply comes when the scan is done), one status read and as few result pages as the
    /// link allows; reads at most [`SCAN_RESULT_LIMIT`] results whatever count the device gives.
    pub async fn scan_wifi(&self, options: ScanOptions) -> Result<Vec<WifiNetworkSeen>, DeviceError> {
        self.scan_request(ScanCommand::Start(options)).await?;
        let ScanReply::Status { result_count } = self.scan_request(ScanCommand::Status).await? else {
            return Err(unexpected(SCAN_ENDPOINT, "scan status of another kind"));
        };
        let total = (result_count as usize).min(SCAN_RESULT_LIMIT);
        let page = self.scan_page_size();
        let mut networks = Vec::with_capacity(total);
        while networks.len() < total {
            let count = page.min(total - networks.len());
            let command = ScanCommand::Results { start_index: networks.len() as u32, count: count as u32 };
            let ScanReply::Results(entries) = self.scan_request(command).await? else {
                return Err(unexpected(SCAN_ENDPOINT, "scan results of another kind"));
            };
            if entries.is_empty() {
                return Err(unexpected(SCAN_ENDPOINT, "an empty page of scan results"));
            }
            networks.extend(entries.into_iter().take(count).map(|entry| WifiNetworkSeen {
                ssid: String::from_utf8_lossy(&entry.ssid).into_owned(),
                bssid: bssid(&entry.bssid),
                ssid_bytes: entry.ssid,
                channel: entry.channel,
                rssi: entry.rssi,
                auth: AuthMode::from_wire(entry.auth),
            }));
        }
        networks.sort_by_key(|n| std::cmp::Reverse(n.rssi));
        Ok(networks)
    }
}
