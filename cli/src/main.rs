//! `unbox`: onboard devices from a desktop, run the simulator, try the whole flow in a demo.

mod account;
mod args;
mod batch;
mod chooser;
mod conformance;
mod demo;
mod desktop_wifi;
mod devices;
mod exit;
mod factory;
mod improv;
mod logging;
mod mdns;
mod progress;
mod provision;
mod qr;
mod scan;
mod sim;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// Take headless devices from "just unboxed" to "online and bound to their owner": find them,
/// sign in, send them Wi-Fi credentials and a claim over an encrypted session, and confirm the
/// binding with the backend.
#[derive(Parser)]
#[command(name = "unbox", version, about, after_help = format!("{}\n\n{}", example("unbox demo --devices 2"), exit::EXIT_CODES_HELP))]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Log more (-v: debug, -vv: trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(flatten)]
    store: account::StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole flow against simulated devices and cloud in this process (no hardware).
    #[command(after_help = example("unbox demo --transport softap --devices 3"))]
    Demo(demo::DemoArgs),
    /// List devices in setup mode nearby (Bluetooth, and Wi-Fi where the OS allows).
    #[command(after_help = example("unbox scan --seconds 10 --prefix PROV_"))]
    Scan(scan::ScanArgs),
    /// Sign in with the identity provider in the system browser. Also answers to `login`,
    /// the name earlier README versions used.
    #[command(
        alias = "login",
        after_help = example("unbox sign-in --issuer https://id.example.com --client-id my-app")
    )]
    SignIn(account::SignInArgs),
    /// Sign out and forget the stored tokens. Also answers to `logout`.
    #[command(alias = "logout", after_help = example("unbox sign-out"))]
    SignOut,
    /// Onboard one or more devices: claim, Wi-Fi credentials, binding.
    #[command(after_help = format!("{}\n  unbox provision --protocol improv-serial --port /dev/ttyUSB0 --ssid HomeNet\n  unbox provision --protocol portal --device ESP32_C0FFEE --wifi-only --ssid HomeNet --announce esp32-c0ffee._http._tcp", example(
        "unbox provision --transport ble --device PROV_1A2B3C --code abcd1234 --ssid HomeNet"
    )))]
    Provision(Box<provision::ProvisionArgs>),
    /// List the signed-in account's devices as the backend knows them.
    #[command(after_help = example("unbox devices --all"))]
    Devices(devices::DevicesArgs),
    /// Remove a device from the account (it learns so at its next check).
    #[command(after_help = example("unbox unbind bnd_3kTf9QmZ0aXc"))]
    Unbind(devices::UnbindArgs),
    /// Hand a device to another account without a factory reset: an offer and its acceptance.
    #[command(subcommand, after_help = example("unbox transfer offer bnd_3kTf9QmZ0aXc"))]
    Transfer(devices::TransferCommand),
    /// Finish onboardings interrupted after the device received its claim.
    #[command(after_help = example("unbox resume"))]
    Resume,
    /// Read or show onboarding QR codes.
    #[command(subcommand, after_help = example("unbox qr parse 'WIFI:T:WPA;S:HomeNet;P:secret123;;'"))]
    Qr(qr::QrCommand),
    /// Generate a batch's factory data: NVS flash CSVs, QR labels, the backend's import file.
    #[command(after_help = example("unbox factory --count 100 --out batch-0001 --id-prefix acme-lamp- --security 2"))]
    Factory(factory::FactoryArgs),
    /// Check a binding backend against every rule of the contract (docs/binding-api.yaml).
    #[command(after_help = example(
        "unbox check-backend --backend https://api.example.com --issuer https://id.example.com --client-id my-app --device dev-1=00112233445566778899aabbccddeeff --device dev-2=ffeeddccbbaa99887766554433221100"
    ))]
    CheckBackend(Box<conformance::CheckArgs>),
    /// Run simulated devices and cloud services for apps and tests.
    #[command(subcommand, after_help = example("unbox sim all --devices 2"))]
    Sim(sim::SimCommand),
}

/// The `--help` epilogue of a command: one example of its use.
pub fn example(command_line: &str) -> String {
    format!("Example:\n  {command_line}")
}

async fn resume(
    store: account::StoreArgs,
    json: bool,
    cancel: &CancellationToken,
) -> Result<(), exit::Failure> {
    let store = store.open().await;
    let account = account::Account::load(store.as_ref()).await?;
    let session = account.session(store.clone()).await?;
    let backend = url::Url::parse(&account.backend)
        .map_err(|e| exit::Failure::new(exit::Code::Usage, e.to_string()))?;
    let binding = unbox_core::binding::BindingClient::new(&backend, session.clone())
        .map_err(|e| exit::Failure::new(exit::Code::Internal, e.to_string()))?;
    let onboarding = unbox_core::flow::Onboarding::new(
        session,
        binding,
        None,
        None,
        store,
        unbox_core::flow::OnboardingSettings::default(),
    );
    let bars = indicatif::MultiProgress::new();
    let observer = progress::BarObserver::new(&bars, "pending", &onboarding.settings().timeouts, json);
    observer.begin();
    let outcome = onboarding.resume(&observer, cancel).await;
    observer.finish(match &outcome {
        Ok(done) => format!("{} resumed", done.len()),
        Err(error) => format!("failed: {error}"),
    });
    let done = outcome?;
    for binding in done.iter().filter_map(|onboarded| onboarded.binding.as_ref()) {
        println!("bound {} ({})", binding.device_id, binding.binding_id);
    }
    if done.is_empty() {
        println!("nothing to resume");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, matches!(cli.command, Command::Sim(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::Code::Internal.into();
        }
    };
    let cancel = CancellationToken::new();
    let result = runtime.block_on(async {
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.cancel();
            }
        });
        match cli.command {
            Command::Demo(args) => demo::run(args, cli.json, cli.verbose > 0, &cancel).await,
            Command::Scan(args) => scan::run(args, cli.json).await,
            Command::SignIn(args) => account::sign_in(args, cli.store.open().await, cli.json).await,
            Command::SignOut => account::sign_out(cli.store.open().await, cli.json).await,
            Command::Provision(args) => {
                provision::run(*args, cli.store.open().await, cli.json, cli.verbose > 0, &cancel).await
            }
            Command::Resume => resume(cli.store, cli.json, &cancel).await,
            Command::Devices(args) => devices::list(args, cli.store.open().await, cli.json).await,
            Command::Unbind(args) => devices::unbind(args, cli.store.open().await, cli.json).await,
            Command::Transfer(command) => devices::transfer(command, cli.store.open().await, cli.json).await,
            Command::Qr(command) => qr::run(command, cli.json),
            Command::Factory(args) => factory::run(args, cli.json),
            Command::Sim(command) => sim::run(command, cli.json).await,
            Command::CheckBackend(args) => conformance::run(*args, cli.json).await,
        }
    });
    match result {
        Ok(()) => exit::Code::Ok.into(),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted_code(args: &[&str]) -> (Option<String>, bool) {
        let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        match cli.command {
            Command::Transfer(devices::TransferCommand::Accept(accept)) => (accept.code, cli.json),
            _ => panic!("{args:?} is not `transfer accept`"),
        }
    }

    #[test]
    fn a_transfer_code_that_begins_with_a_hyphen_is_the_code_not_an_option() {
        // base64url has `-` in its alphabet, so one code in 64 begins with it.
        let code = "-F3kTf9QmZ0aXc_1b2c3d4e";
        assert_eq!(accepted_code(&["unbox", "transfer", "accept", code]), (Some(code.into()), false));
        assert_eq!(
            accepted_code(&["unbox", "--json", "transfer", "accept", code]),
            (Some(code.into()), true)
        );
        assert_eq!(
            accepted_code(&["unbox", "transfer", "accept", code, "--json"]),
            (Some(code.into()), true)
        );
        assert_eq!(accepted_code(&["unbox", "transfer", "accept", "--json"]), (None, true));
    }

    #[test]
    fn a_secret_option_takes_a_value_that_begins_with_a_hyphen() {
        let args = ["unbox", "provision", "--ssid", "HomeNet", "--passphrase", "-dash first", "--json"];
        let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{e}"));
        let Command::Provision(provision) = cli.command else { panic!("not `provision`") };
        assert_eq!(provision.passphrase.as_deref(), Some("-dash first"));
        assert!(cli.json);
    }
}
