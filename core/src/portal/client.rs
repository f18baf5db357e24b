//! The HTTP client of a captive portal: `GET` its Wi-Fi page and `POST /wifisave`, one TCP
//! connection per request (`Connection: close`, as the firmware's web server serves one client
//! at a time), each reply read to its end within a bound. Redirects are reported, not followed.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use super::PortalError;
use super::page::{PortalPage, parse_page};
use crate::secret::SecretString;
use crate::transport::http1::{BodyError, host_header, read_body, read_head};

/// Where WiFiManager-style firmware serves its portal (the access point's own address).
pub const DEFAULT_PORTAL_ADDRESS: &str = "192.168.4.1:80";

/// Most bytes read from one portal reply (WiFiManager's Wi-Fi page with its inline style,
/// script and a few dozen networks is about 10 KB).
const MAX_PAGE_LEN: usize = 64 * 1024;

/// The page with the scan (WiFiManager `R_wifi`; its request makes the device scan).
pub const WIFI_PAGE: &str = "/wifi";
/// The same form without the scan (`R_wifinoscan`).
pub const WIFI_PAGE_NO_SCAN: &str = "/0wifi";
/// Where the form posts (`R_wifisave`).
pub const SAVE_PATH: &str = "/wifisave";

/// A portal device at one address.
#[derive(Debug, Clone)]
pub struct PortalClient {
    address: String,
    host: String,
    timeout: Duration,
}

impl PortalClient {
    /// A client for the portal at `address` (`host:port`, e.g. [`DEFAULT_PORTAL_ADDRESS`]);
    /// each request may take `timeout`. Nothing is sent yet.
    pub fn new(address: &str, timeout: Duration) -> Result<Self, PortalError> {
        let host = host_header(address)
            .map_err(|reason| PortalError::Unreachable { address: address.to_owned(), reason })?;
        Ok(Self { address: address.to_owned(), host, timeout })
    }

    /// The device's Wi-Fi page: the networks it scanned and its form's fields. The firmware
    /// scans while it answers, which takes a few seconds.
    pub async fn wifi_page(&self, path: &str) -> Result<PortalPage, PortalError> {
        let request = Zeroizing::new(format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
            self.host
        ));
        let body = self.round_trip(path, request).await?;
        let html = String::from_utf8_lossy(&body);
        parse_page(&html).map_err(|error| PortalError::Page { path: path.to_owned(), error })
    }

    /// Posts the form (`s`, `p` and the custom parameters, in order) to `/wifisave`. The
    /// firmware answers at once and only then tries the network, so a success says the form
    /// arrived, not that the device joined.
    pub async fn save(&self, fields: &[(&str, &SecretString)]) -> Result<(), PortalError> {
        // Reserved up front (percent-encoding at most triples a byte), so the buffer holding the
        // password never reallocates and leaves no copy behind.
        let room: usize = fields.iter().map(|(name, value)| name.len() + 3 * value.expose().len() + 2).sum();
        let mut body = Zeroizing::new(String::with_capacity(room));
        {
            let mut form = url::form_urlencoded::Serializer::new(&mut *body);
            for (name, value) in fields {
                form.append_pair(name, value.expose());
            }
        }
        let head = format!(
            "POST {SAVE_PATH} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.host,
            body.len()
        );
        let mut request = Zeroizing::new(String::with_capacity(head.len() + body.len()));
        request.push_str(&head);
        request.push_str(&body);
        self.round_trip(SAVE_PATH, request).await.map(drop)
    }

    async fn round_trip(&self, path: &str, request: Zeroizing<String>) -> Result<Vec<u8>, PortalError> {
        let exchange = async {
            let mut stream = TcpStream::connect(&self.address).await.map_err(|e| {
                PortalError::Unreachable { address: self.address.clone(), reason: e.to_string() }
            })?;
            let broken = || PortalError::Broken { path: path.to_owned() };
            stream.write_all(request.as_bytes()).await.map_err(|_| broken())?;
            let head = read_head(&mut stream).await.map_err(|_| broken())?;
            let (status, location) = (head.status, head.location.clone());
            let body = read_body(&mut stream, head, MAX_PAGE_LEN).await.map_err(|error| match error {
                BodyError::TooLarge(_) => {
                    PortalError::TooLarge { path: path.to_owned(), limit: MAX_PAGE_LEN }
                }
                BodyError::Broken => broken(),
            })?;
            match status {
                200 => Ok(body),
                300..=399 => Err(PortalError::Redirected {
                    path: path.to_owned(),
                    location: location.unwrap_or_default(),
                }),
                404 => Err(PortalError::NoSuchPage(path.to_owned())),
                status => Err(PortalError::HttpStatus { path: path.to_owned(), status }),
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(PortalError::Timeout { path: path.to_owned(), after: self.timeout }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_is_the_address_wifimanager_compares() {
        assert_eq!(
            PortalClient::new(DEFAULT_PORTAL_ADDRESS, Duration::from_secs(1)).unwrap().host,
            "192.168.4.1"
        );
        assert_eq!(
            PortalClient::new("127.0.0.1:8080", Duration::from_secs(1)).unwrap().host,
            "127.0.0.1:8080"
        );
        assert!(matches!(
            PortalClient::new("192.168.4.1", Duration::from_secs(1)),
            Err(PortalError::Unreachable { .. })
        ));
    }
}
