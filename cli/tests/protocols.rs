//! `unbox provision` for the other device protocols, run as a process through the same flow as
//! ESP devices: Improv over a serial port (a simulated ESPHome device on a pseudo-terminal) and
//! a captive-portal device (`unbox sim portal`), confirmed Wi-Fi only by its multicast DNS
//! announcement on loopback.

mod support;
use support::{run_unbox, start_sim};

fn state_dir(test: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("unbox-cli-{test}-{}", std::process::id()))
}

fn rows(stdout: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("JSON rows ({e}): {stdout}"))
}

#[cfg(target_os = "linux")]
#[test]
fn improv_serial_onboards_through_the_flow_with_its_warning_and_redirect_url() {
    use unbox_sim::device::SimNetwork;
    use unbox_sim::device::improv::pty::ImprovPty;
    use unbox_sim::device::improv::{ImprovDeviceConfig, SimImprovDevice};

    // The simulated device answers on the pseudo-terminal from this runtime's threads while the
    // test waits for the command.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _context = runtime.enter();
    let mut config =
        ImprovDeviceConfig::esphome("Desk Lamp", vec![SimNetwork::new("HomeWifi", "correct horse")]);
    config.requires_authorization = false;
    let device = SimImprovDevice::new(config);
    let line = ImprovPty::open(device.clone()).unwrap();
    let port = line.path().to_str().unwrap().to_owned();
    let state = state_dir("improv-serial");
    let args = |passphrase: &'static str| {
        vec![
            "provision",
            "--protocol",
            "improv-serial",
            "--port",
            port.as_str(),
            "--ssid",
            "HomeWifi",
            "--passphrase",
            passphrase,
        ]
    };

    // A wrong password is the flow's wrong-password failure (exit 5), the device untouched.
    let (code, stdout, stderr) = run_unbox(&state, &args("not-the-password"));
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(stderr.contains("anyone nearby can read the Wi-Fi password"), "the cleartext warning: {stderr}");
    assert_eq!(device.joined_network(), None);

    let mut json = vec!["--json"];
    json.extend(args("correct horse"));
    let (code, stdout, stderr) = run_unbox(&state, &json);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let rows = rows(&stdout);
    assert_eq!(rows.len(), 1, "{stdout}");
    let row = &rows[0];
    assert_eq!(row["device"].as_str(), Some(port.as_str()));
    assert_eq!(row["status"], "online");
    assert_eq!(row["confirmation"], "reported");
    assert_eq!(row["protocol"], "improv_serial");
    assert_eq!(row["network"], "HomeWifi");
    assert_eq!(row["binding_id"], serde_json::Value::Null, "Improv onboards Wi-Fi only");
    assert_eq!(row["redirect_url"], "http://desk-lamp.local");
    assert_eq!(device.joined_network().as_deref(), Some("HomeWifi"));
    let _ = std::fs::remove_dir_all(state);
}

/// Starts `unbox sim portal` (announcing `announce` once joined, if given); returns it with
/// its address.
fn start_portal(announce: Option<&str>) -> (support::Running, String) {
    let mut args = vec!["portal", "--listen", "127.0.0.1:0", "--network", "HomeNet:correct horse"];
    if let Some(name) = announce {
        args.extend(["--announce", name]);
    }
    let (process, line) = start_sim(&args);
    let address = line.trim().rsplit(' ').next().expect("listening on ADDRESS").to_owned();
    (process, address)
}

#[test]
fn a_wifi_only_portal_device_is_confirmed_by_its_mdns_announcement_or_left_unconfirmed() {
    // A service type of this run only, so that nothing else on the machine's loopback answers.
    let announce = format!("esp32-c0ffee._ut{}._tcp", std::process::id() % 100_000);
    let state = state_dir("portal");
    let provision = |address: &str, announce: Option<&str>| {
        let device = format!("ESP32_C0FFEE={address}");
        let mut args = vec![
            "--json",
            "provision",
            "--protocol",
            "portal",
            "--device",
            device.as_str(),
            "--wifi-only",
            "--ssid",
            "HomeNet",
            "--passphrase",
            "correct horse",
        ];
        if let Some(name) = announce {
            args.extend(["--announce", name]);
        }
        run_unbox(&state, &args)
    };

    let (_portal, address) = start_portal(Some(&announce));
    let (code, stdout, stderr) = provision(&address, Some(&announce));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let row = &rows(&stdout)[0];
    assert_eq!(row["status"], "online", "found on the home network: {row}");
    assert_eq!(row["protocol"], "captive_portal");
    assert_eq!(row["network"], "HomeNet");
    assert_eq!(row["ip"], "127.0.0.1", "the announced address: {row}");

    // Without the announcement the portal never says whether the device joined.
    let (_portal, address) = start_portal(None);
    let (code, stdout, stderr) = provision(&address, None);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let row = &rows(&stdout)[0];
    assert_eq!(
        (row["status"].as_str(), row["confirmation"].as_str()),
        (Some("unconfirmed"), Some("unconfirmed"))
    );
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn announce_is_checked_before_any_device_is_touched() {
    let state = state_dir("announce-usage");
    let base = ["provision", "--ssid", "HomeNet", "--passphrase", "pw", "--wifi-only"];
    for (extra, expected) in [
        (
            vec!["--protocol", "portal", "--device", "ESP32_1", "--announce", "_http._tcp"],
            "INSTANCE._service._tcp",
        ),
        (
            vec![
                "--protocol",
                "esp",
                "--transport",
                "softap",
                "--device",
                "PROV_1",
                "--announce",
                "a._http._tcp",
            ],
            "are for portal devices (--protocol portal)",
        ),
        (
            vec![
                "--protocol",
                "portal",
                "--device",
                "ESP32_1",
                "--device",
                "ESP32_2",
                "--announce",
                "a._http._tcp",
            ],
            "--announce names one device",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let (code, stdout, stderr) = run_unbox(&state, &args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(state);
}

#[test]
fn the_demo_onboards_improv_and_portal_devices_through_the_flow() {
    let state = state_dir("demo-protocols");
    let (code, stdout, stderr) = run_unbox(&state, &["--json", "demo", "--protocol", "improv"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let improv = rows(&stdout);
    let protocols: Vec<&str> = improv.iter().filter_map(|r| r["protocol"].as_str()).collect();
    let expected: &[&str] =
        if cfg!(target_os = "linux") { &["improv_serial", "improv_ble"] } else { &["improv_ble"] };
    assert_eq!(protocols, expected, "Desk Lamp (serial) sorts before Kitchen Light (BLE): {stdout}");
    assert!(improv.iter().all(|r| r["status"] == "online" && r["redirect_url"].is_string()), "{stdout}");

    let (code, stdout, stderr) = run_unbox(&state, &["--json", "demo", "--protocol", "portal"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let row = &rows(&stdout)[0];
    assert_eq!((row["status"].as_str(), row["confirmation"].as_str()), (Some("bound"), Some("redeemed")));
    let _ = std::fs::remove_dir_all(state);
}
