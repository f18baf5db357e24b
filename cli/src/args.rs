//! Command-line values shared by several commands.

use clap::ValueEnum;

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
