//! The home network's DNS-SD in the simulator: portal devices announce their service once they
//! joined the network (as WiFiManager sketches do with `MDNS.begin` and `MDNS.addService` after
//! `autoConnect` returns).

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use unbox_core::platform::service_browser::{BrowseError, ServiceBrowser, ServiceInstance};

use crate::device::{PortalState, SimPortal};

struct Announcer {
    portal: SimPortal,
    service_type: String,
    instance: String,
}

/// The services the simulated home network announces.
#[derive(Default)]
pub struct SimServiceBrowser {
    announcers: Mutex<Vec<Announcer>>,
    browses: Mutex<u32>,
}

impl SimServiceBrowser {
    /// Lets `portal` announce `instance` of `service_type` while it is online.
    pub fn add(&self, portal: SimPortal, service_type: &str, instance: &str) {
        let announcer =
            Announcer { portal, service_type: service_type.to_owned(), instance: instance.to_owned() };
        self.announcers.lock().unwrap_or_else(|p| p.into_inner()).push(announcer);
    }

    /// How many times the network was browsed.
    pub fn browses(&self) -> u32 {
        *self.browses.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl ServiceBrowser for SimServiceBrowser {
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, BrowseError> {
        *self.browses.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let heard: Vec<ServiceInstance> = self
            .announcers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|a| a.service_type == service_type)
            .filter(|a| matches!(*a.portal.state().borrow(), PortalState::Online { .. }))
            .map(|a| ServiceInstance { name: a.instance.clone(), address: "127.0.0.1".into(), port: 80 })
            .collect();
        if heard.is_empty() {
            // A browse listens for its whole window when nothing answers.
            tokio::time::sleep(within).await;
        }
        Ok(heard)
    }
}
