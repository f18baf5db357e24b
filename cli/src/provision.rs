//! `unbox provision`: onboard real devices (or `unbox sim` ones) — ESP devices over BLE or SoftAP,
//! Improv devices over BLE or a serial port, captive-portal devices through their access point —
//! one, or a list for installers and factories, concurrently with bounded parallelism. Every
//! protocol runs the same flow (`Onboarding::run`); only how a device is reached differs here.

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
use unbox_core::flow::{
    BindingMode, DeviceTarget, Onboarding, OnboardingRequest, OnboardingSettings, PortalTarget,
};
use unbox_core::platform::ble::BleCentral;
use unbox_core::platform::phone_wifi::{ManualJoin, PhoneWifi};
use unbox_core::platform::secret_store::SecretStore;
use unbox_core::portal::PortalParameter;
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
use crate::improv::ProtocolArg;
use crate::mdns::{MdnsBrowser, parse_announcement};

/// Arguments of `provision`.
#[derive(Args)]
pub struct ProvisionArgs {
    /// The devices' protocol: ESP unified provisioning, Improv Wi-Fi over BLE or a serial port,
    /// or a captive portal (WiFiManager-style firmware). Improv devices onboard Wi-Fi only.
    #[arg(long, value_enum, default_value = "esp")]
    protocol: ProtocolArg,
    /// The serial port of an Improv serial device (`/dev/ttyUSB0`, `COM3`).
    #[arg(long, required_if_eq("protocol", "improv-serial"))]
    port: Option<String>,
    /// The serial port's rate (the firmware's console rate).
    #[arg(long, default_value_t = unbox_core::improv::serial::DEFAULT_BAUD_RATE)]
    baud: u32,
    /// How to reach ESP devices.
    #[arg(long, value_enum)]
    transport: Option<TransportArg>,
    /// A device: its name (`PROV_1A2B3C`; a portal's access point, `ESP32_1A2B3C`), optionally
    /// `=ADDRESS` (SoftAP or portal `host:port`) or `=PERIPHERAL_ID` (BLE). Repeat for a batch.
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
    #[arg(long, env = "UNBOX_DEVICE_CODE", hide_env_values = true, allow_hyphen_values = true)]
    code: Option<String>,
    /// The home network the devices should join. Without it, on a terminal, one device: choose
    /// from the networks the device sees (arrow keys or a number).
    #[arg(long)]
    ssid: Option<String>,
    /// Its passphrase; asked without echo when omitted on a terminal.
    #[arg(long, env = "UNBOX_WIFI_PASSPHRASE", hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) passphrase: Option<String>,
    /// The passphrase of the devices' own access points (SoftAP).
    #[arg(long, env = "UNBOX_AP_PASSPHRASE", hide_env_values = true, allow_hyphen_values = true)]
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
    /// bound some other way, e.g. by the code on their label). Improv devices always are.
    #[arg(long)]
    wifi_only: bool,
    /// A portal form's custom parameter, as `ID=VALUE` (the firmware's parameter id). Repeat for
    /// several.
    #[arg(long = "param", value_name = "ID=VALUE")]
    params: Vec<String>,
    /// The portal form's field that takes the claim token (the firmware must declare it), for
    /// the claim binding; needs --device-id.
    #[arg(long, requires = "device_id")]
    claim_param: Option<String>,
    /// The portal device's id at the backend (on its label), for the claim binding.
    #[arg(long)]
    device_id: Option<String>,
    /// How the portal device announces itself on the home network once online, as its DNS-SD
    /// name `INSTANCE._service._tcp` (e.g. `esp32-c0ffee._http._tcp`): with it, a Wi-Fi-only
    /// onboarding is confirmed by finding the device there (mDNS); without it, the portal never
    /// says whether the device joined. One device.
    #[arg(long, value_name = "INSTANCE._SERVICE._tcp")]
    announce: Option<String>,
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

    /// The portal form's custom parameters from `--param ID=VALUE`.
    fn portal_parameters(&self) -> Result<Vec<PortalParameter>, Failure> {
        self.params
            .iter()
            .map(|spec| {
                let (id, value) = spec
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--param wants ID=VALUE, got `{spec}`")))?;
                Ok(PortalParameter { id: id.trim().to_owned(), value: SecretString::new(value) })
            })
            .collect()
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

/// How the devices of one run are reached: the radios the flow gets, each device's target, and
/// the access points the person joins by hand.
struct Reach {
    ble: Option<Arc<dyn BleCentral>>,
    phone_wifi: Option<Arc<dyn PhoneWifi>>,
    targets: Vec<(String, DeviceTarget)>,
    join_by_hand: Vec<String>,
}

impl Reach {
    fn new(targets: Vec<(String, DeviceTarget)>) -> Self {
        Self { ble: None, phone_wifi: None, targets, join_by_hand: Vec::new() }
    }
}

/// The devices over Bluetooth offering `service`: those given by peripheral id, the others found
/// by name with a short scan.
async fn over_ble(specs: &[DeviceSpec], service: uuid::Uuid) -> Result<Reach, Failure> {
    let central: Arc<dyn BleCentral> =
        Arc::new(BtleplugCentral::new().await.map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?);
    let unresolved: Vec<String> =
        specs.iter().filter(|s| s.location.is_none()).map(|s| s.name.clone()).collect();
    let found = if unresolved.is_empty() {
        Vec::new()
    } else {
        find_peripherals(central.clone(), &unresolved).await?
    };
    let mut targets = Vec::with_capacity(specs.len());
    for spec in specs {
        let peripheral_id = match &spec.location {
            Some(id) => id.clone(),
            None => found.iter().find(|(name, _)| *name == spec.name).map(|(_, id)| id.clone()).ok_or_else(
                || {
                    Failure::new(
                        Code::DeviceUnreachable,
                        format!("{} was not heard over Bluetooth; is it in setup mode and near?", spec.name),
                    )
                },
            )?,
        };
        targets.push((spec.name.clone(), DeviceTarget::Ble { peripheral_id, service }));
    }
    Ok(Reach { ble: Some(central), ..Reach::new(targets) })
}

/// The devices through their own access points (ESP SoftAP, captive portals), `target` making
/// each one's target from its spec: joined with NetworkManager, or by the person when the
/// devices are given by address or nmcli is missing.
fn over_access_points(
    specs: &[DeviceSpec],
    parallel: usize,
    target: impl Fn(&DeviceSpec) -> DeviceTarget,
) -> Result<Reach, Failure> {
    if specs.len() > 1 && parallel > 1 && specs.iter().any(|s| s.location.is_none()) {
        return Err(usage(
            "a computer joins one access point at a time: use --parallel 1 for SoftAP batches, or give each device's address",
        ));
    }
    let targets = specs.iter().map(|spec| (spec.name.clone(), target(spec))).collect();
    // Devices given by address are reachable already (a lab network or `unbox sim`).
    let manual = specs.iter().all(|s| s.location.is_some()) || !nmcli_available();
    let mut reach = Reach::new(targets);
    if manual {
        if specs.iter().filter(|s| s.location.is_none()).count() > 1 {
            return Err(usage(
                "without NetworkManager (nmcli) this computer cannot move from one device's network to the next: provision one device at a time, or give each device's address",
            ));
        }
        reach.join_by_hand = specs.iter().map(|s| s.name.clone()).collect();
    }
    reach.phone_wifi =
        Some(Arc::new(if manual { DesktopWifi::Manual(ManualJoin::ByHand) } else { DesktopWifi::Nmcli }));
    Ok(reach)
}

/// Runs `provision`; `timeline`: print each device's timeline (`-v`).
pub async fn run(
    args: ProvisionArgs,
    store: Arc<dyn SecretStore>,
    json: bool,
    timeline: bool,
    cancel: &CancellationToken,
) -> Result<(), Failure> {
    let qr = args.qr.as_deref().map(EspressifQr::parse).transpose().map_err(|e| usage(e.to_string()))?;
    if qr.is_some() && args.protocol != ProtocolArg::Esp {
        return Err(usage("--qr is an ESP device's code; leave it out for Improv and portal devices"));
    }
    let announce = args.announce.as_deref().map(parse_announcement).transpose().map_err(usage)?;
    let portal_flags = announce.is_some() || !args.params.is_empty() || args.claim_param.is_some();
    if portal_flags && args.protocol != ProtocolArg::Portal {
        return Err(usage(
            "--announce, --param and --claim-param are for portal devices (--protocol portal)",
        ));
    }
    let specs = match args.protocol {
        // The port names the one device on it.
        ProtocolArg::ImprovSerial => {
            let port = args.port.clone().ok_or_else(|| usage("give the device's serial port with --port"))?;
            vec![DeviceSpec { name: port, location: None }]
        }
        _ => args.specs(qr.as_ref())?,
    };
    if announce.is_some() && specs.len() > 1 {
        return Err(usage("--announce names one device: onboard portal devices with it one at a time"));
    }
    // Improv and portal devices have no session security: their requests carry no code.
    let credentials = if args.protocol == ProtocolArg::Esp {
        args.credentials(qr.as_ref())?
    } else {
        ClientCredentials::Sec0
    };
    if qr.as_ref().is_some_and(|q| q.security_level() == SecurityLevel::Sec0) && !args.allow_unencrypted {
        return Err(usage("this device runs no encryption; add --allow-unencrypted to accept that"));
    }
    let wifi = args.network(specs.len(), json)?;

    // The devices and the radio first: without Bluetooth there is nothing to sign in for.
    let ap_passphrase = || args.ap_passphrase.clone().map(SecretString::new);
    let address =
        |spec: &DeviceSpec| spec.location.clone().unwrap_or_else(|| DEFAULT_DEVICE_ADDRESS.to_owned());
    let reach = match args.protocol {
        ProtocolArg::Esp => {
            let transport = match (args.transport, qr.as_ref().and_then(|q| q.transport)) {
                (Some(transport), _) => transport,
                (None, Some(TransportKind::SoftAp)) => TransportArg::Softap,
                (None, Some(TransportKind::Ble)) => TransportArg::Ble,
                (None, None) => return Err(usage("choose --transport ble or --transport softap")),
            };
            match transport {
                TransportArg::Ble => over_ble(&specs, ESP_IDF_DEFAULT_SERVICE_UUID).await?,
                TransportArg::Softap => {
                    over_access_points(&specs, args.parallel, |spec| DeviceTarget::SoftAp {
                        ssid: spec.name.clone(),
                        passphrase: ap_passphrase(),
                        address: address(spec),
                    })?
                }
            }
        }
        ProtocolArg::Improv => over_ble(&specs, unbox_core::improv::ble::SERVICE_UUID).await?,
        ProtocolArg::ImprovSerial => Reach::new(
            specs
                .iter()
                .map(|spec| {
                    (
                        spec.name.clone(),
                        DeviceTarget::ImprovSerial { port: spec.name.clone(), baud: args.baud },
                    )
                })
                .collect(),
        ),
        ProtocolArg::Portal => {
            let parameters = args.portal_parameters()?;
            over_access_points(&specs, args.parallel, |spec| {
                DeviceTarget::Portal(PortalTarget {
                    ssid: spec.name.clone(),
                    passphrase: ap_passphrase(),
                    address: address(spec),
                    parameters: parameters.clone(),
                    claim_parameter: args.claim_param.clone(),
                    device_id: args.device_id.clone(),
                    announce: announce.clone(),
                })
            })?
        }
    };

    // Wi-Fi only needs no account (Improv cannot carry a claim); otherwise the sign-in comes
    // once the devices are known.
    let wifi_only =
        args.wifi_only || matches!(args.protocol, ProtocolArg::Improv | ProtocolArg::ImprovSerial);
    let account = if wifi_only {
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
    let Reach { ble, phone_wifi, targets, join_by_hand } = reach;
    let (mut onboarding, binding) = match account {
        Some((session, binding)) => {
            (Onboarding::new(session, binding, ble, phone_wifi, store, settings), BindingMode::Claim)
        }
        None => (Onboarding::without_account(ble, phone_wifi, store, settings), BindingMode::None),
    };
    if announce.is_some() {
        onboarding = onboarding.with_service_browser(Arc::new(MdnsBrowser::new().map_err(|e| {
            Failure::new(Code::Unavailable, format!("cannot browse the local network (mDNS): {e}"))
        })?));
    }
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
