//! `unbox provision`: onboard real devices (or `unbox sim` ones) over BLE or SoftAP — one, or a
//! list for installers and factories, concurrently with bounded parallelism.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;
use unbox_core::binding::BindingClient;
use unbox_core::btleplug::BtleplugCentral;
use unbox_core::device::{SecurityPolicy, WifiCredentials};
use unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;
use unbox_core::discovery::{DiscoveryConfig, DiscoveryScanner};
use unbox_core::flow::{BindingMode, DeviceTarget, Onboarding, OnboardingRequest, OnboardingSettings};
use unbox_core::platform::ble::BleCentral;
use unbox_core::platform::phone_wifi::PhoneWifi;
use unbox_core::platform::secret_store::SecretStore;
use unbox_core::qr::{EspressifQr, OnboardingPayload};
use unbox_core::secret::SecretString;
use unbox_core::security::{ClientCredentials, SecurityLevel};
use unbox_core::transport::TransportKind;
use unbox_core::transport::softap::DEFAULT_DEVICE_ADDRESS;

use crate::account::Account;
use crate::args::{SecurityArg, TransportArg};
use crate::batch;
use crate::chooser::NO_NETWORK_WITHOUT_TERMINAL;
use crate::desktop_wifi::{DesktopWifi, nmcli_available};
use crate::exit::{Code, Failure};
use crate::improv::{self, ProtocolArg};

/// Arguments of `provision`.
#[derive(Args)]
pub struct ProvisionArgs {
    /// The devices' protocol: ESP unified provisioning, or Improv Wi-Fi over BLE or a serial port.
    #[arg(long, value_enum, default_value = "esp")]
    protocol: ProtocolArg,
    /// The serial port of an Improv serial device (`/dev/ttyUSB0`, `COM3`).
    #[arg(long, required_if_eq("protocol", "improv-serial"))]
    port: Option<String>,
    /// The serial port's rate (the firmware's console rate).
    #[arg(long, default_value_t = unbox_core::improv::serial::DEFAULT_BAUD_RATE)]
    baud: u32,
    /// How to reach the devices.
    #[arg(long, value_enum)]
    transport: Option<TransportArg>,
    /// A device: its name (`PROV_1A2B3C`), optionally `=ADDRESS` (SoftAP `host:port`) or
    /// `=PERIPHERAL_ID` (BLE). Repeat for a batch.
    #[arg(long = "device", value_name = "NAME[=WHERE]")]
    devices: Vec<String>,
    /// A file with one `NAME[=WHERE]` per line (`#` comments), for batches.
    #[arg(long)]
    devices_file: Option<PathBuf>,
    /// The device's Espressif QR payload (JSON): name, transport, security and code at once.
    #[arg(long)]
    qr: Option<String>,
    /// The device's security scheme.
    #[arg(long, value_enum, default_value = "2")]
    security: SecurityArg,
    /// Security 2 username.
    #[arg(long, default_value = "wifiprov")]
    username: String,
    /// The device's code: security 1 PoP or security 2 password (printed on the device or its QR).
    #[arg(long, env = "UNBOX_DEVICE_CODE", hide_env_values = true)]
    code: Option<String>,
    /// The home network the devices should join. Without it, on a terminal, one device: choose
    /// from the networks the device sees (arrow keys or a number).
    #[arg(long)]
    ssid: Option<String>,
    /// Its passphrase; asked without echo when omitted on a terminal.
    #[arg(long, env = "UNBOX_WIFI_PASSPHRASE", hide_env_values = true)]
    passphrase: Option<String>,
    /// The passphrase of the devices' own access points (SoftAP).
    #[arg(long, env = "UNBOX_AP_PASSPHRASE", hide_env_values = true)]
    ap_passphrase: Option<String>,
    /// How many devices to onboard at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Skip the device-side Wi-Fi scan.
    #[arg(long)]
    no_device_scan: bool,
    /// Accept devices running security 0 (no encryption).
    #[arg(long)]
    allow_unencrypted: bool,
    /// Accept security 1 devices without a proof of possession.
    #[arg(long)]
    allow_no_pop: bool,
    /// Accept security 2 devices on patch version 0 (older firmware that encrypts every message
    /// with one fixed nonce, so anyone nearby can read the Wi-Fi password).
    #[arg(long)]
    allow_sec2_static_nonce: bool,
    /// Wi-Fi only: no sign-in and no account binding (stock ESP firmware; the devices are
    /// bound some other way, e.g. by the code on their label).
    #[arg(long)]
    wifi_only: bool,
}

struct DeviceSpec {
    name: String,
    location: Option<String>,
}

fn parse_spec(text: &str) -> DeviceSpec {
    match text.split_once('=') {
        Some((name, location)) => {
            DeviceSpec { name: name.trim().to_owned(), location: Some(location.trim().to_owned()) }
        }
        None => DeviceSpec { name: text.trim().to_owned(), location: None },
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(Code::Usage, message)
}

impl ProvisionArgs {
    fn specs(&self, qr: Option<&EspressifQr>) -> Result<Vec<DeviceSpec>, Failure> {
        let mut specs: Vec<DeviceSpec> = self.devices.iter().map(|d| parse_spec(d)).collect();
        if let Some(path) = &self.devices_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            specs.extend(
                text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(parse_spec),
            );
        }
        if let Some(qr) = qr
            && specs.is_empty()
        {
            specs.push(DeviceSpec { name: qr.name.clone(), location: None });
        }
        if specs.is_empty() {
            return Err(usage("name at least one device: --device PROV_XXXXXX, --devices-file or --qr"));
        }
        Ok(specs)
    }

    fn credentials(&self, qr: Option<&EspressifQr>) -> Result<ClientCredentials, Failure> {
        if let Some(qr) = qr {
            return Ok(qr.client_credentials());
        }
        let code = || {
            self.code
                .clone()
                .map(SecretString::new)
                .ok_or_else(|| usage("give the device's code with --code (or UNBOX_DEVICE_CODE)"))
        };
        Ok(match self.security {
            SecurityArg::Sec0 => ClientCredentials::Sec0,
            SecurityArg::Sec1 => {
                ClientCredentials::Sec1 { pop: self.code.clone().map(SecretString::new).unwrap_or_default() }
            }
            SecurityArg::Sec2 => {
                ClientCredentials::Sec2 { username: self.username.clone(), password: code()? }
            }
        })
    }

    fn given_passphrase(&self) -> Option<SecretString> {
        self.passphrase.clone().map(SecretString::new)
    }

    /// The network given with `--ssid`, its passphrase asked on a terminal when not given.
    fn given_network(&self, ssid: &str) -> Result<WifiCredentials, Failure> {
        let passphrase = match self.given_passphrase() {
            Some(passphrase) => passphrase,
            None if !std::io::stdin().is_terminal() => {
                return Err(usage("give the Wi-Fi passphrase with --passphrase or UNBOX_WIFI_PASSPHRASE"));
            }
            None => rpassword::prompt_password(format!("Wi-Fi password for {ssid}: "))
                .map(SecretString::new)
                .map_err(|e| usage(format!("cannot read the password: {e}")))?,
        };
        let wifi = WifiCredentials::new(ssid.to_owned(), passphrase);
        wifi.validate().map_err(|e| usage(e.to_string()))?;
        Ok(wifi)
    }

    /// The network `--ssid` gives; without it `None`, which only one device on an interactive
    /// terminal may have (the person chooses from the device's list).
    fn network(&self, devices: usize, json: bool) -> Result<Option<WifiCredentials>, Failure> {
        match &self.ssid {
            Some(ssid) => self.given_network(ssid).map(Some),
            None if devices > 1 => Err(usage(
                "a batch joins one network: add --ssid NAME and --passphrase (or UNBOX_WIFI_PASSPHRASE)",
            )),
            // The chooser draws on stderr and reads the keyboard.
            None if !batch::interactive(devices, json) || !std::io::stderr().is_terminal() => {
                Err(usage(NO_NETWORK_WITHOUT_TERMINAL))
            }
            None => Ok(None),
        }
    }

    /// `--ssid`, which Improv onboarding needs.
    fn improv_network(&self) -> Result<(&str, SecretString), Failure> {
        let ssid = self.ssid.as_deref().ok_or_else(|| {
            usage("Improv onboarding needs the network: add --ssid NAME and --passphrase (or UNBOX_WIFI_PASSPHRASE)")
        })?;
        Ok((ssid, self.given_network(ssid)?.passphrase))
    }
}

/// Finds BLE peripherals by name with a short scan.
async fn find_peripherals(
    central: Arc<dyn BleCentral>,
    names: &[String],
) -> Result<Vec<(String, String)>, Failure> {
    let config = DiscoveryConfig { name_prefixes: names.to_vec(), ..DiscoveryConfig::default() };
    let scanner = DiscoveryScanner::start(config, Some(central))
        .await
        .map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
    let mut updates = scanner.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let found = loop {
        let devices = updates.borrow_and_update().clone();
        let found: Vec<(String, String)> = names
            .iter()
            .filter_map(|name| {
                let device = devices.iter().find(|d| d.name.as_deref() == Some(name.as_str()))?;
                Some((name.clone(), device.ble.as_ref()?.peripheral_id.clone()))
            })
            .collect();
        if found.len() == names.len() || tokio::time::timeout_at(deadline, updates.changed()).await.is_err() {
            break found;
        }
    };
    scanner.stop().await.map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
    Ok(found)
}

/// Runs `provision`; `timeline`: print each device's timeline (`-v`).
pub async fn run(
    args: ProvisionArgs,
    store: Arc<dyn SecretStore>,
    json: bool,
    timeline: bool,
    cancel: &CancellationToken,
) -> Result<(), Failure> {
    if args.protocol != ProtocolArg::Esp {
        return provision_improv(&args, json).await;
    }
    let qr = args.qr.as_deref().map(EspressifQr::parse).transpose().map_err(|e| usage(e.to_string()))?;
    let transport = match (args.transport, qr.as_ref().and_then(|q| q.transport)) {
        (Some(transport), _) => transport,
        (None, Some(TransportKind::SoftAp)) => TransportArg::Softap,
        (None, Some(TransportKind::Ble)) => TransportArg::Ble,
        (None, None) => return Err(usage("choose --transport ble or --transport softap")),
    };
    let specs = args.specs(qr.as_ref())?;
    let credentials = args.credentials(qr.as_ref())?;
    if qr.as_ref().is_some_and(|q| q.security_level() == SecurityLevel::Sec0) && !args.allow_unencrypted {
        return Err(usage("this device runs no encryption; add --allow-unencrypted to accept that"));
    }
    let wifi = args.network(specs.len(), json)?;

    // The devices and the radio first: without Bluetooth there is nothing to sign in for.
    let mut ble: Option<Arc<dyn BleCentral>> = None;
    let mut phone_wifi: Option<Arc<dyn PhoneWifi>> = None;
    let mut targets = Vec::with_capacity(specs.len());
    let mut join_by_hand: Vec<String> = Vec::new();
    match transport {
        TransportArg::Ble => {
            let central: Arc<dyn BleCentral> = Arc::new(
                BtleplugCentral::new().await.map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?,
            );
            let unresolved: Vec<String> =
                specs.iter().filter(|s| s.location.is_none()).map(|s| s.name.clone()).collect();
            let found = if unresolved.is_empty() {
                Vec::new()
            } else {
                find_peripherals(central.clone(), &unresolved).await?
            };
            for spec in &specs {
                let peripheral_id = match &spec.location {
                    Some(id) => id.clone(),
                    None => found
                        .iter()
                        .find(|(name, _)| *name == spec.name)
                        .map(|(_, id)| id.clone())
                        .ok_or_else(|| {
                            Failure::new(
                                Code::DeviceUnreachable,
                                format!(
                                    "{} was not heard over Bluetooth; is it in setup mode and near?",
                                    spec.name
                                ),
                            )
                        })?,
                };
                targets.push((
                    spec.name.clone(),
                    DeviceTarget::Ble { peripheral_id, service: ESP_IDF_DEFAULT_SERVICE_UUID },
                ));
            }
            ble = Some(central);
        }
        TransportArg::Softap => {
            if specs.len() > 1 && args.parallel > 1 && specs.iter().any(|s| s.location.is_none()) {
                return Err(usage(
                    "a computer joins one access point at a time: use --parallel 1 for SoftAP batches, or give each device's address",
                ));
            }
            for spec in &specs {
                targets.push((
                    spec.name.clone(),
                    DeviceTarget::SoftAp {
                        ssid: spec.name.clone(),
                        passphrase: args.ap_passphrase.clone().map(SecretString::new),
                        address: spec.location.clone().unwrap_or_else(|| DEFAULT_DEVICE_ADDRESS.to_owned()),
                    },
                ));
            }
            // Devices given by address are reachable already (a lab network or `unbox sim`).
            let manual = specs.iter().all(|s| s.location.is_some()) || !nmcli_available();
            if manual {
                if specs.iter().filter(|s| s.location.is_none()).count() > 1 {
                    return Err(usage(
                        "without NetworkManager (nmcli) this computer cannot move from one device's network to the next: provision one device at a time, or give each device's address",
                    ));
                }
                join_by_hand = specs.iter().map(|s| s.name.clone()).collect();
            }
            phone_wifi = Some(Arc::new(if manual { DesktopWifi::Manual } else { DesktopWifi::Nmcli }));
        }
    }

    // Wi-Fi only needs no account; otherwise the sign-in comes once the devices are known.
    let account = if args.wifi_only {
        None
    } else {
        let account = Account::load(store.as_ref()).await?;
        let session = account.session(store.clone()).await?;
        let backend = url::Url::parse(&account.backend).map_err(|e| usage(format!("backend URL: {e}")))?;
        let binding = BindingClient::new(&backend, session.clone())
            .map_err(|e| Failure::new(Code::Internal, e.to_string()))?;
        Some((session, binding))
    };

    let settings = OnboardingSettings {
        policy: SecurityPolicy {
            allow_unencrypted: args.allow_unencrypted,
            allow_sec1_without_pop: args.allow_no_pop,
            allow_sec2_static_nonce: args.allow_sec2_static_nonce,
            ..SecurityPolicy::default()
        },
        ..OnboardingSettings::default()
    };
    let (onboarding, binding) = match account {
        Some((session, binding)) => {
            (Onboarding::new(session, binding, ble, phone_wifi, store, settings), BindingMode::Claim)
        }
        None => (Onboarding::without_account(ble, phone_wifi, store, settings), BindingMode::None),
    };
    let requests = targets
        .into_iter()
        .map(|(device_name, target)| {
            // The device the code names starts from it: its outcome carries the code's fields.
            let code =
                qr.as_ref().filter(|qr| qr.name == device_name).cloned().map(OnboardingPayload::Espressif);
            OnboardingRequest {
                device_name,
                target,
                credentials: credentials.clone(),
                wifi: wifi.clone(),
                scan_wifi: !args.no_device_scan,
                binding,
                code,
            }
        })
        .collect();
    // Said before the device steps start, and before the progress bars take the screen.
    for network in &join_by_hand {
        eprintln!("make sure this computer is on the device's network `{network}`");
    }
    let outcomes =
        batch::run(&onboarding, requests, args.parallel, json, timeline, args.given_passphrase(), cancel)
            .await;
    batch::report(outcomes, json)
}

/// `--protocol improv` (one BLE device by name or peripheral id) or `--protocol improv-serial`
/// (the device on `--port`): Wi-Fi only, no account.
async fn provision_improv(args: &ProvisionArgs, json: bool) -> Result<(), Failure> {
    let (ssid, passphrase) = args.improv_network()?;
    let timeouts = unbox_core::improv::ImprovTimeouts::default();
    if args.protocol == ProtocolArg::ImprovSerial {
        let port = args.port.as_deref().ok_or_else(|| usage("give the device's serial port with --port"))?;
        let client = improv::open_serial(port, args.baud, timeouts).await.map_err(improv::failure)?;
        improv::provision(client, port, ssid, &passphrase, json).await?;
        return Ok(());
    }
    let [spec] = args
        .specs(None)?
        .try_into()
        .map_err(|_| usage("Improv onboards one device at a time: give one --device"))?;
    let central: Arc<dyn BleCentral> =
        Arc::new(BtleplugCentral::new().await.map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?);
    let peripheral_id = match spec.location {
        Some(id) => id,
        None => find_peripherals(central.clone(), std::slice::from_ref(&spec.name))
            .await?
            .pop()
            .map(|(_, id)| id)
            .ok_or_else(|| {
                Failure::new(
                    Code::DeviceUnreachable,
                    format!("{} was not heard over Bluetooth; is it near?", spec.name),
                )
            })?,
    };
    let client =
        improv::open_ble(central.as_ref(), &peripheral_id, timeouts).await.map_err(improv::failure)?;
    improv::provision(client, &spec.name, ssid, &passphrase, json).await?;
    Ok(())
}
