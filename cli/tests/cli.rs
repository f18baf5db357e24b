//! The `unbox` command run as a process: the demo, and login/provision/logout against
//! `unbox sim all` on loopback, with the exit code and message of each user-facing failure.

use std::process::Stdio;

mod support;
use support::{Running, run_unbox, start_sim, unbox};

struct Simulator {
    _process: Running,
    summary: serde_json::Value,
}

fn start_simulator(devices: usize) -> Simulator {
    let (process, line) = start_sim(&["all", "--json", "--devices", &devices.to_string()]);
    let summary = serde_json::from_str(&line).expect("sim all prints its summary as JSON");
    Simulator { _process: process, summary }
}

struct Cli {
    state_dir: std::path::PathBuf,
}

impl Cli {
    fn new() -> Self {
        let state_dir = std::env::temp_dir().join(format!("unbox-cli-test-{}", uuid_like()));
        Self { state_dir }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run_unbox(&self.state_dir, args)
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap()
    )
}

fn provision_args<'a>(device: &'a str, code: &'a str, passphrase: &'a str) -> Vec<&'a str> {
    vec![
        "provision",
        "--transport",
        "softap",
        "--device",
        device,
        "--code",
        code,
        "--ssid",
        "HomeNet",
        "--passphrase",
        passphrase,
        "--json",
    ]
}

#[test]
fn the_demo_binds_a_simulated_device() {
    let cli = Cli::new();
    let (code, stdout, stderr) = cli.run(&["demo", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows[0]["status"], "bound");
    assert_eq!(rows[0]["device_id"], "dev-1A2B3C");
}

#[test]
fn login_provision_and_each_failure_against_the_simulator() {
    let sim = start_simulator(3);
    let issuer = sim.summary["issuer"].as_str().unwrap().to_owned();
    let device = |i: usize| {
        let d = &sim.summary["devices"][i];
        format!("{}={}", d["name"].as_str().unwrap(), d["address"].as_str().unwrap())
    };
    let cli = Cli::new();

    let (code, _, stderr) = cli.run(&provision_args(&device(0), "abcd1234", "correct horse battery"));
    assert_eq!(code, 4, "not signed in yet: {stderr}");
    assert!(stderr.contains("unbox sign-in"), "{stderr}");

    let (code, stdout, stderr) =
        cli.run(&["sign-in", "--issuer", &issuer, "--client-id", "unbox-app", "--json"]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert!(stdout.contains("\"signed_in\":true"), "{stdout}");

    let (code, stdout, stderr) = cli.run(&provision_args(&device(0), "abcd1234", "correct horse battery"));
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows[0]["status"], "bound", "{stdout}");

    let (code, _, stderr) = cli.run(&provision_args(&device(1), "wrong-code", "correct horse battery"));
    assert_eq!(code, 8, "wrong device code: {stderr}");
    assert!(stderr.contains("proof of possession or password"), "{stderr}");

    let (code, _, stderr) = cli.run(&provision_args(&device(1), "abcd1234", "not the password"));
    assert_eq!(code, 5, "wrong Wi-Fi password: {stderr}");
    assert!(stderr.contains("password is wrong"), "{stderr}");

    let (code, _, stderr) =
        cli.run(&provision_args("PROV_NOWHERE=127.0.0.1:9", "abcd1234", "correct horse battery"));
    assert_eq!(code, 7, "unreachable device: {stderr}");

    let (code, _, stderr) = cli.run(&provision_args(&device(2), "abcd1234", "short"));
    assert_eq!(code, 2, "invalid passphrase is a usage error: {stderr}");

    let (code, stdout, _) = cli.run(&["sign-out", "--json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"signed_in\":false"));
    let (code, _, _) = cli.run(&provision_args(&device(2), "abcd1234", "correct horse battery"));
    assert_eq!(code, 4, "signed out");
}

#[test]
fn a_batch_prints_a_summary_and_a_partial_failure_code() {
    let sim = start_simulator(3);
    let issuer = sim.summary["issuer"].as_str().unwrap().to_owned();
    let cli = Cli::new();
    let (code, _, stderr) = cli.run(&["sign-in", "--issuer", &issuer, "--client-id", "unbox-app"]);
    assert_eq!(code, 0, "{stderr}");
    let mut args =
        vec!["provision".to_owned(), "--transport".into(), "softap".into(), "--parallel".into(), "3".into()];
    for d in sim.summary["devices"].as_array().unwrap() {
        args.push("--device".into());
        args.push(format!("{}={}", d["name"].as_str().unwrap(), d["address"].as_str().unwrap()));
    }
    args.extend(["--device".into(), "PROV_GONE=127.0.0.1:9".into()]);
    args.extend(
        ["--code", "abcd1234", "--ssid", "HomeNet", "--passphrase", "correct horse battery"]
            .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = cli.run(&args);
    assert_eq!(code, 12, "{stdout} {stderr}");
    assert_eq!(stdout.matches(" bound ").count(), 3, "{stdout}");
    assert!(stdout.contains("PROV_GONE") && stdout.contains("failed"), "{stdout}");
}

#[test]
fn bad_input_is_a_usage_error_with_a_message() {
    let cli = Cli::new();
    let (code, _, stderr) = cli.run(&["qr", "parse", "MT:not-base38"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("error:"), "{stderr}");
    let (code, stdout, _) = cli.run(&["qr", "parse", "--json", "WIFI:T:WPA;S:Home;P:secret123;;"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("[redacted]") && !stdout.contains("secret123"), "{stdout}");
}

/// `unbox sim device` as a process and the address it prints.
struct SimDevice {
    _process: Running,
    address: String,
}

fn start_device(flavour: &str) -> SimDevice {
    let (process, line) = start_sim(&[
        "device",
        "--security",
        "2",
        "--password",
        "abcd1234",
        "--join-ms",
        "50",
        "--network",
        "HomeNet:pass1234",
        "--flavour",
        flavour,
    ]);
    let address = line.trim().rsplit(' ').next().expect("listening on ADDRESS").to_owned();
    SimDevice { _process: process, address }
}

/// A stock device (no claim endpoint) onboards with `--wifi-only` and no sign-in; a run after
/// a wrong password succeeds on both firmware flavours.
#[test]
fn wifi_only_onboards_a_stock_device_and_recovers_from_an_earlier_failed_run() {
    for flavour in ["plain", "example"] {
        let device = start_device(flavour);
        let cli = Cli::new();
        let target = format!("PROV_1A2B3C={}", device.address);
        let args = |passphrase: &'static str| {
            let mut args = vec!["provision", "--transport", "softap", "--device", target.as_str()];
            args.extend([
                "--code",
                "abcd1234",
                "--ssid",
                "HomeNet",
                "--passphrase",
                passphrase,
                "--wifi-only",
            ]);
            args
        };
        let (code, _, stderr) = cli.run(&args("wrong-pass"));
        assert_eq!(code, 5, "{flavour}: {stderr}");
        let (code, stdout, stderr) = cli.run(&args("pass1234"));
        assert_eq!(code, 0, "{flavour}: {stdout}{stderr}");
        assert!(stdout.contains("not bound (Wi-Fi only)"), "{flavour}: {stdout}");
        assert!(stdout.contains("for binding it yourself") && stdout.contains("device info  {"), "{stdout}");
    }
}

/// Started from the device's QR code, the Wi-Fi-only result carries what an app binding the
/// device itself needs: its name, info JSON, the address it reported and the code's fields.
#[test]
fn a_wifi_only_result_carries_the_devices_info_address_and_code() {
    let device = start_device("plain");
    let cli = Cli::new();
    let target = format!("PROV_1A2B3C={}", device.address);
    let qr = r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"softap","security":2}"#;
    let (code, stdout, stderr) = cli.run(&[
        "--json",
        "provision",
        "--qr",
        qr,
        "--device",
        &target,
        "--ssid",
        "HomeNet",
        "--passphrase",
        "pass1234",
        "--wifi-only",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let row = &rows[0];
    assert_eq!((row["device"].as_str(), row["status"].as_str()), (Some("PROV_1A2B3C"), Some("online")));
    assert_eq!(row["confirmation"], "reported");
    assert!(row["ip"].as_str().is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()), "{row}");
    assert!(row["device_info"]["prov"].is_object(), "the info JSON as the device sent it: {row}");
    let fields = row["code"]["fields"].as_array().expect("the code's fields");
    assert!(fields.contains(&serde_json::json!(["name", "PROV_1A2B3C"])), "{row}");
    assert!(fields.contains(&serde_json::json!(["pop", "[redacted]"])), "secrets stay redacted: {row}");
}

/// Without `--ssid` the person chooses on a terminal; with `--json` or without a terminal that
/// is a usage error naming the flags, before any device is touched.
#[test]
fn without_ssid_and_without_a_terminal_the_error_names_the_flags() {
    let cli = Cli::new();
    let base =
        ["provision", "--transport", "softap", "--device", "PROV_1A2B3C=127.0.0.1:9", "--code", "abcd1234"];
    for extra in [&["--wifi-only"][..], &["--wifi-only", "--json"], &[]] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (code, _, stderr) = cli.run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("--ssid") && stderr.contains("--passphrase"), "{stderr}");
        assert!(stderr.contains("interactive terminal"), "{stderr}");
    }
    let batch =
        ["provision", "--transport", "softap", "--device", "A=127.0.0.1:9", "--device", "B=127.0.0.1:9"];
    let (code, _, stderr) = cli.run(&[&batch[..], &["--code", "x", "--wifi-only"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("a batch joins one network: add --ssid"), "{stderr}");
}

/// The subcommands a `--help` text lists under `Commands:` (clap's own `help` left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_help_gives_an_example_of_itself() {
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut checked = Vec::new();
    while let Some(path) = pending.pop() {
        let output = unbox().args(&path).arg("--help").output().expect("run unbox --help");
        assert!(output.status.success(), "{path:?} --help failed");
        let help = String::from_utf8(output.stdout).expect("help is UTF-8");
        let command =
            std::iter::once("unbox").chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
        let example = help.lines().skip_while(|line| *line != "Example:").nth(1).unwrap_or_default();
        assert!(
            example.trim_start().starts_with(&format!("{command} ")) || example.trim() == command,
            "`{command} --help` has no `Example:` line using `{command}`:\n{help}"
        );
        for name in subcommands(&help) {
            pending.push(path.iter().cloned().chain([name]).collect());
        }
        checked.push(command);
    }
    for nested in [
        "unbox sim device",
        "unbox sim cloud",
        "unbox sim all",
        "unbox qr parse",
        "unbox qr show",
        "unbox sign-out",
    ] {
        assert!(
            checked.iter().any(|c| c == nested),
            "{nested} was not reached from `unbox --help`: {checked:?}"
        );
    }
}

/// Runs `unbox` where the system D-Bus (BlueZ's) does not answer and no NetworkManager runs.
#[cfg(target_os = "linux")]
fn without_radios(cli: &Cli, args: &[&str]) -> (i32, String) {
    let no_programs = cli.state_dir.join("empty-path");
    std::fs::create_dir_all(&no_programs).unwrap();
    let output = unbox()
        .args(args)
        .env("UNBOX_STATE_DIR", &cli.state_dir)
        .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", cli.state_dir.join("no-bus").display()))
        .env("PATH", &no_programs)
        .stdin(Stdio::null())
        .output()
        .expect("run unbox");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[cfg(target_os = "linux")]
#[test]
fn bluetooth_commands_say_so_when_bluez_is_not_there() {
    let cli = Cli::new();
    let (code, stderr) = without_radios(&cli, &["scan", "--seconds", "1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("Bluetooth scan skipped: Bluetooth is unavailable"), "{stderr}");

    let provision = [
        "provision",
        "--transport",
        "ble",
        "--device",
        "PROV_1A2B3C",
        "--code",
        "abcd1234",
        "--ssid",
        "HomeNet",
        "--passphrase",
        "correct horse battery",
    ];
    let (code, stderr) = without_radios(&cli, &provision);
    assert_eq!(code, 3, "checked before asking for a sign-in: {stderr}");
    assert!(stderr.contains("Bluetooth is unavailable"), "{stderr}");

    // Improv over Bluetooth reaches the radio the same way (no code, Wi-Fi only).
    let improv = [
        "provision",
        "--protocol",
        "improv",
        "--device",
        "Kitchen Light",
        "--ssid",
        "HomeNet",
        "--passphrase",
        "pw-12345678",
    ];
    let (code, stderr) = without_radios(&cli, &improv);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("Bluetooth is unavailable"), "{stderr}");
}

/// `unbox [-v] logout` (the hidden old name of `sign-out`) where no desktop keyring answers (no
/// session D-Bus): its stderr.
#[cfg(target_os = "linux")]
fn logout_without_keyring(cli: &Cli, verbose: bool) -> String {
    let output = unbox()
        .args(verbose.then_some("-v"))
        .arg("logout")
        .env_remove("UNBOX_STATE_DIR")
        .env_remove("RUST_LOG")
        .env("XDG_CONFIG_HOME", cli.state_dir.join("config"))
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", cli.state_dir.join("no-bus").display()))
        .stdin(Stdio::null())
        .output()
        .expect("run unbox logout");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn no_keyring_is_one_plain_note_and_v_keeps_the_structured_log() {
    let cli = Cli::new();
    let config = cli.state_dir.join("config").join("unbox");
    assert_eq!(
        logout_without_keyring(&cli, false),
        format!("note: no desktop keyring; secrets are kept in {} (mode 0600)\n", config.display()),
        "one plain line: no timestamp, level, module path or colour codes"
    );
    let verbose = logout_without_keyring(&cli, true);
    assert!(verbose.contains(" DEBUG unbox::account: the desktop keyring did not answer"), "{verbose}");
    assert!(!verbose.contains('\u{1b}'), "no colour codes when stderr is not a terminal: {verbose:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn without_nmcli_a_softap_batch_needs_the_devices_addresses() {
    let cli = Cli::new();
    let mut args = vec!["provision", "--transport", "softap", "--parallel", "1"];
    args.extend(["--device", "PROV_1A2B3C", "--device", "PROV_1A2B3D"]);
    args.extend(["--code", "abcd1234", "--ssid", "HomeNet", "--passphrase", "correct horse battery"]);
    let (code, stderr) = without_radios(&cli, &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("provision one device at a time, or give each device's address"), "{stderr}");
}
