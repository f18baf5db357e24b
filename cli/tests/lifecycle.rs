//! `unbox devices`, `unbox transfer`, `unbox unbind` and `unbox check-backend` run as processes against
//! `unbox sim cloud` on loopback.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

mod support;
use support::{Running, run_unbox as run, run_unbox_as, start_sim, unbox};

/// `unbox sim cloud` with short claims and two test devices, killed on drop.
struct Cloud {
    _process: Running,
    url: String,
    devices: Vec<String>,
}

fn start_cloud() -> Cloud {
    let mut child = unbox()
        .args(["sim", "cloud", "--claim-ttl", "3", "--test-devices", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start unbox sim cloud");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut url = String::new();
    let mut devices = Vec::new();
    while devices.len() < 2 {
        let line = lines.next().expect("sim cloud prints its set-up").expect("readable");
        if let Some(rest) = line.trim().strip_prefix("issuer and backend: ") {
            url = rest.to_owned();
        }
        if let Some(device) = line.trim().strip_prefix("--device ") {
            devices.push(device.to_owned());
        }
    }
    Cloud { _process: Running { child }, url, devices }
}

#[test]
fn check_backend_passes_against_the_simulated_cloud() {
    let cloud = start_cloud();
    let mut args =
        vec!["check-backend", "--backend", &cloud.url, "--issuer", &cloud.url, "--client-id", "unbox-app"];
    for device in &cloud.devices {
        args.extend(["--device", device]);
    }
    let (code, stdout, stderr) = run(&std::env::temp_dir(), &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("20 rules: 20 passed, 0 failed, 0 not run"), "{stdout}");
    assert!(stdout.contains("confirm.waits              pass"), "{stdout}");
    assert!(stdout.contains("claims.expiry              pass"), "{stdout}");

    // Claims living longer than the checker waits leave the expiry rule not run, not passed.
    args.extend(["--max-expiry-wait", "1", "--json"]);
    let (code, stdout, stderr) = run(&std::env::temp_dir(), &args);
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("JSON rows");
    let expiry = rows.as_array().unwrap().iter().find(|r| r["rule"] == "claims.expiry").unwrap();
    assert_eq!(expiry["result"], "skip", "{expiry}");

    let one = ["check-backend", "--backend", &cloud.url, "--issuer", &cloud.url, "--client-id", "unbox-app"];
    let (code, _, stderr) =
        run(&std::env::temp_dir(), &[&one[..], &["--device", &cloud.devices[0]]].concat());
    assert_eq!(code, 2, "one --device is not enough: {stderr}");
    assert!(stderr.contains("exactly two --device"), "{stderr}");
}

#[test]
fn devices_are_listed_transferred_and_unbound() {
    let (sim, line) = start_sim(&["all", "--json", "--devices", "1"]);
    let summary: serde_json::Value = serde_json::from_str(&line).expect("JSON summary");
    let issuer = summary["issuer"].as_str().unwrap().to_owned();
    let device = &summary["devices"][0];
    let target = format!("{}={}", device["name"].as_str().unwrap(), device["address"].as_str().unwrap());
    let state = std::env::temp_dir().join(format!("unbox-lifecycle-test-{}", std::process::id()));
    let bob_state = state.join("bob");
    let bob = |stdin: &str, args: &[&str]| run_unbox_as(&bob_state, Some("bob@example.com"), stdin, args);

    let (code, _, stderr) = run(&state, &["devices"]);
    assert_eq!(code, 4, "not signed in: {stderr}");
    let login = ["sign-in", "--issuer", &issuer, "--client-id", "unbox-app"];
    let (code, _, stderr) = run(&state, &login);
    assert_eq!(code, 0, "{stderr}");
    let provision = [
        "provision",
        "--transport",
        "softap",
        "--device",
        &target,
        "--code",
        "abcd1234",
        "--ssid",
        "HomeNet",
        "--passphrase",
        "correct horse battery",
    ];
    let (code, _, stderr) = run(&state, &provision);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&state, &["devices", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["device_id"], "dev-1A2B3C", "{stdout}");
    assert_eq!(listed[0]["bound_by_client"], "unbox-app");
    let binding = listed[0]["binding_id"].as_str().unwrap().to_owned();
    let (code, stdout, _) = run(&state, &["devices"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("dev-1A2B3C") && stdout.contains("active"), "{stdout}");

    // Alice offers the device; Bob, signed in as himself, accepts with the code on stdin.
    let (code, stdout, stderr) = run(&state, &["transfer", "offer", &binding]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("offered dev-1A2B3C"), "{stdout}");
    let code_line = stdout.lines().last().unwrap().to_owned();
    let (code, _, stderr) = bob("", &login);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = bob(&format!("{code_line}\n"), &["transfer", "accept"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("dev-1A2B3C is now on this account"), "{stdout}");
    let (_, stdout, _) = run(&state, &["devices"]);
    assert_eq!(stdout.trim(), "no devices", "the giver's device left");
    let (_, stdout, _) = run(&state, &["devices", "--all"]);
    assert!(stdout.contains("(transferred)"), "{stdout}");
    let (code, stdout, stderr) = bob("", &["devices", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["device_id"], "dev-1A2B3C", "{stdout}");
    let bobs = listed[0]["binding_id"].as_str().unwrap().to_owned();
    assert_ne!(bobs, binding);
    // The code was single use; a malformed code never reaches the backend.
    let (code, _, stderr) = bob("", &["transfer", "accept", &code_line]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ask the device's owner for a new one"), "{stderr}");
    let (code, _, stderr) = bob("", &["transfer", "accept", "short"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid transfer code"), "{stderr}");
    let (code, _, stderr) = run(&state, &["transfer", "offer", &binding]);
    assert_eq!(code, 2, "the giver's binding ended: {stderr}");

    let (code, stdout, stderr) = bob("", &["unbind", &bobs]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("unbound"), "{stdout}");
    let (_, stdout, _) = bob("", &["devices"]);
    assert_eq!(stdout.trim(), "no devices");
    let (_, stdout, _) = bob("", &["devices", "--all"]);
    assert!(stdout.contains("(unbound)"), "{stdout}");
    let (code, _, stderr) = bob("", &["unbind", "bnd_unknown"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not know this device binding"), "{stderr}");
    let (code, _, stderr) = bob("", &["unbind", "../etc"]);
    assert_eq!(code, 2, "{stderr}");
    let _ = std::fs::remove_dir_all(&state);
    drop(sim);
}
