//! `unbox qr ...`: read any onboarding code, or show one for a camera-type device.

use clap::{Args, Subcommand, ValueEnum};
use unbox_core::qr::{QrImage, TerminalBackground, UnboxPayload, WifiNetworkCode, WifiSecurity};
use unbox_core::secret::SecretString;

use crate::exit::{Code, Failure};

/// QR commands.
#[derive(Subcommand)]
pub enum QrCommand {
    /// Decode a scanned code: Espressif JSON, Wi-Fi, Matter (MT: or manual digits), DPP or Unbox.
    #[command(after_help = crate::example(
        r#"unbox qr parse '{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}'"#
    ))]
    Parse(ParseArgs),
    /// Show a code in the terminal (or as SVG) for a device that scans the phone's screen.
    #[command(after_help = crate::example("unbox qr show wifi --ssid HomeNet --passphrase 'correct horse battery'"))]
    Show(ShowArgs),
}

/// Arguments of `qr parse`.
#[derive(Args)]
pub struct ParseArgs {
    /// The text the camera read.
    text: String,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
    /// Show passphrases, PoPs, tokens and passcodes instead of `[redacted]`.
    #[arg(long)]
    reveal_secrets: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShowKind {
    /// A standard Wi-Fi network code (phones join by scanning it).
    Wifi,
    /// Unbox's code: Wi-Fi credentials plus a claim token, for camera devices.
    Unbox,
}

/// Arguments of `qr show`.
#[derive(Args)]
pub struct ShowArgs {
    /// What to encode.
    #[arg(value_enum)]
    kind: ShowKind,
    /// Network name.
    #[arg(long)]
    ssid: String,
    /// Passphrase (omit for an open network).
    #[arg(long, env = "UNBOX_WIFI_PASSPHRASE", hide_env_values = true, allow_hyphen_values = true)]
    passphrase: Option<String>,
    /// Claim token (for `unbox`).
    #[arg(long, env = "UNBOX_CLAIM_TOKEN", hide_env_values = true, allow_hyphen_values = true)]
    claim_token: Option<String>,
    /// Backend URL the device redeems at (for `unbox`).
    #[arg(long)]
    backend_url: Option<url::Url>,
    /// Print SVG instead of terminal blocks.
    #[arg(long)]
    svg: bool,
    /// The terminal has a light background.
    #[arg(long)]
    light: bool,
}

fn usage(error: impl std::fmt::Display) -> Failure {
    Failure::new(Code::Usage, error.to_string())
}

/// Runs a QR command.
pub fn run(command: QrCommand, json: bool) -> Result<(), Failure> {
    match command {
        QrCommand::Parse(args) => {
            let payload = unbox_core::qr::parse(&args.text).map_err(usage)?;
            let summary = payload.summary(args.reveal_secrets);
            if json || args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary)
                        .map_err(|e| Failure::new(Code::Internal, e.to_string()))?
                );
            } else {
                println!("{} code", summary.kind);
                for (label, value) in &summary.fields {
                    println!("  {label:<20} {value}");
                }
                if let Some(note) = &summary.note {
                    println!("{note}");
                }
            }
            Ok(())
        }
        QrCommand::Show(args) => {
            let passphrase = SecretString::new(args.passphrase.clone().unwrap_or_default());
            let text = match args.kind {
                ShowKind::Wifi => {
                    let (security, password) = if passphrase.is_empty() {
                        (WifiSecurity::Open, None)
                    } else {
                        (WifiSecurity::WpaPersonal, Some(passphrase))
                    };
                    WifiNetworkCode::new(args.ssid.clone(), security, password).to_qr_text().map_err(usage)?
                }
                ShowKind::Unbox => {
                    let claim_token = args
                        .claim_token
                        .clone()
                        .ok_or_else(|| usage("`qr show unbox` needs --claim-token (or UNBOX_CLAIM_TOKEN)"))?;
                    UnboxPayload {
                        ssid: args.ssid.clone(),
                        passphrase,
                        claim_token: SecretString::new(claim_token),
                        backend_url: args.backend_url.clone(),
                    }
                    .to_qr_text()
                    .map_err(usage)?
                }
            };
            let image = QrImage::encode(text.expose()).map_err(usage)?;
            if args.svg {
                println!("{}", image.svg());
            } else {
                let background =
                    if args.light { TerminalBackground::Light } else { TerminalBackground::Dark };
                println!("{}", image.terminal(background));
            }
            Ok(())
        }
    }
}
