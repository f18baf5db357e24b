//! `unbox sim ...`: simulated devices (and later the cloud) for apps and tests.

use std::time::Duration;

use clap::{Args, Subcommand};
use unbox_core::secret::SecretString;
use unbox_sim::device::{
    DeviceConfig, Faults, Flavour, PortalConfig, PortalFaults, PortalParam, PortalServer, PortalState,
    SimDevice, SimNetwork, SimPortal, SimSecurity,
};
use unbox_sim::softap::SoftApServer;

use unbox_sim::backend::BackendConfig;
use unbox_sim::cloud::SimCloud;
use unbox_sim::idp::{DEFAULT_CLIENT_ID, IdpConfig, SKILL_CLIENT_ID, SKILL_REDIRECT_URI};
use unbox_sim::world::{DEVICE_PASSWORD, HOME_PASSPHRASE, HOME_SSID, SimWorld, WorldOptions};

use crate::args::{LatencyArgs, SecurityArg};
use crate::exit::{Code, Failure};
use unbox_sim::latency::LatencyRange;

/// Simulator commands.
#[derive(Subcommand)]
pub enum SimCommand {
    /// Run a simulated device in setup mode, serving its SoftAP HTTP endpoints on `--listen`.
    #[command(after_help = crate::example(
        "unbox sim device --listen 127.0.0.1:8080 --password abcd1234 --network 'HomeNet:correct horse battery'"
    ))]
    Device(DeviceArgs),
    /// Run a simulated captive-portal device (WiFiManager-style firmware): its web form on
    /// `--listen`, as the firmware serves it at 192.168.4.1 on its open access point.
    #[command(after_help = crate::example(
        "unbox sim portal --listen 127.0.0.1:8080 --network 'HomeNet:correct horse battery' --param mqtt_server:40"
    ))]
    Portal(PortalArgs),
    /// Run the simulated cloud: identity provider (auto-consent test user) and binding backend.
    #[command(after_help = crate::example(
        "unbox sim cloud --listen 0.0.0.0:8081 --public-url http://10.0.2.2:8081 --import-devices batch-0001/backend-import.json"
    ))]
    Cloud(CloudArgs),
    /// Run the cloud and simulated devices together and print what a client needs to use them.
    #[command(after_help = crate::example("unbox sim all --devices 2 --public-host 10.0.2.2"))]
    All(AllArgs),
}

/// Arguments of `sim cloud`.
#[derive(Args)]
pub struct CloudArgs {
    /// Address to serve on (0.0.0.0:PORT to reach it from an emulator).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// The URL clients use, when it differs from the listen address (e.g. http://10.0.2.2:8081
    /// for the Android emulator). It becomes the OAuth issuer.
    #[arg(long)]
    public_url: Option<String>,
    /// Register the devices of a factory batch: the `backend-import.json` that `unbox factory`
    /// wrote. Repeat for several batches.
    #[arg(long = "import-devices", value_name = "FILE")]
    imports: Vec<std::path::PathBuf>,
    /// How long a claim can be redeemed, and then confirmed, in seconds (short ones let
    /// `unbox check-backend` see claims expire).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    claim_ttl: u64,
    /// Register this many test devices and print their credentials (for `unbox check-backend`).
    #[arg(long, default_value_t = 0)]
    test_devices: usize,
    /// Milliseconds each request's round trip takes (a phone's: 80).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    backend_latency_ms: u64,
}

/// Arguments of `sim all`.
#[derive(Args)]
pub struct AllArgs {
    /// How many devices.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Serve on every interface and give clients this host in every address, e.g. 10.0.2.2
    /// for the Android emulator (its name for this computer).
    #[arg(long, value_name = "HOST")]
    public_host: Option<String>,
    #[command(flatten)]
    latency: LatencyArgs,
}

/// How to set up the simulated device.
#[derive(Args)]
pub struct DeviceArgs {
    /// Address to serve on, e.g. 127.0.0.1:8080 (0.0.0.0:8080 to reach it from an emulator).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Service name (BLE name / SoftAP SSID).
    #[arg(long, default_value = "PROV_1A2B3C")]
    name: String,
    /// Security scheme.
    #[arg(long, value_enum, default_value = "2")]
    security: SecurityArg,
    /// Security 2 patch version (1 = per-message GCM nonces, current firmware; 0 = older).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1))]
    patch_version: u32,
    /// Security 2 username.
    #[arg(long, default_value = "wifiprov")]
    username: String,
    /// Security 2 password.
    #[arg(long, env = "UNBOX_SIM_PASSWORD", hide_env_values = true, allow_hyphen_values = true)]
    password: Option<String>,
    /// Security 1 proof of possession (omit for a `no_pop` device).
    #[arg(long, env = "UNBOX_SIM_POP", hide_env_values = true, allow_hyphen_values = true)]
    pop: Option<String>,
    /// A network the device sees, as `SSID:passphrase` (an empty passphrase is an open
    /// network). Repeat for several.
    #[arg(long = "network", value_name = "SSID:PASSPHRASE")]
    networks: Vec<String>,
    /// How long joining a network takes, in milliseconds (after the firmware's 1 s apply
    /// delay): `MS`, or `MIN-MAX` drawn once at start.
    #[arg(long, value_name = "MS[-MAX]", default_value = "1500")]
    join_ms: LatencyRange,
    /// How long each exchange takes on the air, in milliseconds: `MS` or `MIN-MAX`, drawn per
    /// exchange (a phone on the device's access point: 5-15).
    #[arg(long, value_name = "MS[-MAX]", default_value = "0")]
    exchange_latency_ms: LatencyRange,
    /// Fault: drop the connection at exchange N.
    #[arg(long, value_name = "N")]
    drop_at: Option<u32>,
    /// Fault: corrupt the reply of exchange N.
    #[arg(long, value_name = "N")]
    corrupt_at: Option<u32>,
    /// Fault: reboot (session and configuration lost) at exchange N.
    #[arg(long, value_name = "N")]
    reboot_at: Option<u32>,
    /// Fault: delay every reply by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Fault: never finish joining the network.
    #[arg(long)]
    never_connect: bool,
    /// The firmware imitated: `plain` wifi_prov_mgr (a failed join needs a prov-ctrl reset
    /// before new credentials apply) or ESP-IDF's wifi_prov_mgr `example` app (five attempts,
    /// then it resets itself; serves the example's `custom-data` endpoint).
    #[arg(long, value_enum, default_value = "plain")]
    flavour: FlavourArg,
}

/// How to set up the simulated portal device.
#[derive(Args)]
pub struct PortalArgs {
    /// Address to serve on, e.g. 127.0.0.1:8080 (0.0.0.0:8080 to reach it from an emulator).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Its access point's SSID (WiFiManager's default: ESP32_ + the chip id).
    #[arg(long, default_value = "ESP32_C0FFEE")]
    name: String,
    /// A network the device sees, as `SSID:passphrase`. Repeat for several.
    #[arg(long = "network", value_name = "SSID:PASSPHRASE")]
    networks: Vec<String>,
    /// A custom parameter of the form, as `ID:LENGTH`. Repeat for several.
    #[arg(long = "param", value_name = "ID:LENGTH")]
    params: Vec<String>,
    /// Fault: serve a page without the Wi-Fi form (another captive portal).
    #[arg(long)]
    garbage_page: bool,
    /// Fault: serve no Wi-Fi page (`/wifi` and `/0wifi` are 404).
    #[arg(long)]
    no_wifi_page: bool,
    /// Fault: close the connection on `/wifisave` without answering.
    #[arg(long)]
    drop_save: bool,
    /// Fault: delay every reply by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Fault: never manage to join, whatever the password.
    #[arg(long)]
    never_connect: bool,
    /// Once joined, announce the device as `INSTANCE._service._tcp` with multicast DNS on this
    /// computer's loopback (as WiFiManager sketches do with `MDNS.addService` on the home
    /// network), until stopped.
    #[arg(long, value_name = "INSTANCE._SERVICE._tcp")]
    announce: Option<String>,
}

impl PortalArgs {
    fn config(&self) -> Result<PortalConfig, Failure> {
        let networks = self.networks.iter().map(|spec| parse_network(spec)).collect::<Result<Vec<_>, _>>()?;
        let mut config = PortalConfig::new(&self.name, networks);
        for spec in &self.params {
            let (id, len) = spec.split_once(':').ok_or_else(|| {
                Failure::new(Code::Usage, format!("--param wants ID:LENGTH, got `{spec}` (no colon)"))
            })?;
            let max_len = len
                .parse()
                .map_err(|_| Failure::new(Code::Usage, format!("--param {spec}: `{len}` is not a length")))?;
            config.params.push(PortalParam { id: id.to_owned(), label: id.to_owned(), max_len });
        }
        config.faults = PortalFaults {
            garbage_page: self.garbage_page,
            no_wifi_page: self.no_wifi_page,
            drop_save: self.drop_save,
            reply_delay: Duration::from_millis(self.delay_ms),
            never_connect: self.never_connect,
        };
        Ok(config)
    }
}

/// The firmware a simulated device imitates.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FlavourArg {
    /// Plain wifi_prov_mgr.
    Plain,
    /// ESP-IDF's wifi_prov_mgr example app.
    Example,
}

fn parse_network(spec: &str) -> Result<SimNetwork, Failure> {
    let (ssid, passphrase) = spec.split_once(':').ok_or_else(|| {
        Failure::new(Code::Usage, format!("--network wants SSID:passphrase, got `{spec}` (no colon)"))
    })?;
    if ssid.is_empty() || ssid.len() > 32 {
        return Err(Failure::new(Code::Usage, format!("network name `{ssid}` must be 1 to 32 bytes")));
    }
    Ok(SimNetwork::new(ssid, SecretString::new(passphrase)))
}

impl DeviceArgs {
    fn config(&self) -> Result<DeviceConfig, Failure> {
        let security = match self.security {
            SecurityArg::Sec0 => SimSecurity::Sec0,
            SecurityArg::Sec1 => SimSecurity::Sec1 { pop: self.pop.clone().map(SecretString::new) },
            SecurityArg::Sec2 => SimSecurity::Sec2 {
                username: self.username.clone(),
                password: SecretString::new(self.password.clone().ok_or_else(|| {
                    Failure::new(Code::Usage, "security 2 needs --password (or UNBOX_SIM_PASSWORD)")
                })?),
                patch_version: self.patch_version,
            },
        };
        let flavour = match self.flavour {
            FlavourArg::Plain => Flavour::Plain,
            FlavourArg::Example => Flavour::ExampleApp,
        };
        let mut config = DeviceConfig::new(&self.name)
            .with_security(security)
            .with_flavour(flavour)
            .with_timing(Duration::from_secs(1), self.join_ms.sample())
            .with_latency(LatencyRange::ZERO, self.exchange_latency_ms)
            .with_faults(Faults {
                drop_at_exchange: self.drop_at,
                corrupt_reply_at: self.corrupt_at,
                reboot_at_exchange: self.reboot_at,
                reply_delay: Duration::from_millis(self.delay_ms),
                stall_at_exchange: None,
                never_connect: self.never_connect,
                announced_patch_version: None,
                channel_switch_after_apply: None,
            });
        for spec in &self.networks {
            config = config.with_network(parse_network(spec)?);
        }
        Ok(config)
    }
}

/// Runs a simulator command until Ctrl-C.
pub async fn run(command: SimCommand, json: bool) -> Result<(), Failure> {
    match command {
        SimCommand::Cloud(args) => {
            let ttl = Duration::from_secs(args.claim_ttl);
            let backend = BackendConfig {
                claim_ttl: ttl,
                confirm_ttl: ttl,
                round_trip: Duration::from_millis(args.backend_latency_ms),
                ..BackendConfig::default()
            };
            let cloud = SimCloud::start(args.listen, args.public_url, IdpConfig::default(), backend)
                .await
                .map_err(|e| Failure::new(Code::Usage, format!("cannot listen on {}: {e}", args.listen)))?;
            for path in &args.imports {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Failure::new(Code::Usage, format!("cannot read {}: {e}", path.display())))?;
                let count = cloud
                    .backend()
                    .import_devices(&text)
                    .map_err(|e| Failure::new(Code::Usage, format!("{}: {e}", path.display())))?;
                println!("imported {count} device(s) from {}", path.display());
            }
            println!("simulated cloud listening on {}", cloud.server().local_addr());
            println!("  issuer and backend: {}", cloud.base_url());
            println!(
                "  client id: {DEFAULT_CLIENT_ID} (auto-consent test users alice@example.com, bob@example.com by login_hint)"
            );
            println!("  voice-skill client: {SKILL_CLIENT_ID} (confidential, redirect {SKILL_REDIRECT_URI})");
            for index in 1..=args.test_devices {
                println!("  --device {}", test_device(&cloud, index)?);
            }
            wait_for_ctrl_c().await;
            Ok(())
        }
        SimCommand::All(args) => {
            let world = SimWorld::start(args.latency.apply(WorldOptions {
                devices: args.devices.max(1),
                public_host: args.public_host,
                ..WorldOptions::default()
            }))
            .await
            .map_err(|e| Failure::new(Code::Internal, format!("cannot start the simulator: {e}")))?;
            let devices: Vec<serde_json::Value> = world
                .devices
                .iter()
                .enumerate()
                .map(|(index, d)| {
                    serde_json::json!({
                        "name": d.name,
                        "address": world.device_address(index),
                        "setup_code": world.setup_code(index).map(|code| code.expose().to_owned()).ok(),
                    })
                })
                .collect();
            let summary = serde_json::json!({
                "issuer": world.cloud.base_url(),
                "backend": world.cloud.base_url(),
                "client_id": DEFAULT_CLIENT_ID,
                "devices": devices,
                "security": 2,
                "username": "wifiprov",
                "device_code": DEVICE_PASSWORD,
                "home_ssid": HOME_SSID,
                "home_passphrase": HOME_PASSPHRASE,
            });
            if json {
                println!("{summary}");
            } else {
                let local = world.local_cloud_url();
                if world.cloud.base_url() == local {
                    println!("simulator listening on {local}");
                    println!("  unbox sign-in --issuer {local} --client-id {DEFAULT_CLIENT_ID}");
                } else {
                    // The issuer is the public URL, so sign-ins from this computer would not match it.
                    println!(
                        "simulator listening on every interface, port {}",
                        world.cloud.server().local_addr().port()
                    );
                    println!(
                        "  apps: issuer and backend {}, client id {DEFAULT_CLIENT_ID}",
                        world.cloud.base_url()
                    );
                    println!(
                        "  (for the unbox command on this computer, run `unbox sim all` without --public-host)"
                    );
                }
                for (index, device) in world.devices.iter().enumerate() {
                    if world.cloud.base_url() == local {
                        println!(
                            "  unbox provision --transport softap --device {}={} --code {DEVICE_PASSWORD} --ssid {HOME_SSID} --passphrase '{HOME_PASSPHRASE}'",
                            device.name,
                            world.device_address(index)
                        );
                    } else {
                        println!(
                            "  {} at {}: device code {DEVICE_PASSWORD}, home network {HOME_SSID} / '{HOME_PASSPHRASE}'",
                            device.name,
                            world.device_address(index)
                        );
                    }
                    if let Ok(code) = world.setup_code(index) {
                        println!("    its setup code (QR sticker): {}", code.expose());
                    }
                }
            }
            wait_for_ctrl_c().await;
            Ok(())
        }
        SimCommand::Portal(args) => {
            let announce = args
                .announce
                .as_deref()
                .map(crate::mdns::parse_announcement)
                .transpose()
                .map_err(|e| Failure::new(Code::Usage, e))?;
            let portal = SimPortal::new(args.config()?);
            let server = PortalServer::bind(portal.clone(), &args.listen)
                .await
                .map_err(|e| Failure::new(Code::Usage, format!("cannot listen on {}: {e}", args.listen)))?;
            println!("simulated portal device {} listening on {}", args.name, server.address());
            let mut state = portal.state();
            let joined = tokio::select! {
                () = wait_for_ctrl_c() => {
                    println!("stopped");
                    return Ok(());
                }
                ended = state.wait_for(|s| matches!(s, PortalState::Online { .. } | PortalState::Closed)) => {
                    match ended.map(|s| s.clone()) {
                        Ok(PortalState::Online { ssid }) => {
                            println!("joined {ssid}; portal and access point shut down");
                            true
                        }
                        _ => {
                            println!("portal closed");
                            false
                        }
                    }
                }
            };
            if let Some(query) = announce.filter(|_| joined) {
                let _announcement = crate::mdns::LoopbackAnnouncement::start(&query, server.address().port())
                    .map_err(|e| {
                        Failure::new(Code::Unavailable, format!("cannot announce over mDNS: {e}"))
                    })?;
                println!("announcing {}.{} on loopback", query.instance, query.service_type);
                wait_for_ctrl_c().await;
                println!("stopped");
            }
            Ok(())
        }
        SimCommand::Device(args) => {
            let config = args.config()?;
            let device = SimDevice::new(config, Vec::new());
            let server = SoftApServer::bind(device, &args.listen)
                .await
                .map_err(|e| Failure::new(Code::Usage, format!("cannot listen on {}: {e}", args.listen)))?;
            println!("simulated device {} listening on {}", args.name, server.address());
            wait_for_ctrl_c().await;
            server.shutdown();
            println!("stopped");
            Ok(())
        }
    }
}

/// Registers test device `sim-test-<index>` with a random secret; returns `ID=SECRET_HEX`.
fn test_device(cloud: &SimCloud, index: usize) -> Result<String, Failure> {
    use rand::RngCore as _;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let id = format!("sim-test-{index}");
    let credential = unbox_core::binding::DeviceId::new(id.clone())
        .and_then(|device| {
            unbox_core::binding::DeviceCredential::new(
                device,
                unbox_core::secret::SecretBytes::new(secret.clone()),
            )
        })
        .map_err(|e| Failure::new(Code::Internal, e.to_string()))?;
    cloud.backend().register_device(credential);
    Ok(format!("{id}={}", hex::encode(secret)))
}

async fn wait_for_ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(%error, "cannot listen for Ctrl-C; stopping");
    }
}
