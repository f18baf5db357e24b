//! `unbox`: onboard devices from a desktop, run the simulator, try the whole flow in a demo.

mod demo;
mod exit;
mod sim;

use clap::{Parser, Subcommand};

/// Take headless devices from "just unboxed" to "online and bound to their owner".
#[derive(Parser)]
#[command(name = "unbox", version, about, long_about = None)]
struct Cli {
    /// Log more (-v: debug, -vv: trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole flow against a simulated device on this machine.
    Demo,
    /// Run simulated devices and cloud services for apps and tests.
    #[command(subcommand)]
    Sim(sim::SimCommand),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::Code::Internal.into();
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo => demo::run().await,
            Command::Sim(command) => sim::run(command).await,
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
