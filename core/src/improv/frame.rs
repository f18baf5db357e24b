//! Improv's RPC frames, states and error codes (improv-wifi.com `ble.md` and `serial.md`,
//! revisions up to 2.4; improv-wifi/sdk-cpp `src/improv.h`, `src/improv.cpp`).
//!
//! A command is `[command][data length][data ...]`; over BLE a checksum byte follows (the low
//! byte of the sum of all earlier bytes), over serial the packet around it carries the checksum.
//! A result is `[command][data length][length-prefixed UTF-8 strings ...]`, framed the same way.

use zeroize::Zeroizing;

use crate::secret::SecretString;

/// The longest SSID Wi-Fi allows (IEEE 802.11, 32 octets).
pub const MAX_SSID_LEN: usize = 32;
/// The longest WPA passphrase (63 characters, or 64 hexadecimal digits of a raw key).
pub const MAX_PASSWORD_LEN: usize = 64;
/// The longest hostname RFC 1123 allows, and so Improv's hostname command.
pub const MAX_HOSTNAME_LEN: usize = 255;

/// The low byte of the sum of `bytes`: Improv's checksum over BLE and serial.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte))
}

/// The device's provisioning state (the current-state characteristic, serial packet type 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for the person to authorize (press the device's button); BLE only.
    AuthorizationRequired,
    /// Ready to take Wi-Fi credentials ("ready" over serial).
    Authorized,
    /// Credentials received; joining the network.
    Provisioning,
    /// Joined the network.
    Provisioned,
}

impl State {
    /// The state's byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::AuthorizationRequired => 0x01,
            Self::Authorized => 0x02,
            Self::Provisioning => 0x03,
            Self::Provisioned => 0x04,
        }
    }

    /// The state a byte stands for.
    pub fn from_byte(byte: u8) -> Result<Self, FrameError> {
        Ok(match byte {
            0x01 => Self::AuthorizationRequired,
            0x02 => Self::Authorized,
            0x03 => Self::Provisioning,
            0x04 => Self::Provisioned,
            other => return Err(FrameError::UnknownState(other)),
        })
    }
}

/// An error the device reports (the error-state characteristic, serial packet type 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DeviceFault {
    /// 0x01: the device could not parse the command (bad length or checksum).
    #[error("the device could not read the command (Improv error 0x01, invalid RPC packet)")]
    InvalidRpc,
    /// 0x02: the device does not know the command.
    #[error("the device's firmware does not support this command (Improv error 0x02)")]
    UnknownCommand,
    /// 0x03: the device could not join the network with the credentials.
    #[error(
        "the device could not join the Wi-Fi network; check the network name and password (Improv error 0x03)"
    )]
    UnableToConnect,
    /// 0x04: credentials or a setting were sent before the device was authorized.
    #[error("the device is not authorized; press the button on the device and try again (Improv error 0x04)")]
    NotAuthorized,
    /// 0x05 (2.3): the hostname was not acceptable.
    #[error("the device refused the hostname (Improv error 0x05); use letters, digits and hyphens")]
    BadHostname,
    /// 0xFF: the device failed without saying why.
    #[error("the device reported an unknown error (Improv error 0xFF)")]
    Unknown,
    /// A code no published revision assigns.
    #[error("the device reported error 0x{0:02x}, which Improv up to 2.4 does not define")]
    Unassigned(u8),
}

impl DeviceFault {
    /// The fault a non-zero error byte stands for; `None` for 0x00 (no error).
    pub fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x00 => return None,
            0x01 => Self::InvalidRpc,
            0x02 => Self::UnknownCommand,
            0x03 => Self::UnableToConnect,
            0x04 => Self::NotAuthorized,
            0x05 => Self::BadHostname,
            0xFF => Self::Unknown,
            other => Self::Unassigned(other),
        })
    }

    /// The fault's byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::InvalidRpc => 0x01,
            Self::UnknownCommand => 0x02,
            Self::UnableToConnect => 0x03,
            Self::NotAuthorized => 0x04,
            Self::BadHostname => 0x05,
            Self::Unknown => 0xFF,
            Self::Unassigned(other) => other,
        }
    }
}

/// What the device says it supports (the capabilities characteristic and advertisement byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(pub u8);

impl Capabilities {
    /// Bit 0: the identify command.
    pub const IDENTIFY: u8 = 0x01;
    /// Bit 1 (2.1): the device-info command.
    pub const DEVICE_INFO: u8 = 0x02;
    /// Bit 2 (2.2): the Wi-Fi scan command.
    pub const SCAN: u8 = 0x04;

    /// Whether the device supports identify.
    pub fn identify(self) -> bool {
        self.0 & Self::IDENTIFY != 0
    }

    /// Whether the device supports device info.
    pub fn device_info(self) -> bool {
        self.0 & Self::DEVICE_INFO != 0
    }

    /// Whether the device supports scanning for networks.
    pub fn scan(self) -> bool {
        self.0 & Self::SCAN != 0
    }
}

/// Command identifiers.
pub mod command_id {
    /// Send Wi-Fi settings.
    pub const WIFI_SETTINGS: u8 = 0x01;
    /// Identify (BLE) / request current state (serial).
    pub const IDENTIFY_OR_REQUEST_STATE: u8 = 0x02;
    /// Device info (2.1).
    pub const DEVICE_INFO: u8 = 0x03;
    /// Scan Wi-Fi networks (2.2).
    pub const SCAN: u8 = 0x04;
    /// Get or set the hostname (2.3).
    pub const HOSTNAME: u8 = 0x05;
    /// Get or set the device name (2.4).
    pub const DEVICE_NAME: u8 = 0x06;
}

/// An RPC command of revisions up to 2.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// 0x01: join this network; needs state authorized.
    WifiSettings {
        /// The network name.
        ssid: String,
        /// Its passphrase (empty for an open network).
        password: SecretString,
    },
    /// 0x02 over BLE: make the device blink or beep.
    Identify,
    /// 0x02 over serial: ask for the current state (and the redirect URL once provisioned).
    RequestState,
    /// 0x03: firmware name, version, chip family, device name.
    DeviceInfo,
    /// 0x04: the networks the device sees, one result each, an empty result last.
    ScanNetworks,
    /// 0x05: read the hostname (`None`) or set it.
    Hostname(Option<String>),
    /// 0x06: read the device name (`None`) or set it.
    DeviceName(Option<String>),
}

impl Command {
    /// The command's identifier.
    pub fn id(&self) -> u8 {
        use command_id::*;
        match self {
            Self::WifiSettings { .. } => WIFI_SETTINGS,
            Self::Identify | Self::RequestState => IDENTIFY_OR_REQUEST_STATE,
            Self::DeviceInfo => DEVICE_INFO,
            Self::ScanNetworks => SCAN,
            Self::Hostname(_) => HOSTNAME,
            Self::DeviceName(_) => DEVICE_NAME,
        }
    }

    /// `[command][data length][data ...]`, the form serial packets carry. Zeroized on drop,
    /// since the Wi-Fi command carries the passphrase.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, FrameError> {
        let mut data = Zeroizing::new(Vec::new());
        match self {
            Self::WifiSettings { ssid, password } => {
                if ssid.is_empty() {
                    return Err(FrameError::EmptySsid);
                }
                push_field(&mut data, Field::Ssid, ssid.as_bytes(), MAX_SSID_LEN)?;
                push_field(&mut data, Field::Password, password.expose().as_bytes(), MAX_PASSWORD_LEN)?;
            }
            Self::Hostname(Some(name)) => push_raw(&mut data, Field::Hostname, name, MAX_HOSTNAME_LEN)?,
            Self::DeviceName(Some(name)) => push_raw(&mut data, Field::DeviceName, name, u8::MAX.into())?,
            _ => {}
        }
        let mut frame = Zeroizing::new(Vec::with_capacity(data.len() + 3));
        frame.push(self.id());
        frame.push(data.len() as u8);
        frame.extend_from_slice(&data);
        Ok(frame)
    }

    /// The frame written to the BLE RPC characteristic: [`Command::encode`] and its checksum.
    pub fn encode_ble(&self) -> Result<Zeroizing<Vec<u8>>, FrameError> {
        let mut frame = self.encode()?;
        let sum = checksum(&frame);
        frame.push(sum);
        Ok(frame)
    }

    /// Reads a command as a device does (`serial` picks the meaning of 0x02); `frame` has no
    /// checksum (see [`strip_checksum`]).
    pub fn decode(frame: &[u8], serial: bool) -> Result<Self, FrameError> {
        let data = frame_data(frame)?;
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| FrameError::NotUtf8);
        let optional = |bytes: &[u8]| if bytes.is_empty() { Ok(None) } else { text(bytes).map(Some) };
        Ok(match frame[0] {
            command_id::WIFI_SETTINGS => {
                let fields = split_strings(data)?;
                let found = fields.len();
                let Ok([ssid, password]) = <[String; 2]>::try_from(fields) else {
                    return Err(FrameError::FieldCount { expected: 2, found });
                };
                if ssid.is_empty() {
                    return Err(FrameError::EmptySsid);
                }
                check_len(Field::Ssid, ssid.len(), MAX_SSID_LEN)?;
                check_len(Field::Password, password.len(), MAX_PASSWORD_LEN)?;
                Self::WifiSettings { ssid, password: SecretString::new(password) }
            }
            command_id::IDENTIFY_OR_REQUEST_STATE if serial => Self::RequestState,
            command_id::IDENTIFY_OR_REQUEST_STATE => Self::Identify,
            command_id::DEVICE_INFO => Self::DeviceInfo,
            command_id::SCAN => Self::ScanNetworks,
            command_id::HOSTNAME => Self::Hostname(optional(data)?),
            command_id::DEVICE_NAME => Self::DeviceName(optional(data)?),
            other => return Err(FrameError::UnknownCommand(other)),
        })
    }
}

/// A field of a command, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The network name.
    Ssid,
    /// The passphrase.
    Password,
    /// The hostname.
    Hostname,
    /// The device name.
    DeviceName,
    /// A string of a result.
    ResultString,
}

fn check_len(field: Field, len: usize, max: usize) -> Result<(), FrameError> {
    if len > max {
        return Err(FrameError::FieldTooLong { field, len, max });
    }
    Ok(())
}

fn push_field(data: &mut Vec<u8>, field: Field, value: &[u8], max: usize) -> Result<(), FrameError> {
    check_len(field, value.len(), max)?;
    data.push(value.len() as u8);
    data.extend_from_slice(value);
    Ok(())
}

fn push_raw(data: &mut Vec<u8>, field: Field, value: &str, max: usize) -> Result<(), FrameError> {
    check_len(field, value.len(), max.min(u8::MAX.into()))?;
    data.extend_from_slice(value.as_bytes());
    Ok(())
}

/// An RPC result: the command answered and its strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcResult {
    /// The command this answers.
    pub command: u8,
    /// Its strings (may be empty).
    pub strings: Vec<String>,
}

impl RpcResult {
    /// `[command][data length][strings ...]`, as serial result packets carry it.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let mut data = Vec::new();
        for string in &self.strings {
            push_field(&mut data, Field::ResultString, string.as_bytes(), u8::MAX.into())?;
        }
        check_len(Field::ResultString, data.len(), u8::MAX.into())?;
        let mut frame = vec![self.command, data.len() as u8];
        frame.extend_from_slice(&data);
        Ok(frame)
    }

    /// The value of the BLE RPC-result characteristic: [`RpcResult::encode`] and its checksum.
    pub fn encode_ble(&self) -> Result<Vec<u8>, FrameError> {
        let mut frame = self.encode()?;
        frame.push(checksum(&frame));
        Ok(frame)
    }

    /// Reads a result without checksum (serial).
    pub fn decode(frame: &[u8]) -> Result<Self, FrameError> {
        let data = frame_data(frame)?;
        Ok(Self { command: frame[0], strings: split_strings(data)? })
    }

    /// Reads the BLE RPC-result characteristic (checksum last).
    pub fn decode_ble(value: &[u8]) -> Result<Self, FrameError> {
        Self::decode(strip_checksum(value)?)
    }
}

/// Checks and removes the trailing checksum of a BLE frame.
pub fn strip_checksum(value: &[u8]) -> Result<&[u8], FrameError> {
    let Some((&sum, frame)) = value.split_last() else {
        return Err(FrameError::TooShort { len: 0 });
    };
    let expected = checksum(frame);
    if sum != expected {
        return Err(FrameError::Checksum { expected, found: sum });
    }
    Ok(frame)
}

/// The data of `[command][length][data]`, checking the length.
fn frame_data(frame: &[u8]) -> Result<&[u8], FrameError> {
    let [_, declared, data @ ..] = frame else {
        return Err(FrameError::TooShort { len: frame.len() });
    };
    if usize::from(*declared) != data.len() {
        return Err(FrameError::LengthMismatch { declared: *declared, actual: data.len() });
    }
    Ok(data)
}

/// Length-prefixed UTF-8 strings filling `data` exactly.
fn split_strings(mut data: &[u8]) -> Result<Vec<String>, FrameError> {
    let mut strings = Vec::new();
    while let [len, rest @ ..] = data {
        let len = usize::from(*len);
        if len > rest.len() {
            return Err(FrameError::StringOverrun { len, left: rest.len() });
        }
        let (string, tail) = rest.split_at(len);
        strings.push(String::from_utf8(string.to_vec()).map_err(|_| FrameError::NotUtf8)?);
        data = tail;
    }
    Ok(strings)
}

/// Why a frame could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than a frame's header.
    #[error("an Improv frame of {len} bytes is too short")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The length byte disagrees with the data.
    #[error("an Improv frame declares {declared} data bytes but carries {actual}")]
    LengthMismatch {
        /// The length byte.
        declared: u8,
        /// The data present.
        actual: usize,
    },
    /// The checksum is wrong.
    #[error("an Improv frame's checksum is 0x{found:02x}, expected 0x{expected:02x}")]
    Checksum {
        /// What the bytes sum to.
        expected: u8,
        /// What the frame carries.
        found: u8,
    },
    /// A string's length runs past the frame.
    #[error("an Improv string of {len} bytes runs past the frame ({left} left)")]
    StringOverrun {
        /// The string's length byte.
        len: usize,
        /// Bytes left.
        left: usize,
    },
    /// A string is not UTF-8.
    #[error("an Improv string is not UTF-8")]
    NotUtf8,
    /// A command identifier no revision up to 2.4 defines.
    #[error("Improv command 0x{0:02x} is not defined up to revision 2.4")]
    UnknownCommand(u8),
    /// A state byte no revision defines.
    #[error("Improv state 0x{0:02x} is not defined")]
    UnknownState(u8),
    /// A command has the wrong number of strings.
    #[error("an Improv command carries {found} strings, expected {expected}")]
    FieldCount {
        /// Strings expected.
        expected: usize,
        /// Strings found.
        found: usize,
    },
    /// A value is longer than its field allows.
    #[error("the {field:?} is {len} bytes long; at most {max} fit")]
    FieldTooLong {
        /// Which value.
        field: Field,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The network name is empty.
    #[error("the Wi-Fi network name is empty")]
    EmptySsid,
    /// A serial packet's header is not `IMPROV`.
    #[error("not an Improv serial packet (no `IMPROV` header)")]
    BadHeader,
    /// A serial packet of another protocol version.
    #[error("Improv serial version {0} is not supported (only 1)")]
    UnsupportedVersion(u8),
    /// A serial packet type no revision defines.
    #[error("Improv serial packet type 0x{0:02x} is not defined")]
    UnknownPacketType(u8),
    /// A state or error packet without exactly one data byte.
    #[error("an Improv {what} packet carries {len} bytes instead of 1")]
    NotOneByte {
        /// `state` or `error`.
        what: &'static str,
        /// Its data length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn wifi(ssid: &str, password: &str) -> Command {
        Command::WifiSettings { ssid: ssid.into(), password: password.into() }
    }

    // The worked example of the reference (improv-wifi.com ble.md, checksum computed).
    #[test]
    fn wifi_settings_frame_is_the_worked_example() {
        let frame = wifi("MyWirelessAP", "mysecurepassword").encode_ble().unwrap();
        let expected = hex::decode(
            "011e0c4d79576972656c657373415010\
             6d7973656375726570617373776f7264c0",
        )
        .unwrap();
        assert_eq!(frame.as_slice(), expected.as_slice());
        let decoded = Command::decode(strip_checksum(&frame).unwrap(), false).unwrap();
        assert_eq!(decoded, wifi("MyWirelessAP", "mysecurepassword"));
    }

    #[test]
    fn commands_without_data_are_three_bytes_over_ble() {
        assert_eq!(Command::Identify.encode_ble().unwrap().as_slice(), [0x02, 0x00, 0x02]);
        assert_eq!(Command::DeviceInfo.encode_ble().unwrap().as_slice(), [0x03, 0x00, 0x03]);
        assert_eq!(Command::ScanNetworks.encode_ble().unwrap().as_slice(), [0x04, 0x00, 0x04]);
        assert_eq!(Command::Hostname(None).encode_ble().unwrap().as_slice(), [0x05, 0x00, 0x05]);
        assert_eq!(Command::DeviceName(None).encode_ble().unwrap().as_slice(), [0x06, 0x00, 0x06]);
        assert_eq!(Command::RequestState.encode().unwrap().as_slice(), [0x02, 0x00]);
    }

    #[test]
    fn setting_a_name_carries_it_unprefixed() {
        let frame = Command::Hostname(Some("kitchen-1".into())).encode().unwrap();
        assert_eq!(frame[..2], [0x05, 9]);
        assert_eq!(&frame[2..], b"kitchen-1");
        let frame = Command::DeviceName(Some("Kitchen".into())).encode_ble().unwrap();
        assert_eq!(
            Command::decode(strip_checksum(&frame).unwrap(), false).unwrap(),
            Command::DeviceName(Some("Kitchen".into()))
        );
    }

    #[test]
    fn serial_and_ble_read_0x02_differently() {
        assert_eq!(Command::decode(&[0x02, 0x00], true).unwrap(), Command::RequestState);
        assert_eq!(Command::decode(&[0x02, 0x00], false).unwrap(), Command::Identify);
    }

    #[test]
    fn device_info_result_reads_the_spec_example() {
        // ESPHome, 2021.11.0, ESP32-C3, Temperature Monitor (improv-wifi.com ble.md).
        let result = RpcResult {
            command: 0x03,
            strings: vec![
                "ESPHome".into(),
                "2021.11.0".into(),
                "ESP32-C3".into(),
                "Temperature Monitor".into(),
            ],
        };
        let value = result.encode_ble().unwrap();
        // 4 length bytes + 7 + 9 + 8 + 19 string bytes.
        assert_eq!(value[..3], [0x03, 47, 7]);
        assert_eq!(&value[3..10], b"ESPHome");
        assert_eq!(*value.last().unwrap(), checksum(&value[..value.len() - 1]));
        assert_eq!(RpcResult::decode_ble(&value).unwrap(), result);
    }

    #[test]
    fn malformed_frames_are_typed() {
        assert_eq!(RpcResult::decode_ble(&[]), Err(FrameError::TooShort { len: 0 }));
        assert_eq!(
            RpcResult::decode_ble(&[0x01, 0x00, 0x02]),
            Err(FrameError::Checksum { expected: 1, found: 2 })
        );
        assert_eq!(RpcResult::decode(&[0x01]), Err(FrameError::TooShort { len: 1 }));
        assert_eq!(
            RpcResult::decode(&[0x01, 0x02, 0x05]),
            Err(FrameError::LengthMismatch { declared: 2, actual: 1 })
        );
        assert_eq!(
            RpcResult::decode(&[0x01, 0x02, 0x05, b'a']),
            Err(FrameError::StringOverrun { len: 5, left: 1 })
        );
        assert_eq!(RpcResult::decode(&[0x01, 0x02, 0x01, 0xff]), Err(FrameError::NotUtf8));
        assert_eq!(Command::decode(&[0x09, 0x00], false), Err(FrameError::UnknownCommand(9)));
        assert_eq!(Command::decode(&[0x01, 0x02, 0x00, 0x00], false), Err(FrameError::EmptySsid));
        assert_eq!(
            Command::decode(&[0x01, 0x02, 0x01, b'a'], false),
            Err(FrameError::FieldCount { expected: 2, found: 1 })
        );
        assert_eq!(wifi("", "x").encode().unwrap_err(), FrameError::EmptySsid);
        assert!(matches!(
            wifi(&"s".repeat(33), "x").encode(),
            Err(FrameError::FieldTooLong { field: Field::Ssid, len: 33, max: 32 })
        ));
        assert!(matches!(
            wifi("s", &"p".repeat(65)).encode(),
            Err(FrameError::FieldTooLong { field: Field::Password, .. })
        ));
    }

    #[test]
    fn every_state_and_error_byte_is_typed() {
        for state in
            [State::AuthorizationRequired, State::Authorized, State::Provisioning, State::Provisioned]
        {
            assert_eq!(State::from_byte(state.byte()), Ok(state));
        }
        assert_eq!(State::from_byte(0), Err(FrameError::UnknownState(0)));
        assert_eq!(DeviceFault::from_byte(0), None);
        for byte in 1..=255u8 {
            let fault = DeviceFault::from_byte(byte).unwrap();
            assert_eq!(fault.byte(), byte);
            assert_eq!(matches!(fault, DeviceFault::Unassigned(_)), !matches!(byte, 1..=5 | 0xFF));
        }
    }

    #[test]
    fn capability_bits() {
        let all = Capabilities(0x07);
        assert!(all.identify() && all.device_info() && all.scan());
        let none = Capabilities(0);
        assert!(!none.identify() && !none.device_info() && !none.scan());
    }

    fn short_string() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 _.-]{0,20}"
    }

    proptest! {
        #[test]
        fn accepted_results_round_trip(command in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            // A well-framed result with arbitrary data: whatever the client accepts encodes
            // back to exactly the bytes it read.
            let mut bytes = vec![command, data.len() as u8];
            bytes.extend_from_slice(&data);
            bytes.push(checksum(&bytes));
            if let Ok(result) = RpcResult::decode_ble(&bytes) {
                prop_assert_eq!(result.encode_ble().unwrap(), bytes);
            }
        }

        #[test]
        fn built_results_round_trip(command in any::<u8>(), strings in proptest::collection::vec(short_string(), 0..8)) {
            let result = RpcResult { command, strings };
            prop_assert_eq!(RpcResult::decode_ble(&result.encode_ble().unwrap()).unwrap(), result);
        }

        #[test]
        fn built_commands_round_trip(ssid in "[a-zA-Z0-9 ]{1,32}", password in "[ -~]{0,64}", name in short_string()) {
            for command in [
                wifi(&ssid, &password),
                Command::Identify,
                Command::DeviceInfo,
                Command::ScanNetworks,
                Command::Hostname(Some(name.clone()).filter(|n| !n.is_empty())),
                Command::DeviceName(None),
            ] {
                let frame = command.encode_ble().unwrap();
                prop_assert_eq!(Command::decode(strip_checksum(&frame).unwrap(), false).unwrap(), command);
            }
        }

        #[test]
        fn corrupted_frames_are_typed_errors(ssid in "[a-z]{1,16}", index in any::<prop::sample::Index>(), flip in 1..=255u8) {
            // Any single corrupted byte is caught by the checksum (or the length) as an error,
            // never a panic nor a different command.
            let mut frame = wifi(&ssid, "secret").encode_ble().unwrap().to_vec();
            let at = index.index(frame.len());
            frame[at] ^= flip;
            let read = strip_checksum(&frame).and_then(|inner| Command::decode(inner, false));
            prop_assert!(read.is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), serial in any::<bool>()) {
            let _ = Command::decode(&bytes, serial);
            let _ = RpcResult::decode(&bytes);
        }
    }
}
