//! A real HTTP/1.1 server on a loopback port that can be taken down and brought back on the same
//! port, to simulate a backend outage: going down closes the listener *and* every open
//! connection, so clients see refused connections, not a polite error.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

/// An axum router served on `127.0.0.1:<port>`.
#[derive(Debug)]
pub struct LoopbackServer {
    address: SocketAddr,
    router: Router,
    task: Mutex<Option<JoinHandle<()>>>,
}

fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(128)
}

async fn serve(listener: TcpListener, router: Router) {
    // Connections live in this set, so aborting the server task ends them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(%error, "simulated backend connection ended with an error");
                        }
                    });
                }
                Err(error) => tracing::warn!(%error, "simulated backend could not accept a connection"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl LoopbackServer {
    /// Serves `router` on a free loopback port.
    pub async fn start(router: Router) -> io::Result<Self> {
        Self::start_on(router, 0).await
    }

    /// Serves `router` on `127.0.0.1:port` (0 = any free port).
    pub async fn start_on(router: Router, port: u16) -> io::Result<Self> {
        Self::start_at(router, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
    }

    /// Serves `router` on `address` (e.g. `0.0.0.0:8081` so an emulator can reach it).
    pub async fn start_at(router: Router, address: SocketAddr) -> io::Result<Self> {
        Ok(Self::reserve(address)?.serve(router))
    }

    /// Listens on `address` (port 0: any free port) before the router exists, for a router that
    /// needs its own URL (an OAuth issuer): the port stays held, so no other process takes it in
    /// between. Connections wait in the backlog until [`ReservedPort::serve`].
    pub fn reserve(address: SocketAddr) -> io::Result<ReservedPort> {
        let listener = bind(address)?;
        let address = listener.local_addr()?;
        Ok(ReservedPort { listener, address })
    }

    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Stops listening and drops every open connection; new connections are refused.
    pub async fn go_down(&self) {
        if let Some(task) = self.task.lock().await.take() {
            task.abort();
            // Wait until the task is gone, so the port is closed when this returns.
            let _cancelled = task.await;
            tracing::info!(address = %self.address, "simulated server down");
        }
    }

    /// Listens again on the same port (no-op when already up).
    pub async fn come_up(&self) -> io::Result<()> {
        let mut task = self.task.lock().await;
        if task.is_none() {
            let listener = bind(self.address)?;
            *task = Some(tokio::spawn(serve(listener, self.router.clone())));
            tracing::info!(address = %self.address, "simulated server up again");
        }
        Ok(())
    }

    /// Whether the server is listening.
    pub async fn is_up(&self) -> bool {
        self.task.lock().await.is_some()
    }
}

/// A port listened on, not served yet: see [`LoopbackServer::reserve`].
#[derive(Debug)]
pub struct ReservedPort {
    listener: TcpListener,
    address: SocketAddr,
}

impl ReservedPort {
    /// The address held.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Serves `router` on the held port.
    pub fn serve(self, router: Router) -> LoopbackServer {
        let address = self.address;
        let task = tokio::spawn(serve(self.listener, router.clone()));
        tracing::info!(%address, "simulated server listening");
        LoopbackServer { address, router, task: Mutex::new(Some(task)) }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn fetch(address: SocketAddr) -> io::Result<String> {
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn down_refuses_and_up_serves_on_the_same_port() -> io::Result<()> {
        let server = LoopbackServer::start(Router::new().route("/ping", get(|| async { "pong" }))).await?;
        assert!(fetch(server.local_addr()).await?.ends_with("pong"));
        server.go_down().await;
        assert!(!server.is_up().await);
        assert!(fetch(server.local_addr()).await.is_err());
        server.come_up().await?;
        assert!(fetch(server.local_addr()).await?.ends_with("pong"));
        assert!(server.base_url().starts_with("http://127.0.0.1:"));
        Ok(())
    }
}
