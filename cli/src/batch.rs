//! Onboards several devices concurrently with bounded parallelism, one claim each, and prints a
//! summary table (or JSON).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use indicatif::MultiProgress;
use tokio_util::sync::CancellationToken;
use unbox_core::flow::{
    FlowError, FlowObserver, Onboarded, Onboarding, OnboardingRequest, Timeline, WifiPasswordPrompt,
};
use unbox_core::secret::SecretString;

use crate::exit::{Code, Failure};
use crate::progress::BarObserver;

/// The outcome of one device.
pub struct DeviceOutcome {
    /// Its service name.
    pub device: String,
    /// Bound, or why not.
    pub result: Result<Onboarded, FlowError>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Prints each device's timeline on stderr.
fn print_timelines(outcomes: &[(DeviceOutcome, Option<String>)]) {
    for (outcome, timeline) in outcomes {
        if let Some(timeline) = timeline {
            eprintln!("timeline of {} (offsets from its start):\n{timeline}", outcome.device);
        }
    }
}

/// Asks for the Wi-Fi password again on the terminal, without echo.
struct TerminalPrompt;

#[async_trait]
impl WifiPasswordPrompt for TerminalPrompt {
    async fn ask_again(&self, ssid: String, attempt: u32) -> Option<SecretString> {
        let question =
            format!("The device could not join {ssid} with that password (attempt {attempt}). Password: ");
        tokio::task::spawn_blocking(move || rpassword::prompt_password(question).ok())
            .await
            .ok()
            .flatten()
            .filter(|answer| !answer.is_empty())
            .map(SecretString::new)
    }
}

/// Runs every request, at most `parallel` at a time. Asks for a new Wi-Fi password only for a
/// single device on an interactive terminal. With `timeline`, prints each device's timeline
/// (every step, exchange, wait and backend call) on stderr at the end.
pub async fn run(
    onboarding: &Onboarding,
    requests: Vec<OnboardingRequest>,
    parallel: usize,
    quiet: bool,
    timeline: bool,
    cancel: &CancellationToken,
) -> Vec<DeviceOutcome> {
    let bars = MultiProgress::new();
    let interactive = requests.len() == 1 && std::io::stdin().is_terminal() && !quiet;
    let prompt = TerminalPrompt;
    let timeouts = &onboarding.settings().timeouts;
    let runs = requests.iter().map(|request| {
        let bar = Arc::new(BarObserver::new(&bars, &request.device_name, timeouts, quiet));
        let prompt: Option<&dyn WifiPasswordPrompt> = if interactive { Some(&prompt) } else { None };
        async move {
            bar.begin();
            let started = Instant::now();
            let recorded = timeline.then(|| Timeline::new(Some(bar.clone())));
            let observer: &dyn FlowObserver = match &recorded {
                Some(timeline) => timeline,
                None => bar.as_ref(),
            };
            let result = onboarding.run(request, observer, prompt, cancel).await;
            match &result {
                Ok(done) => bar.finish(outcome_summary(done)),
                Err(error) => bar.finish(format!("failed: {error}")),
            }
            let outcome =
                DeviceOutcome { device: request.device_name.clone(), result, elapsed: started.elapsed() };
            (outcome, recorded.map(|timeline| timeline.render()))
        }
    });
    let outcomes: Vec<(DeviceOutcome, Option<String>)> =
        futures::stream::iter(runs).buffer_unordered(parallel.max(1)).collect().await;
    print_timelines(&outcomes);
    outcomes.into_iter().map(|(outcome, _)| outcome).collect()
}

/// What a finished bar says.
fn outcome_summary(done: &Onboarded) -> String {
    match &done.binding {
        Some(binding) => format!("bound as {}", binding.device_id),
        None => "online (Wi-Fi only)".to_owned(),
    }
}

/// Prints the summary and turns it into the command's result.
pub fn report(mut outcomes: Vec<DeviceOutcome>, json: bool) -> Result<(), Failure> {
    outcomes.sort_by(|a, b| a.device.cmp(&b.device));
    if json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(done) => serde_json::json!({
                    "device": o.device,
                    "status": if done.binding.is_some() { "bound" } else { "online" },
                    "device_id": done.binding.as_ref().map(|b| b.device_id.as_str().to_owned()),
                    "binding_id": done.binding.as_ref().map(|b| b.binding_id.clone()),
                    "network": done.network.as_ref().map(|n| n.ssid.clone()),
                    "ip": done.network.as_ref().map(|n| n.ip4_addr.clone()),
                    "seconds": o.elapsed.as_secs_f32(),
                }),
                Err(error) => serde_json::json!({
                    "device": o.device,
                    "status": "failed",
                    "error": error.to_string(),
                    "action": error.user_action(),
                    "seconds": o.elapsed.as_secs_f32(),
                }),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| Failure::new(Code::Internal, e.to_string()))?
        );
    } else {
        println!("{:<14} {:<8} {:<16} {:>7}  details", "device", "result", "device id", "time");
        for outcome in &outcomes {
            match &outcome.result {
                Ok(done) => {
                    let network = done
                        .network
                        .as_ref()
                        .map(|n| format!("{} ({})", n.ssid, n.ip4_addr))
                        .unwrap_or_default();
                    let (result, device_id, details) = match &done.binding {
                        Some(binding) => (
                            "bound",
                            binding.device_id.as_str(),
                            format!("binding {} on {network}", binding.binding_id),
                        ),
                        None => ("online", "-", format!("on {network}, not bound (Wi-Fi only)")),
                    };
                    println!(
                        "{:<14} {:<8} {:<16} {:>6.1}s  {details}",
                        outcome.device,
                        result,
                        device_id,
                        outcome.elapsed.as_secs_f32(),
                    );
                }
                Err(error) => println!(
                    "{:<14} {:<8} {:<16} {:>6.1}s  {error}",
                    outcome.device,
                    "failed",
                    "-",
                    outcome.elapsed.as_secs_f32()
                ),
            }
        }
    }
    let failures: Vec<&FlowError> = outcomes.iter().filter_map(|o| o.result.as_ref().err()).collect();
    match (failures.as_slice(), outcomes.len()) {
        ([], _) => Ok(()),
        ([only], 1) => Err(Failure::from(*only)),
        (failed, total) => Err(Failure::new(
            Code::PartialFailure,
            format!("{} of {total} devices failed; see the summary above", failed.len()),
        )),
    }
}
