//! The HTTP/1.1 replies of devices on their own access point, read on one TCP connection
//! within a bound: the SoftAP transport (ESP-IDF's httpd) and the captive-portal client
//! (WiFiManager's web server) share it. Redirects are reported, never followed.

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Largest reply head read (device web servers send a few short headers).
const MAX_HEAD_LEN: usize = 8 * 1024;
/// Most headers a reply head may have.
const MAX_HEADERS: usize = 32;

/// The `Host` header for a device at `address` (`host:port`): the host, with the port unless it
/// is 80 (WiFiManager's `captivePortal` redirects any request whose `Host` differs from exactly
/// that). Why the address is unusable otherwise.
pub(crate) fn host_header(address: &str) -> Result<String, String> {
    let url = url::Url::parse(&format!("http://{address}/")).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host in the address")?;
    if url.port().is_none() && !address.ends_with(":80") {
        return Err("give the address as host:port, e.g. 192.168.4.1:80".into());
    }
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// What a reply head says.
pub(crate) struct Head {
    /// The status code.
    pub(crate) status: u16,
    /// The `Set-Cookie` values, in order.
    pub(crate) set_cookies: Vec<String>,
    /// The `Location` value of a redirect.
    pub(crate) location: Option<String>,
    /// How the body is delimited.
    pub(crate) length: BodyLength,
    /// Whether the connection stays open after this reply.
    pub(crate) keep_alive: bool,
    /// Bytes after the head already read.
    rest: Vec<u8>,
}

/// How the reply body is delimited.
pub(crate) enum BodyLength {
    Declared(usize),
    Chunked,
    UntilClose,
}

/// Reads and parses the reply head.
pub(crate) async fn read_head(stream: &mut TcpStream) -> std::io::Result<Head> {
    let broken = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(chunk.get(..read).ok_or_else(broken)?);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buffer).map_err(|_| broken())? {
            httparse::Status::Partial if buffer.len() < MAX_HEAD_LEN => continue,
            httparse::Status::Partial => return Err(broken()),
            httparse::Status::Complete(head_len) => {
                let mut head = Head {
                    status: response.code.ok_or_else(broken)?,
                    set_cookies: Vec::new(),
                    location: None,
                    length: BodyLength::UntilClose,
                    keep_alive: response.version == Some(1),
                    rest: buffer.get(head_len..).ok_or_else(broken)?.to_vec(),
                };
                for header in response.headers.iter() {
                    let value = std::str::from_utf8(header.value).map_err(|_| broken())?.trim();
                    if header.name.eq_ignore_ascii_case("set-cookie") {
                        head.set_cookies.push(value.to_owned());
                    } else if header.name.eq_ignore_ascii_case("location") {
                        head.location = Some(value.to_owned());
                    } else if header.name.eq_ignore_ascii_case("content-length") {
                        head.length = BodyLength::Declared(value.parse().map_err(|_| broken())?);
                    } else if header.name.eq_ignore_ascii_case("transfer-encoding")
                        && value.eq_ignore_ascii_case("chunked")
                    {
                        head.length = BodyLength::Chunked;
                    } else if header.name.eq_ignore_ascii_case("connection") {
                        head.keep_alive = !value.eq_ignore_ascii_case("close");
                    }
                }
                return Ok(head);
            }
        }
    }
}

/// Why a reply body could not be read.
pub(crate) enum BodyError {
    /// It is larger than the limit (the size declared, or the bound reached).
    TooLarge(usize),
    /// The connection broke or the framing is wrong.
    Broken,
}

/// Reads the body the head announced, never more than `limit` bytes: a larger declared length
/// is refused unread, an undeclared one is read only up to the bound.
pub(crate) async fn read_body(
    stream: &mut TcpStream,
    head: Head,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut reader = Buffered { stream, pending: head.rest, offset: 0 };
    match head.length {
        BodyLength::Declared(len) if len > limit => Err(BodyError::TooLarge(len)),
        BodyLength::Declared(len) => reader.take(len).await,
        BodyLength::UntilClose => {
            let mut body = Vec::new();
            while let Some(byte) = reader.byte().await? {
                if body.len() == limit {
                    return Err(BodyError::TooLarge(limit + 1));
                }
                body.push(byte);
            }
            Ok(body)
        }
        BodyLength::Chunked => {
            let mut body = Vec::new();
            loop {
                let line = reader.line().await?;
                let size = line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16).map_err(|_| BodyError::Broken)?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !reader.line().await?.is_empty() {}
                    return Ok(body);
                }
                if body.len() + size > limit {
                    return Err(BodyError::TooLarge(body.len() + size));
                }
                body.extend(reader.take(size).await?);
                if !reader.line().await?.is_empty() {
                    return Err(BodyError::Broken);
                }
            }
        }
    }
}

/// The connection, with the bytes already read past the head.
struct Buffered<'a> {
    stream: &'a mut TcpStream,
    pending: Vec<u8>,
    offset: usize,
}

impl Buffered<'_> {
    /// The next byte, `None` at the end of the stream.
    async fn byte(&mut self) -> Result<Option<u8>, BodyError> {
        if self.offset == self.pending.len() {
            let mut chunk = [0u8; 1024];
            let read = self.stream.read(&mut chunk).await.map_err(|_| BodyError::Broken)?;
            self.pending = chunk.get(..read).ok_or(BodyError::Broken)?.to_vec();
            self.offset = 0;
        }
        let byte = self.pending.get(self.offset).copied();
        self.offset += usize::from(byte.is_some());
        Ok(byte)
    }

    /// Exactly `len` bytes.
    async fn take(&mut self, len: usize) -> Result<Vec<u8>, BodyError> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            out.push(self.byte().await?.ok_or(BodyError::Broken)?);
        }
        Ok(out)
    }

    /// One CRLF-terminated line of chunk framing, without its CRLF (at most 256 bytes).
    async fn line(&mut self) -> Result<String, BodyError> {
        let mut line = Vec::new();
        loop {
            match self.byte().await?.ok_or(BodyError::Broken)? {
                b'\n' if line.last() == Some(&b'\r') => {
                    line.pop();
                    return String::from_utf8(line).map_err(|_| BodyError::Broken);
                }
                _ if line.len() >= 256 => return Err(BodyError::Broken),
                byte => line.push(byte),
            }
        }
    }
}
