//! Improv over a serial port (improv-wifi.com `serial.md`; improv-wifi/sdk-cpp
//! `parse_improv_serial_byte`): packets `IMPROV`, version 1, type, length, data, checksum (the
//! low byte of the sum of all earlier bytes, header included). The port also carries the
//! firmware's console log, so the reader skips whatever is not a packet.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use super::ImprovError;
use super::client::{Event, ImprovClient, ImprovLink, ImprovTimeouts};
use super::frame::{Command, DeviceFault, FrameError, RpcResult, State, checksum};

/// The header every packet starts with.
pub const HEADER: &[u8; 6] = b"IMPROV";
/// The only serial protocol version.
pub const VERSION: u8 = 0x01;
/// The console rate of ESPHome and WLED, on which they speak Improv.
pub const DEFAULT_BAUD_RATE: u32 = 115_200;

/// A serial packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Type 1, device to client: the current state.
    State(State),
    /// Type 2, device to client: the error state (`None` for 0x00, no error).
    Error(Option<DeviceFault>),
    /// Type 3, client to device: a command.
    Command(Command),
    /// Type 4, device to client: a result.
    Result(RpcResult),
}

impl Packet {
    fn kind(&self) -> u8 {
        match self {
            Self::State(_) => 0x01,
            Self::Error(_) => 0x02,
            Self::Command(_) => 0x03,
            Self::Result(_) => 0x04,
        }
    }

    /// The packet's bytes; zeroized on drop (a command may carry the passphrase).
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, FrameError> {
        let data = match self {
            Self::State(state) => Zeroizing::new(vec![state.byte()]),
            Self::Error(fault) => Zeroizing::new(vec![fault.map_or(0, DeviceFault::byte)]),
            Self::Command(command) => command.encode()?,
            Self::Result(result) => Zeroizing::new(result.encode()?),
        };
        let mut packet = Zeroizing::new(Vec::with_capacity(data.len() + 10));
        packet.extend_from_slice(HEADER);
        packet.extend_from_slice(&[VERSION, self.kind(), data.len() as u8]);
        packet.extend_from_slice(&data);
        let sum = checksum(&packet);
        packet.push(sum);
        Ok(packet)
    }

    /// Reads one whole packet.
    pub fn decode(packet: &[u8]) -> Result<Self, FrameError> {
        let Some(body) = packet.strip_prefix(HEADER.as_slice()) else {
            return Err(FrameError::BadHeader);
        };
        let [version, kind, len, rest @ ..] = body else {
            return Err(FrameError::TooShort { len: packet.len() });
        };
        if *version != VERSION {
            return Err(FrameError::UnsupportedVersion(*version));
        }
        let Some((&sum, data)) = rest.split_last() else {
            return Err(FrameError::TooShort { len: packet.len() });
        };
        if data.len() != usize::from(*len) {
            return Err(FrameError::LengthMismatch { declared: *len, actual: data.len() });
        }
        let expected = checksum(&packet[..packet.len() - 1]);
        if sum != expected {
            return Err(FrameError::Checksum { expected, found: sum });
        }
        let one_byte = |what| match data {
            [byte] => Ok(*byte),
            _ => Err(FrameError::NotOneByte { what, len: data.len() }),
        };
        Ok(match kind {
            0x01 => Self::State(State::from_byte(one_byte("state")?)?),
            0x02 => Self::Error(DeviceFault::from_byte(one_byte("error")?)),
            0x03 => Self::Command(Command::decode(data, true)?),
            0x04 => Self::Result(RpcResult::decode(data)?),
            other => return Err(FrameError::UnknownPacketType(*other)),
        })
    }
}

/// Finds packets in the bytes read from a port, skipping console output between them.
#[derive(Debug, Default)]
pub struct PacketReader {
    buffer: Vec<u8>,
}

/// The header, version, type and length bytes before the data.
const PREFIX_LEN: usize = HEADER.len() + 3;

impl PacketReader {
    /// Adds bytes read from the port and returns the packets they complete, in order; a
    /// packet that fails its checks is returned as its error (and skipped).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Packet, FrameError>> {
        self.buffer.extend_from_slice(bytes);
        let mut packets = Vec::new();
        loop {
            let Some(start) = find_header(&self.buffer) else {
                // Keep a tail that may be the start of a header.
                let keep =
                    (1..HEADER.len()).rev().find(|n| self.buffer.ends_with(&HEADER[..*n])).unwrap_or(0);
                self.buffer.drain(..self.buffer.len() - keep);
                return packets;
            };
            self.buffer.drain(..start);
            if self.buffer.len() < PREFIX_LEN {
                return packets;
            }
            let total = PREFIX_LEN + usize::from(self.buffer[PREFIX_LEN - 1]) + 1;
            if self.buffer[HEADER.len()] != VERSION {
                // Not a packet after all (or another version): report it and look further.
                packets.push(Err(FrameError::UnsupportedVersion(self.buffer[HEADER.len()])));
                self.buffer.drain(..HEADER.len());
                continue;
            }
            if self.buffer.len() < total {
                return packets;
            }
            let packet: Vec<u8> = self.buffer.drain(..total).collect();
            packets.push(Packet::decode(&packet));
        }
    }
}

fn find_header(bytes: &[u8]) -> Option<usize> {
    bytes.windows(HEADER.len()).position(|window| window == HEADER)
}

/// Opens Improv over a byte stream to a serial device (a port from [`open_port`], or a test's
/// pipe) and asks for its state: an error here means nothing on the port speaks Improv.
pub async fn open<R, W>(reader: R, writer: W, timeouts: ImprovTimeouts) -> Result<ImprovClient, ImprovError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (sender, events) = mpsc::unbounded_channel();
    let reading = tokio::spawn(read_packets(reader, sender));
    let link = SerialLink { writer: tokio::sync::Mutex::new(Box::new(writer)), reading };
    // Serial has no capability byte nor authorization: the device starts ready.
    let mut client = ImprovClient::new(Box::new(link), events, State::Authorized, None, timeouts);
    client.request_state().await?;
    Ok(client)
}

async fn read_packets<R: AsyncRead + Unpin>(
    mut reader: R,
    events: mpsc::UnboundedSender<Result<Event, ImprovError>>,
) {
    let mut packets = PacketReader::default();
    let mut buffer = [0u8; 256];
    loop {
        let read = match reader.read(&mut buffer).await {
            Ok(0) => return,
            Ok(read) => read,
            Err(error) => {
                let _ = events.send(Err(ImprovError::Serial(error.to_string())));
                return;
            }
        };
        for packet in packets.push(&buffer[..read]) {
            let event = match packet {
                Ok(Packet::State(state)) => Ok(Event::State(state)),
                Ok(Packet::Error(fault)) => Ok(Event::Error(fault)),
                Ok(Packet::Result(result)) => Ok(Event::Result(result)),
                // A command is the client's own (an echoing console); nothing to hear.
                Ok(Packet::Command(_)) => continue,
                Err(error) => Err(ImprovError::Frame(error)),
            };
            if events.send(event).is_err() {
                return;
            }
        }
    }
}

struct SerialLink {
    writer: tokio::sync::Mutex<Box<dyn AsyncWrite + Unpin + Send>>,
    reading: tokio::task::JoinHandle<()>,
}

#[async_trait]
impl ImprovLink for SerialLink {
    async fn send(&self, command: &Command) -> Result<(), ImprovError> {
        let packet = Packet::Command(command.clone()).encode()?;
        let mut writer = self.writer.lock().await;
        let written = async {
            writer.write_all(&packet).await?;
            writer.flush().await
        };
        written.await.map_err(|error| ImprovError::Serial(error.to_string()))
    }

    async fn close(&self) {
        self.reading.abort();
        let _ = self.writer.lock().await.shutdown().await;
    }
}

impl Drop for SerialLink {
    fn drop(&mut self) {
        self.reading.abort();
    }
}

/// The serial ports of this computer, by path (`/dev/ttyUSB0`, `COM3`).
pub fn available_ports() -> Result<Vec<String>, ImprovError> {
    let ports = serialport::available_ports().map_err(|error| ImprovError::Serial(error.to_string()))?;
    Ok(ports.into_iter().map(|port| port.port_name).collect())
}

/// An open serial port as the byte streams [`open`] reads and writes.
pub type PortStreams = (ReadHalf<DuplexStream>, WriteHalf<DuplexStream>);

/// Opens a serial port at `baud_rate` as a byte stream for [`open`]. Two threads carry the
/// bytes between the port's blocking calls and the stream; they end when the stream is dropped.
pub fn open_port(path: &str, baud_rate: u32) -> Result<PortStreams, ImprovError> {
    let failed = |error: serialport::Error| ImprovError::Serial(format!("{path}: {error}"));
    let port = serialport::new(path, baud_rate).timeout(PORT_POLL).open().map_err(failed)?;
    let mut from_port = port.try_clone().map_err(failed)?;
    let mut to_port = port;
    let (ours, theirs) = tokio::io::duplex(4096);
    let (mut their_reader, mut their_writer) = tokio::io::split(theirs);
    let runtime = tokio::runtime::Handle::current();
    let closed = Arc::new(AtomicBool::new(false));
    let reader_closed = Arc::clone(&closed);
    let reader_runtime = runtime.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        while !reader_closed.load(Ordering::SeqCst) {
            match from_port.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => {
                    if reader_runtime.block_on(their_writer.write_all(&buffer[..read])).is_err() {
                        break;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
    });
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        loop {
            match runtime.block_on(their_reader.read(&mut buffer)) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if std::io::Write::write_all(&mut to_port, &buffer[..read]).is_err() {
                        break;
                    }
                }
            }
        }
        closed.store(true, Ordering::SeqCst);
    });
    Ok(tokio::io::split(ours))
}

/// How often the port thread looks whether the stream was dropped.
const PORT_POLL: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    // The request-state example of the reference (improv-wifi.com serial.md).
    #[test]
    fn request_state_is_the_worked_example() {
        let packet = Packet::Command(Command::RequestState).encode().unwrap();
        assert_eq!(packet.as_slice(), hex::decode("494d50524f5601030202 00e5".replace(' ', "")).unwrap());
    }

    #[test]
    fn wifi_settings_packet_carries_the_inner_frame_without_checksum() {
        let command =
            Command::WifiSettings { ssid: "MyWirelessAP".into(), password: "mysecurepassword".into() };
        let packet = Packet::Command(command.clone()).encode().unwrap();
        assert_eq!(&packet[..9], b"IMPROV\x01\x03\x20");
        assert_eq!(&packet[9..packet.len() - 1], command.encode().unwrap().as_slice());
        assert_eq!(Packet::decode(&packet).unwrap(), Packet::Command(command));
    }

    #[test]
    fn packets_are_found_between_log_lines() {
        let mut stream = b"[I][wifi:123]: scanning\r\nIMPRO".to_vec();
        let state = Packet::State(State::Authorized).encode().unwrap();
        let error = Packet::Error(None).encode().unwrap();
        let mut reader = PacketReader::default();
        assert!(reader.push(&stream).is_empty());
        stream.clear();
        stream.extend_from_slice(&state[5..]);
        stream.extend_from_slice(b"IMPROVE is a word\n");
        stream.extend_from_slice(&error[..4]);
        let read = reader.push(&stream);
        assert_eq!(read[0], Ok(Packet::State(State::Authorized)));
        assert_eq!(read[1], Err(FrameError::UnsupportedVersion(b'E')));
        assert_eq!(read.len(), 2);
        assert_eq!(reader.push(&error[4..]), vec![Ok(Packet::Error(None))]);
    }

    #[test]
    fn malformed_packets_are_typed() {
        let mut good = Packet::State(State::Provisioned).encode().unwrap().to_vec();
        assert_eq!(Packet::decode(b"IMPROX\x01\x01\x01\x04\x00"), Err(FrameError::BadHeader));
        *good.last_mut().unwrap() ^= 1;
        assert!(matches!(Packet::decode(&good), Err(FrameError::Checksum { .. })));
        let mut two = b"IMPROV\x01\x01\x02\x04\x04".to_vec();
        two.push(checksum(&two));
        assert_eq!(Packet::decode(&two), Err(FrameError::NotOneByte { what: "state", len: 2 }));
        let mut kind = b"IMPROV\x01\x09\x00".to_vec();
        kind.push(checksum(&kind));
        assert_eq!(Packet::decode(&kind), Err(FrameError::UnknownPacketType(9)));
        let mut state = b"IMPROV\x01\x01\x01\x07".to_vec();
        state.push(checksum(&state));
        assert_eq!(Packet::decode(&state), Err(FrameError::UnknownState(7)));
    }

    fn packets() -> impl Strategy<Value = Packet> {
        prop_oneof![
            prop::sample::select(vec![State::Authorized, State::Provisioning, State::Provisioned])
                .prop_map(Packet::State),
            (0..=255u8).prop_map(|b| Packet::Error(DeviceFault::from_byte(b))),
            (any::<u8>(), prop::collection::vec("[a-z0-9:/.]{0,24}", 0..5))
                .prop_map(|(command, strings)| Packet::Result(RpcResult { command, strings })),
            ("[a-zA-Z]{1,32}", "[ -~]{0,64}").prop_map(|(ssid, password)| Packet::Command(
                Command::WifiSettings { ssid, password: password.as_str().into() }
            )),
        ]
    }

    proptest! {
        #[test]
        fn packets_round_trip_through_noise(packets in prop::collection::vec(packets(), 1..6), noise in "[a-z \r\n\\[\\]:]{0,40}", split in 1..40usize) {
            let mut stream = Vec::new();
            for packet in &packets {
                stream.extend_from_slice(noise.as_bytes());
                stream.extend_from_slice(&packet.encode().unwrap());
            }
            let mut reader = PacketReader::default();
            let mut read = Vec::new();
            for chunk in stream.chunks(split) {
                read.extend(reader.push(chunk));
            }
            let read: Vec<Packet> = read.into_iter().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(read, packets);
        }

        #[test]
        fn accepted_packets_round_trip(kind in 1..=4u8, data in prop::collection::vec(any::<u8>(), 0..40)) {
            let mut packet = HEADER.to_vec();
            packet.extend_from_slice(&[VERSION, kind, data.len() as u8]);
            packet.extend_from_slice(&data);
            packet.push(checksum(&packet));
            if let Ok(decoded) = Packet::decode(&packet) {
                // Serial commands read 0x02 as request-state; an identify never comes back.
                let encoded = decoded.encode().unwrap();
                prop_assert_eq!(encoded.as_slice(), packet.as_slice());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = Packet::decode(&bytes);
            let _ = PacketReader::default().push(&bytes);
        }
    }
}
