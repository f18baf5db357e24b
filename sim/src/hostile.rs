//! A hostile HTTP server for tests of the client's bounds: it answers each connection's request
//! with a fixed head and then, if asked, a body without end (a device, backend or identity
//! provider that never stops sending), and counts the connections it accepted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What follows the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileBody {
    /// Nothing: the head says it all (a redirect, a size it never sends).
    None,
    /// Raw bytes until the client hangs up (after `connection: close`).
    Endless,
    /// Chunks of `transfer-encoding: chunked` until the client hangs up.
    EndlessChunks,
}

/// Most bytes one connection sends, so a test never runs away.
const MAX_SENT: usize = 8 * 1024 * 1024;

/// A running hostile server; stops when dropped.
pub struct HostileServer {
    address: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl HostileServer {
    /// Serves on a loopback port: reads one request per connection, writes `head`, then `body`.
    pub async fn start(head: impl Into<String>, body: HostileBody) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let head: Arc<str> = head.into().into();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let head = head.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 16 * 1024];
                    if stream.read(&mut request).await.unwrap_or(0) == 0
                        || stream.write_all(head.as_bytes()).await.is_err()
                    {
                        return;
                    }
                    let chunk = match body {
                        HostileBody::None => return,
                        HostileBody::Endless => vec![b' '; 4096],
                        HostileBody::EndlessChunks => {
                            [b"1000\r\n".as_slice(), &[b'x'; 4096], b"\r\n"].concat()
                        }
                    };
                    let mut sent = 0;
                    while sent < MAX_SENT && stream.write_all(&chunk).await.is_ok() {
                        sent += chunk.len();
                    }
                });
            }
        });
        Ok(Self { address, accepted, task })
    }

    /// A JSON reply with `status_line` that never ends: declaring a 50 MB body it never sends,
    /// or (`declared` false) sending bytes until the client hangs up.
    pub async fn endless_json(status_line: &str, declared: bool) -> std::io::Result<Self> {
        let (length, body) = if declared {
            ("content-length: 50000000", HostileBody::None)
        } else {
            ("connection: close", HostileBody::Endless)
        };
        Self::start(format!("{status_line}\r\ncontent-type: application/json\r\n{length}\r\n\r\n"), body)
            .await
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many connections it accepted.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
