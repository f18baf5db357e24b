//! `unbox factory` run as a process, its files read back the way their consumers read them:
//! the QR payloads by `qr::parse` and an independent QR reader, the NVS CSVs as the firmware
//! would (a security 2 login against the simulator's device with the salt and verifier read
//! from them), and the backend import file by `unbox sim cloud --import-devices` and by the
//! simulated backend, which then accepts the devices' redemptions.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use assert_cmd::cargo::CommandCargoExt;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use unbox_core::binding::{
    BindingClient, BindingError, ClaimRedeemer, ClaimStatus, DeviceCredential, DeviceId, IdempotencyKey,
    StaticAccessToken,
};
use unbox_core::qr::OnboardingPayload;
use unbox_core::secret::{SecretBytes, SecretString};
use unbox_core::security::{
    ClientHandshake, DeviceSecurity, HandshakeStep, Sec1Client, Sec1Device, Sec2Client, Sec2Device,
    Sec2PatchVersion, Sec2Verifier, SecurityLevel,
};
use unbox_core::transport::TransportKind;
use unbox_sim::backend::{BackendConfig, BindingBackend, StaticTokenValidator};
use url::Url;

fn unbox() -> Command {
    Command::cargo_bin("unbox").expect("the unbox binary is built")
}

/// A batch folder under the system's temporary folder, removed on drop.
struct Batch {
    dir: PathBuf,
    stdout: String,
}

impl Batch {
    fn generate(args: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "unbox-factory-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        let output =
            unbox().arg("factory").arg("--out").arg(&dir).args(args).output().expect("run unbox factory");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "unbox factory failed: {stderr}");
        Self { dir, stdout: String::from_utf8_lossy(&output.stdout).into_owned() }
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.dir.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The factory line's rows, by column name.
    fn rows(&self) -> Vec<HashMap<String, String>> {
        let text = self.read("devices.csv");
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_owned).collect();
        lines.map(|line| header.iter().cloned().zip(split_csv(line)).collect()).collect()
    }

    /// A device's NVS CSV: key → (encoding, value), after the header and namespace row.
    fn nvs(&self, relative: &str) -> HashMap<String, (String, String)> {
        let text = self.read(relative);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("key,type,encoding,value"));
        assert_eq!(lines.next(), Some("unbox,namespace,,"));
        lines
            .map(|line| {
                let fields = split_csv(line);
                assert_eq!(fields[1], "data", "{line}");
                (fields[0].clone(), (fields[2].clone(), fields[3].clone()))
            })
            .collect()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Splits one CSV row (RFC 4180 quoting).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn handshake(client: &mut dyn ClientHandshake, device: &mut dyn DeviceSecurity) -> bool {
    let Ok(mut request) = client.start() else { return false };
    loop {
        let Ok(reply) = device.on_session_request(&request) else { return false };
        match client.on_reply(&reply) {
            Ok(HandshakeStep::Send(next)) => request = next,
            Ok(HandshakeStep::Established(_)) => return true,
            Err(_) => return false,
        }
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_batch_is_written_to_private_files_and_keeps_secrets_off_the_terminal() {
    let batch = Batch::generate(&["--count", "3", "--id-prefix", "acme-lamp-"]);
    let rows = batch.rows();
    assert_eq!(rows.len(), 3);
    let mut files = vec!["devices.csv".to_owned(), "backend-import.json".to_owned()];
    for row in &rows {
        assert!(batch.stdout.contains(&row["device_id"]), "{}", batch.stdout);
        assert!(!batch.stdout.contains(&row["setup_code"]), "{}", batch.stdout);
        let nvs = batch.nvs(&row["nvs_csv"]);
        assert!(!batch.stdout.contains(&nvs["device_secret"].1));
        files.extend([row["nvs_csv"].clone(), row["label_svg"].clone(), row["label_png"].clone()]);
    }
    #[cfg(unix)]
    for file in &files {
        assert_eq!(mode(&batch.dir.join(file)), 0o600, "{file}");
    }
    // A second run never overwrites the batch.
    let again = unbox().args(["factory", "--out"]).arg(&batch.dir).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a batch"));
    assert_eq!(batch.rows(), rows);

    let shown = Batch::generate(&["--count", "2", "--print-secrets"]);
    for row in shown.rows() {
        assert!(shown.stdout.contains(&format!("code {}", row["setup_code"])), "{}", shown.stdout);
    }
}

#[test]
fn every_label_carries_a_payload_qr_parse_accepts_with_the_same_values() {
    for (security, transport) in [("2", "ble"), ("1", "softap")] {
        let batch = Batch::generate(&["--count", "3", "--security", security, "--transport", transport]);
        for row in batch.rows() {
            let OnboardingPayload::Espressif(code) = unbox_core::qr::parse(&row["qr_payload"]).unwrap()
            else {
                panic!("not an Espressif code: {}", row["qr_payload"]);
            };
            assert_eq!(code.name, row["service_name"]);
            assert_eq!(code.pop.expose(), row["setup_code"]);
            let level = if security == "2" { SecurityLevel::Sec2 } else { SecurityLevel::Sec1 };
            assert_eq!(code.security_level(), level);
            let expected = if transport == "ble" { TransportKind::Ble } else { TransportKind::SoftAp };
            assert_eq!(code.transport, Some(expected));
            assert_eq!(code.username.as_deref().unwrap_or(""), row["username"]);

            // The PNG scans back to the payload with an independent reader.
            let png = std::fs::read(batch.dir.join(&row["label_png"])).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
            let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut pixels).unwrap();
            let width = info.width as usize;
            let mut image =
                rqrr::PreparedImage::prepare_from_greyscale(width, info.height as usize, |x, y| {
                    pixels[y * width + x]
                });
            let grids = image.detect_grids();
            assert_eq!(grids.len(), 1);
            assert_eq!(grids[0].decode().unwrap().1, row["qr_payload"]);

            let svg = batch.read(&row["label_svg"]);
            assert!(svg.contains(&format!(">{}</text>", row["service_name"])));
            assert!(svg.contains(&format!(">CODE: {}</text>", row["setup_code"])));
        }
    }
}

#[test]
fn a_client_logs_in_with_the_label_code_to_a_device_holding_the_nvs_values() {
    let batch = Batch::generate(&["--count", "4"]);
    for row in batch.rows() {
        let nvs = batch.nvs(&row["nvs_csv"]);
        assert_eq!(nvs["sec_ver"], ("u8".into(), "2".into()));
        assert_eq!(nvs["device_id"].1, row["device_id"]);
        assert_eq!(nvs["svc_name"].1, row["service_name"]);
        assert_eq!(nvs["sec2_salt"].0, "hex2bin");
        let salt = hex::decode(&nvs["sec2_salt"].1).unwrap();
        assert_eq!(salt.len(), 16);
        let verifier = hex::decode(&nvs["sec2_verifier"].1).unwrap();
        let verifier = Sec2Verifier::new(salt, verifier);
        let code = SecretString::new(row["setup_code"].clone());
        let mut client = Sec2Client::new(nvs["sec2_username"].1.clone(), code, 1);
        let mut device = Sec2Device::new(verifier.clone(), Sec2PatchVersion::NonceCounter);
        assert!(handshake(&mut client, &mut device), "{}", row["device_id"]);
        let mut wrong = Sec2Client::new("wifiprov".into(), SecretString::new("WRONGCODE0"), 1);
        let mut device = Sec2Device::new(verifier, Sec2PatchVersion::NonceCounter);
        assert!(!handshake(&mut wrong, &mut device));
    }
    let sec1 = Batch::generate(&["--security", "1"]);
    let row = &sec1.rows()[0];
    let nvs = sec1.nvs(&row["nvs_csv"]);
    assert_eq!(nvs["sec1_pop"], ("string".into(), row["setup_code"].clone()));
    let mut client = Sec1Client::new(SecretString::new(row["setup_code"].clone()));
    let mut device = Sec1Device::new(SecretString::new(nvs["sec1_pop"].1.clone()));
    assert!(handshake(&mut client, &mut device));
}

/// The credential a device gets from its NVS CSV.
fn nvs_credential(batch: &Batch, row: &HashMap<String, String>) -> DeviceCredential {
    let nvs = batch.nvs(&row["nvs_csv"]);
    assert_eq!(nvs["device_secret"].0, "base64");
    let secret = STANDARD.decode(&nvs["device_secret"].1).unwrap();
    DeviceCredential::new(DeviceId::new(nvs["device_id"].1.clone()).unwrap(), SecretBytes::new(secret))
        .unwrap()
}

#[tokio::test]
async fn the_backend_imports_the_batch_and_its_devices_redeem_and_bind() {
    let batch = Batch::generate(&["--count", "3"]);
    let validator = Arc::new(StaticTokenValidator::new());
    validator.allow("alice-token", "alice");
    let backend = BindingBackend::new(validator, BackendConfig::default());
    assert_eq!(backend.import_devices(&batch.read("backend-import.json")).unwrap(), 3);
    let server = backend.serve().await.unwrap();
    let url = Url::parse(&server.base_url()).unwrap();
    let app =
        BindingClient::new(&url, Arc::new(StaticAccessToken::new(SecretString::new("alice-token")))).unwrap();
    for row in batch.rows() {
        let claim = app.create_claim(&IdempotencyKey::generate()).await.unwrap();
        let device = ClaimRedeemer::new(nvs_credential(&batch, &row)).unwrap();
        assert_eq!(device.redeem(&url, &claim.token).await.unwrap(), ClaimStatus::Redeemed);
        let device_id = DeviceId::new(row["device_id"].clone()).unwrap();
        let binding = app.confirm(&claim.id, &device_id, &IdempotencyKey::generate()).await.unwrap();
        assert_eq!(binding.device_id, device_id);
    }
    // A device of another batch is unknown to this backend.
    let other = Batch::generate(&[]);
    let claim = app.create_claim(&IdempotencyKey::generate()).await.unwrap();
    let stranger = ClaimRedeemer::new(nvs_credential(&other, &other.rows()[0])).unwrap();
    assert!(matches!(stranger.redeem(&url, &claim.token).await, Err(BindingError::DeviceUnauthorized)));
}

/// `unbox sim cloud`, killed on drop.
struct Cloud(Child);

impl Drop for Cloud {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sim_cloud_loads_the_import_file_and_knows_the_devices() {
    let batch = Batch::generate(&["--count", "2"]);
    let mut child = unbox()
        .args(["sim", "cloud", "--listen", "127.0.0.1:0", "--import-devices"])
        .arg(batch.dir.join("backend-import.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let _cloud = Cloud(child);
    let mut imported = String::new();
    stdout.read_line(&mut imported).unwrap();
    assert!(imported.starts_with("imported 2 device(s) from "), "{imported}");
    let mut listening = String::new();
    stdout.read_line(&mut listening).unwrap();
    let address = listening.trim().rsplit(' ').next().unwrap();
    let url = Url::parse(&format!("http://{address}")).unwrap();

    // The backend checks the signature before it looks up the token: a device it imported
    // gets "no such claim" for a made-up token, a forged credential "device unauthorized".
    let token = SecretString::new("bm8tc3VjaC1jbGFpbS10b2tlbg");
    for row in batch.rows() {
        let device = ClaimRedeemer::new(nvs_credential(&batch, &row)).unwrap();
        assert!(matches!(device.redeem(&url, &token).await, Err(BindingError::ClaimNotFound)), "{row:?}");
        let forged = DeviceCredential::new(
            DeviceId::new(row["device_id"].clone()).unwrap(),
            SecretBytes::new(vec![1; 32]),
        )
        .unwrap();
        let forger = ClaimRedeemer::new(forged).unwrap();
        assert!(matches!(forger.redeem(&url, &token).await, Err(BindingError::DeviceUnauthorized)));
    }

    let broken = batch.dir.join("broken.json");
    std::fs::write(&broken, "{\"format\":\"other\"}").unwrap();
    let output = unbox().args(["sim", "cloud", "--import-devices"]).arg(&broken).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("device import file"), "{output:?}");
}

#[test]
fn bad_batch_settings_are_usage_errors() {
    for args in [
        vec!["--security", "0"],
        vec!["--name-prefix", "prov_"],
        vec!["--code-length", "4"],
        vec!["--count", "0"],
        vec!["--id-prefix", "has space"],
    ] {
        let dir = std::env::temp_dir().join(format!("unbox-factory-bad-{}", std::process::id()));
        let output = unbox().arg("factory").arg("--out").arg(&dir).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!dir.exists(), "{args:?} created files");
    }
}
