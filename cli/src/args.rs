//! Command-line values shared by several commands.

use std::time::Duration;

use clap::ValueEnum;
use unbox_sim::latency::{LatencyRange, SimLatency};
use unbox_sim::world::WorldOptions;

/// How to reach devices.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// The device's own access point and HTTP server.
    Softap,
    /// Bluetooth LE.
    Ble,
}

/// A protocomm security scheme.
#[derive(Clone, Copy, ValueEnum)]
pub enum SecurityArg {
    /// No encryption.
    #[value(name = "0")]
    Sec0,
    /// X25519 + proof of possession.
    #[value(name = "1")]
    Sec1,
    /// SRP-6a username and password.
    #[value(name = "2")]
    Sec2,
}

/// How slow the simulated world is: its links, its backend and its devices' joins
/// (`unbox demo`, `unbox sim all`). Times in milliseconds, `MS` or `MIN-MAX` (drawn each time).
#[derive(clap::Args, Clone)]
pub struct LatencyArgs {
    /// Each BLE exchange (a phone: 30-60).
    #[arg(long, value_name = "MS[-MAX]", default_value = "0")]
    ble_latency_ms: LatencyRange,
    /// Each SoftAP exchange (a phone: 5-15).
    #[arg(long, value_name = "MS[-MAX]", default_value = "0")]
    softap_latency_ms: LatencyRange,
    /// Each round trip to the backend (a phone: 80).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    backend_latency_ms: u64,
    /// How long each device takes to join the network after the firmware's 1 s apply delay
    /// (drawn once per device; a range such as 1000-5000 is a phone's experience).
    #[arg(long, value_name = "MS[-MAX]", default_value = "1500")]
    join_ms: LatencyRange,
}

impl LatencyArgs {
    /// The world's options with these latencies.
    pub fn apply(&self, options: WorldOptions) -> WorldOptions {
        WorldOptions {
            join_time: self.join_ms,
            latency: SimLatency {
                ble_exchange: self.ble_latency_ms,
                softap_exchange: self.softap_latency_ms,
                backend_round_trip: Duration::from_millis(self.backend_latency_ms),
            },
            ..options
        }
    }
}
