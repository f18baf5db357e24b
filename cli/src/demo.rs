//! `unbox demo`: the simulated cloud and devices run in this process on loopback, and the whole
//! flow runs against them — sign-in, claim, secure session, Wi-Fi, redemption, confirmation.

use clap::{Args, ValueEnum};
use tokio_util::sync::CancellationToken;
use unbox_core::flow::BindingMode;
use unbox_sim::world::{DeviceFirmware, Link, SimWorld, WorldOptions};

use crate::args::{LatencyArgs, TransportArg};
use crate::batch;
use crate::exit::{Code, Failure};

/// Arguments of `demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// How the phone reaches the simulated devices.
    #[arg(long, value_enum, default_value = "ble")]
    transport: TransportArg,
    /// The simulated devices' protocol: ESP unified provisioning; `improv`: an Improv BLE device
    /// whose button the demo presses and an Improv serial device on a pseudo-terminal (Wi-Fi
    /// only); `portal`: WiFiManager-style captive-portal devices (claimed through their claim
    /// field). `--transport` applies to ESP devices only.
    #[arg(long, value_enum, default_value = "esp")]
    protocol: ProtocolArg,
    /// How many simulated devices to onboard at once.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// What runs the devices' claim endpoint and redemption: the simulator's Rust code, or the
    /// firmware component's C code (firmware/unbox-claim; needs a build with `--features c-firmware`).
    #[arg(long, value_enum, default_value = "rust")]
    device_firmware: FirmwareArg,
    #[command(flatten)]
    latency: LatencyArgs,
}

/// `--protocol` values.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProtocolArg {
    /// ESP-IDF unified provisioning over BLE or SoftAP.
    Esp,
    /// Improv Wi-Fi over BLE and serial (ESPHome-style firmware).
    Improv,
    /// A captive portal (WiFiManager-style firmware).
    Portal,
}

/// `--device-firmware` values.
#[derive(Clone, Copy, ValueEnum)]
enum FirmwareArg {
    Rust,
    C,
}

/// Runs the demo; `timeline`: print each device's timeline (`-v`).
pub async fn run(
    args: DemoArgs,
    json: bool,
    timeline: bool,
    cancel: &CancellationToken,
) -> Result<(), Failure> {
    if args.protocol == ProtocolArg::Improv {
        return crate::improv::demo(json, timeline, cancel).await;
    }
    let firmware = match args.device_firmware {
        FirmwareArg::Rust => DeviceFirmware::Rust,
        FirmwareArg::C => DeviceFirmware::C,
    };
    if !firmware.is_available() {
        return Err(Failure::new(
            Code::Usage,
            "this unbox was built without the C device firmware: build it with \
             `cargo build --release -p unbox-cli --features c-firmware` (needs libprotobuf-c-dev)",
        ));
    }
    let count = args.devices.max(1);
    let portal = args.protocol == ProtocolArg::Portal;
    let (devices, portals) = if portal { (0, count) } else { (count, 0) };
    let options = args.latency.apply(WorldOptions { devices, portals, firmware, ..WorldOptions::default() });
    let world = SimWorld::start(options)
        .await
        .map_err(|e| Failure::new(Code::Internal, format!("cannot start the simulator: {e}")))?;
    let link = match args.transport {
        TransportArg::Softap => Link::SoftAp,
        TransportArg::Ble => Link::Ble,
    };
    if !json {
        println!("simulated cloud (identity provider + binding backend) at {}", world.cloud.base_url());
        for device in &world.portals {
            println!(
                "simulated portal device {} (WiFiManager-style, open access point, claim field)",
                device.name
            );
        }
        for device in &world.devices {
            println!(
                "simulated device {} (security 2, {firmware:?} claim firmware) over {link:?}",
                device.name
            );
        }
    }
    let onboarding = world.onboarding().await.map_err(|e| Failure::new(Code::Internal, e))?;
    let requests = if portal {
        (0..world.portals.len()).map(|index| world.portal_request(index, BindingMode::Claim)).collect()
    } else {
        (0..world.devices.len()).map(|index| world.request(index, link)).collect()
    };
    let outcomes = batch::run(&onboarding, requests, 16, json, timeline, None, cancel).await;
    batch::report(outcomes, json)
}
