//! `unbox factory`: generates a batch of devices' factory data (see `docs/factory.md`): the
//! factory line's CSV, one NVS partition generator CSV per device, the backend's import file
//! and a QR label per device (SVG and PNG). Secrets go to private files, never to the terminal
//! unless `--print-secrets` asks.

mod font;
mod label;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use unbox_core::factory::{
    BatchSpec, DeviceRecord, FactorySecurity, backend_import, generate_batch, layout, line_csv,
};
use unbox_core::transport::TransportKind;

use crate::args::{SecurityArg, TransportArg};
use crate::exit::{Code, Failure};
use label::Label;

/// Most devices in one batch.
const MAX_COUNT: usize = 100_000;

/// Arguments of `factory`.
#[derive(Args)]
pub struct FactoryArgs {
    /// How many devices to generate.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Folder to write the batch into (created if missing; an earlier batch there is never
    /// overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Start of every device id (the backend's name for the device); 16 random hex digits
    /// follow.
    #[arg(long, default_value = "dev-")]
    id_prefix: String,
    /// Start of every service name (BLE name / SoftAP SSID); the id's last 6 hex digits follow.
    /// Capitals, digits, `_` and `-` only: it is printed on the label.
    #[arg(long, default_value = "PROV_")]
    name_prefix: String,
    /// Security scheme: 2 (SRP-6a; the device holds a salt and verifier, the label the
    /// password) or 1 (the label's code is the proof of possession). 0 has no code and is
    /// refused.
    #[arg(long, value_enum, default_value = "2")]
    security: SecurityArg,
    /// Security 2 username.
    #[arg(long, default_value = "wifiprov")]
    username: String,
    /// How phones reach the devices in setup mode (stated in the QR code).
    #[arg(long, value_enum, default_value = "ble")]
    transport: TransportArg,
    /// Symbols per setup code (5 random bits each, Crockford base 32).
    #[arg(long, default_value_t = 10)]
    code_length: usize,
    /// Also print each device's setup code on the terminal (they are always in the files).
    #[arg(long)]
    print_secrets: bool,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(Code::Usage, message)
}

impl FactoryArgs {
    fn spec(&self) -> Result<BatchSpec, Failure> {
        let security = match self.security {
            SecurityArg::Sec0 => {
                return Err(usage(
                    "security 0 has no setup code to print and no encryption; use --security 2 (or 1)",
                ));
            }
            SecurityArg::Sec1 => FactorySecurity::Sec1,
            SecurityArg::Sec2 => FactorySecurity::Sec2 { username: self.username.clone() },
        };
        let transport = match self.transport {
            TransportArg::Ble => TransportKind::Ble,
            TransportArg::Softap => TransportKind::SoftAp,
        };
        let spec = BatchSpec {
            id_prefix: self.id_prefix.clone(),
            name_prefix: self.name_prefix.clone(),
            security,
            transport,
            code_length: self.code_length,
        };
        spec.check().map_err(|error| usage(error.to_string()))?;
        Ok(spec)
    }
}

/// Writes `contents` to a new file only its owner can read (mode 0600 on Unix); an existing
/// file is never replaced.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), Failure> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| {
        let code =
            if error.kind() == std::io::ErrorKind::AlreadyExists { Code::Usage } else { Code::Internal };
        Failure::new(code, format!("cannot create {}: {error}", path.display()))
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|error| Failure::new(Code::Internal, format!("cannot write {}: {error}", path.display())))
}

/// Creates `path` (and its parents) as a folder only its owner can enter.
fn create_private_dir(path: &Path) -> Result<(), Failure> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|error| Failure::new(Code::Internal, format!("cannot create {}: {error}", path.display())))
}

/// The label of `record`: its setup code's QR code, the service name and the code under it.
fn label(record: &DeviceRecord) -> Result<Label, Failure> {
    let payload =
        record.setup_code().to_qr_text().map_err(|error| Failure::new(Code::Internal, error.to_string()))?;
    let lines = vec![record.service_name().to_owned(), format!("CODE: {}", record.setup_secret().expose())];
    Label::new(payload.expose(), lines).map_err(|error| Failure::new(Code::Internal, error))
}

/// Writes every file of the batch under `out`.
fn write_batch(out: &Path, records: &[DeviceRecord]) -> Result<(), Failure> {
    for shared in [layout::LINE_CSV, layout::BACKEND_IMPORT] {
        if out.join(shared).exists() {
            return Err(usage(format!(
                "{} already holds a batch ({shared}); choose another --out folder",
                out.display()
            )));
        }
    }
    create_private_dir(&out.join(layout::NVS_DIR))?;
    create_private_dir(&out.join(layout::LABEL_DIR))?;
    for record in records {
        let id = record.device_id().as_str();
        write_private(&out.join(layout::nvs_csv(id)), record.nvs_csv().expose().as_bytes())?;
        let label = label(record)?;
        write_private(&out.join(layout::label(id, "svg")), label.svg().as_bytes())?;
        let png = label.png().map_err(|error| Failure::new(Code::Internal, format!("PNG: {error}")))?;
        write_private(&out.join(layout::label(id, "png")), &png)?;
    }
    write_private(&out.join(layout::BACKEND_IMPORT), backend_import(records).expose().as_bytes())?;
    let line = line_csv(records).map_err(|error| Failure::new(Code::Internal, error.to_string()))?;
    write_private(&out.join(layout::LINE_CSV), line.expose().as_bytes())
}

/// Runs `unbox factory`.
pub fn run(args: FactoryArgs, json: bool) -> Result<(), Failure> {
    if !(1..=MAX_COUNT).contains(&args.count) {
        return Err(usage(format!("--count must be 1 to {MAX_COUNT}")));
    }
    let spec = args.spec()?;
    let records = generate_batch(&spec, args.count).map_err(|error| usage(error.to_string()))?;
    write_batch(&args.out, &records)?;
    let out = args.out.display();
    if json {
        let devices: Vec<serde_json::Value> = records
            .iter()
            .map(|record| {
                let mut device = serde_json::json!({
                    "device_id": record.device_id().as_str(),
                    "service_name": record.service_name(),
                    "nvs_csv": layout::nvs_csv(record.device_id().as_str()),
                    "label_svg": layout::label(record.device_id().as_str(), "svg"),
                    "label_png": layout::label(record.device_id().as_str(), "png"),
                });
                if args.print_secrets {
                    device["setup_code"] = record.setup_secret().expose().into();
                }
                device
            })
            .collect();
        let summary = serde_json::json!({
            "out": out.to_string(),
            "line_csv": layout::LINE_CSV,
            "backend_import": layout::BACKEND_IMPORT,
            "devices": devices,
        });
        println!("{summary}");
        return Ok(());
    }
    let security = match spec.security {
        FactorySecurity::Sec1 => "security 1",
        FactorySecurity::Sec2 { .. } => "security 2",
    };
    println!("wrote {} device(s), {security}, to {out}/ (files mode 0600)", records.len());
    println!("  {:<22} the factory line: ids, service names, setup codes, QR payloads", layout::LINE_CSV);
    println!(
        "  {:<22} flash data, one per device: nvs_partition_gen.py generate <csv> <bin> 0x6000",
        "nvs/<id>.csv"
    );
    println!(
        "  {:<22} device credentials for the backend (unbox sim cloud --import-devices)",
        layout::BACKEND_IMPORT
    );
    println!("  {:<22} QR labels with the service name and setup code under them", "labels/<id>.svg|png");
    for record in &records {
        if args.print_secrets {
            println!(
                "  {}  {}  code {}",
                record.device_id(),
                record.service_name(),
                record.setup_secret().expose()
            );
        } else {
            println!("  {}  {}", record.device_id(), record.service_name());
        }
    }
    Ok(())
}
