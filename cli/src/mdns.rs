//! DNS-SD over multicast DNS on the desktop: the CLI's [`ServiceBrowser`] (the flow finds a
//! captive-portal device on the home network once it joined, `unbox provision --protocol portal
//! --announce`), and the announcement of `unbox sim portal --announce` on this computer's
//! loopback. Over `mdns-sd`, which runs its own thread; the CLI only, never the phones' library
//! (their shells browse with Android NSD and Bonjour).

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use unbox_core::platform::service_browser::{BrowseError, ServiceBrowser, ServiceInstance, ServiceQuery};

/// The DNS-SD domain of multicast DNS.
const LOCAL: &str = "local.";

/// `_http._tcp` as multicast DNS names it: `_http._tcp.local.`.
fn local_type(service_type: &str) -> String {
    format!("{}.{LOCAL}", service_type.trim_end_matches('.').trim_end_matches(".local"))
}

/// Reads `--announce INSTANCE._service._tcp` (a trailing `.local` allowed): the instance and
/// its service type, as the flow looks for them.
pub fn parse_announcement(text: &str) -> Result<ServiceQuery, String> {
    let name = text.trim().trim_end_matches('.').trim_end_matches(".local");
    let wrong = || {
        format!(
            "--announce wants the device's DNS-SD name INSTANCE._service._tcp (e.g. esp32-c0ffee._http._tcp), got `{text}`"
        )
    };
    let (rest, protocol) = name.rsplit_once('.').ok_or_else(wrong)?;
    let (instance, service) = rest.rsplit_once('.').ok_or_else(wrong)?;
    let underscored = |label: &str| label.len() > 1 && label.starts_with('_');
    if instance.is_empty() || !underscored(service) || !matches!(protocol, "_tcp" | "_udp") {
        return Err(wrong());
    }
    Ok(ServiceQuery { service_type: format!("{service}.{protocol}"), instance: instance.to_owned() })
}

/// The instance name of `fullname` (`instance._http._tcp.local.`) of type `ty_domain`, with the
/// DNS escapes (`\.`, `\\`, `\DDD`) undone; `None` when it is not of that type.
fn instance_name(fullname: &str, ty_domain: &str) -> Option<String> {
    let escaped = fullname.strip_suffix(ty_domain)?.strip_suffix('.')?;
    let mut name = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.bytes();
    while let Some(byte) = bytes.next() {
        if byte != b'\\' {
            name.push(byte);
            continue;
        }
        let next = bytes.next()?;
        if next.is_ascii_digit() {
            let digits = [next, bytes.next()?, bytes.next()?];
            let text = std::str::from_utf8(&digits).ok()?;
            name.push(text.parse().ok()?);
        } else {
            name.push(next);
        }
    }
    String::from_utf8(name).ok().filter(|name| !name.is_empty())
}

/// What the flow is told about a resolved instance: its name and one address, IPv4 first.
fn service_instance(
    fullname: &str,
    ty_domain: &str,
    port: u16,
    addresses: impl IntoIterator<Item = IpAddr>,
) -> Option<ServiceInstance> {
    let name = instance_name(fullname, ty_domain)?;
    let mut addresses: Vec<IpAddr> = addresses.into_iter().collect();
    addresses.sort_by_key(|address| (address.is_ipv6(), *address));
    let address = addresses.first()?.to_string();
    Some(ServiceInstance { name, address, port })
}

/// Browses the networks this computer is on (and its loopback, where `unbox sim` devices
/// announce) with multicast DNS.
pub struct MdnsBrowser {
    daemon: ServiceDaemon,
}

impl MdnsBrowser {
    /// Starts the mDNS daemon (its thread and sockets on port 5353).
    pub fn new() -> Result<Self, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        daemon.enable_interface(IfKind::LoopbackV4)?;
        Ok(Self { daemon })
    }
}

impl Drop for MdnsBrowser {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

#[async_trait]
impl ServiceBrowser for MdnsBrowser {
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, BrowseError> {
        let ty_domain = local_type(&service_type);
        let events =
            self.daemon.browse(&ty_domain).map_err(|e| BrowseError::Failed { reason: e.to_string() })?;
        let deadline = tokio::time::Instant::now() + within;
        let mut heard: Vec<ServiceInstance> = Vec::new();
        while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.recv_async()).await {
            if let ServiceEvent::ServiceResolved(service) = event
                && let Some(instance) = service_instance(
                    &service.fullname,
                    &ty_domain,
                    service.port,
                    service.addresses.iter().map(|a| a.to_ip_addr()),
                )
                && !heard.contains(&instance)
            {
                heard.push(instance);
            }
        }
        if let Err(error) = self.daemon.stop_browse(&ty_domain) {
            tracing::debug!(%error, "could not stop browsing");
        }
        Ok(heard)
    }
}

/// A service announced on this computer's loopback only (a simulated device "on the home
/// network"), until dropped.
pub struct LoopbackAnnouncement {
    daemon: ServiceDaemon,
}

impl LoopbackAnnouncement {
    /// Announces `query`'s instance at 127.0.0.1:`port`.
    pub fn start(query: &ServiceQuery, port: u16) -> Result<Self, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(IfKind::All)?;
        daemon.enable_interface(IfKind::LoopbackV4)?;
        let host = format!("{}.{LOCAL}", query.instance);
        let info = ServiceInfo::new(
            &local_type(&query.service_type),
            &query.instance,
            &host,
            IpAddr::from([127, 0, 0, 1]),
            port,
            None::<std::collections::HashMap<String, String>>,
        )?;
        daemon.register(info)?;
        Ok(Self { daemon })
    }
}

impl Drop for LoopbackAnnouncement {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_are_read_as_instance_and_service_type() {
        let query = parse_announcement("esp32-c0ffee._http._tcp").unwrap();
        assert_eq!(query.instance, "esp32-c0ffee");
        assert_eq!(query.service_type, "_http._tcp");
        let dotted = parse_announcement("Living Room.v2._hap._udp.local.").unwrap();
        assert_eq!((dotted.instance.as_str(), dotted.service_type.as_str()), ("Living Room.v2", "_hap._udp"));
        for wrong in ["_http._tcp", "esp32._http", "esp32.http._tcp", "esp32._http._sctp", ""] {
            let error = parse_announcement(wrong).unwrap_err();
            assert!(error.contains("INSTANCE._service._tcp"), "{wrong}: {error}");
        }
    }

    #[test]
    fn service_types_get_the_local_domain_once() {
        assert_eq!(local_type("_http._tcp"), "_http._tcp.local.");
        assert_eq!(local_type("_http._tcp.local."), "_http._tcp.local.");
        assert_eq!(local_type("_http._tcp.local"), "_http._tcp.local.");
    }

    #[test]
    fn resolved_names_match_their_instance_with_escapes_undone() {
        let ty = "_http._tcp.local.";
        assert_eq!(instance_name("esp32-c0ffee._http._tcp.local.", ty).as_deref(), Some("esp32-c0ffee"));
        assert_eq!(
            instance_name(r"Living\ Room\.v2._http._tcp.local.", ty).as_deref(),
            Some("Living Room.v2")
        );
        assert_eq!(instance_name(r"caf\195\169._http._tcp.local.", ty).as_deref(), Some("café"));
        assert_eq!(instance_name("printer._ipp._tcp.local.", ty), None);
        assert_eq!(instance_name("._http._tcp.local.", ty), None);
        assert_eq!(instance_name(r"cut\1._http._tcp.local.", ty), None);
    }

    #[test]
    fn an_instance_is_reported_at_its_ipv4_address_first() {
        let addresses: [IpAddr; 3] =
            ["fe80::1".parse().unwrap(), "192.168.1.20".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        let found = service_instance("lamp._http._tcp.local.", "_http._tcp.local.", 80, addresses).unwrap();
        assert_eq!(found, ServiceInstance { name: "lamp".into(), address: "10.0.0.5".into(), port: 80 });
        let v6: [IpAddr; 1] = ["fe80::1".parse().unwrap()];
        assert_eq!(
            service_instance("lamp._http._tcp.local.", "_http._tcp.local.", 80, v6).map(|i| i.address),
            Some("fe80::1".into())
        );
        assert_eq!(service_instance("lamp._http._tcp.local.", "_http._tcp.local.", 80, []), None);
    }
}
