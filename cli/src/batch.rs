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
    Confirmation, FlowError, FlowObserver, NetworkChooser, Onboarded, Onboarding, OnboardingRequest,
    Timeline, WifiPasswordPrompt,
};
use unbox_core::secret::SecretString;

use crate::chooser::TerminalChooser;
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

/// Asks for the Wi-Fi password again on the terminal, without echo, with the bars out of the way.
struct TerminalPrompt(MultiProgress);

#[async_trait]
impl WifiPasswordPrompt for TerminalPrompt {
    async fn ask_again(&self, ssid: String, attempt: u32) -> Option<SecretString> {
        let question =
            format!("The device could not join {ssid} with that password (attempt {attempt}). Password: ");
        let bars = self.0.clone();
        tokio::task::spawn_blocking(move || bars.suspend(|| rpassword::prompt_password(question).ok()))
            .await
            .ok()
            .flatten()
            .filter(|answer| !answer.is_empty())
            .map(SecretString::new)
    }
}

/// Whether a run can ask the person things: a single device on an interactive terminal, with
/// text output.
pub fn interactive(devices: usize, quiet: bool) -> bool {
    devices == 1 && std::io::stdin().is_terminal() && !quiet
}

/// Runs every request, at most `parallel` at a time. Asks for a new Wi-Fi password, and lets
/// the person choose the network of a request without one (`given`: the passphrase to use for
/// it, if any), only when `interactive`. With `timeline`, prints each device's timeline (every
/// step, exchange, wait and backend call) on stderr at the end.
pub async fn run(
    onboarding: &Onboarding,
    requests: Vec<OnboardingRequest>,
    parallel: usize,
    quiet: bool,
    timeline: bool,
    given: Option<SecretString>,
    cancel: &CancellationToken,
) -> Vec<DeviceOutcome> {
    let bars = MultiProgress::new();
    let interactive = interactive(requests.len(), quiet);
    let prompt = TerminalPrompt(bars.clone());
    let chooser = TerminalChooser::new(&bars, given);
    let timeouts = &onboarding.settings().timeouts;
    let runs = requests.iter().map(|request| {
        let bar = Arc::new(BarObserver::new(&bars, &request.device_name, timeouts, quiet));
        let prompt: Option<&dyn WifiPasswordPrompt> = if interactive { Some(&prompt) } else { None };
        let chooser: Option<&dyn NetworkChooser> = if interactive { Some(&chooser) } else { None };
        async move {
            bar.begin();
            let started = Instant::now();
            let recorded = timeline.then(|| Timeline::new(Some(bar.clone())));
            let observer: &dyn FlowObserver = match &recorded {
                Some(timeline) => timeline,
                None => bar.as_ref(),
            };
            let result = onboarding.run_choosing(request, observer, prompt, chooser, cancel).await;
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

/// The result column of a finished device: bound, online (Wi-Fi only, seen joining) or
/// unconfirmed (Wi-Fi only, the link dropped before it reported).
fn status(done: &Onboarded) -> &'static str {
    match (&done.binding, done.confirmation) {
        (Some(_), _) => "bound",
        (None, Confirmation::Unconfirmed) => "unconfirmed",
        (None, _) => "online",
    }
}

/// What a finished bar says.
fn outcome_summary(done: &Onboarded) -> String {
    match (&done.binding, done.confirmation) {
        (Some(binding), _) => format!("bound as {}", binding.device_id),
        (None, Confirmation::Unconfirmed) => {
            "sent, not confirmed (Wi-Fi only): check the device's light or its app".to_owned()
        }
        (None, _) => "online (Wi-Fi only)".to_owned(),
    }
}

/// What an app binding the device itself gets: its name (the row's), its info JSON, the
/// address it reported and its setup code's fields (secrets redacted).
fn self_binding_json(done: &Onboarded) -> serde_json::Value {
    let info = done.device.as_ref().and_then(|d| d.info_json.as_deref());
    serde_json::json!({
        "protocol": done.device.as_ref().map(|d| d.protocol),
        "device_info": info.map(|text| serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.to_owned()))),
        "redirect_url": redirect_url(done),
        "code": done.code.as_ref().map(|code| code.summary(false)),
    })
}

/// The address the device reported on the home network (Improv reports none).
fn address(done: &Onboarded) -> Option<&str> {
    done.network.as_ref().map(|n| n.ip4_addr.as_str()).filter(|address| !address.is_empty())
}

/// Where the device asks the person to continue (an Improv device's web page), if it said.
fn redirect_url(done: &Onboarded) -> Option<&str> {
    done.network.as_ref().and_then(|n| n.redirect_url.as_deref())
}

/// The same as text lines, under the summary table.
fn self_binding_lines(device: &str, done: &Onboarded) -> Vec<String> {
    let mut lines = vec![format!("{device}, for binding it yourself:")];
    if let Some(address) = address(done) {
        lines.push(format!("  address      {address}"));
    }
    if let Some(info) = done.device.as_ref().and_then(|d| d.info_json.as_deref()) {
        // On one line: the device's JSON may be laid out on several.
        let compact = serde_json::from_str::<serde_json::Value>(info).map(|v| v.to_string());
        lines.push(format!("  device info  {}", compact.as_deref().unwrap_or(info)));
    }
    if let Some(url) = redirect_url(done) {
        lines.push(format!("  continue at  {url}"));
    }
    if let Some(code) = &done.code {
        let fields: Vec<String> =
            code.summary(false).fields.iter().map(|(label, value)| format!("{label}={value}")).collect();
        lines.push(format!("  setup code   {}", fields.join(" ")));
    }
    lines
}

/// Prints the summary and turns it into the command's result.
pub fn report(mut outcomes: Vec<DeviceOutcome>, json: bool) -> Result<(), Failure> {
    outcomes.sort_by(|a, b| a.device.cmp(&b.device));
    if json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(done) => {
                    let mut row = serde_json::json!({
                        "device": o.device,
                        "status": status(done),
                        "confirmation": done.confirmation,
                        "device_id": done.binding.as_ref().map(|b| b.device_id.as_str().to_owned()),
                        "binding_id": done.binding.as_ref().map(|b| b.binding_id.clone()),
                        "network": done.network.as_ref().map(|n| n.ssid.clone()),
                        "ip": address(done),
                        "seconds": o.elapsed.as_secs_f32(),
                    });
                    if done.binding.is_none()
                        && let (Some(row), serde_json::Value::Object(extra)) =
                            (row.as_object_mut(), self_binding_json(done))
                    {
                        row.extend(extra);
                    }
                    row
                }
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
        println!("{:<14} {:<11} {:<16} {:>7}  details", "device", "result", "device id", "time");
        let mut self_binding = Vec::new();
        for outcome in &outcomes {
            match &outcome.result {
                Ok(done) => {
                    let network = match (&done.network, address(done)) {
                        (Some(n), Some(address)) => format!("{} ({address})", n.ssid),
                        (Some(n), None) => n.ssid.clone(),
                        (None, _) => String::new(),
                    };
                    let (device_id, details) = match (&done.binding, done.confirmation) {
                        (Some(binding), _) if network.is_empty() => {
                            (binding.device_id.as_str(), format!("binding {}", binding.binding_id))
                        }
                        (Some(binding), _) => {
                            (binding.device_id.as_str(), format!("binding {} on {network}", binding.binding_id))
                        }
                        (None, Confirmation::Unconfirmed) => (
                            "-",
                            "Wi-Fi sent; the device could not be reached to confirm: check its light or its app"
                                .to_owned(),
                        ),
                        (None, _) => ("-", format!("on {network}, not bound (Wi-Fi only)")),
                    };
                    if done.binding.is_none() {
                        self_binding.extend(self_binding_lines(&outcome.device, done));
                    }
                    println!(
                        "{:<14} {:<11} {:<16} {:>6.1}s  {details}",
                        outcome.device,
                        status(done),
                        device_id,
                        outcome.elapsed.as_secs_f32(),
                    );
                }
                Err(error) => println!(
                    "{:<14} {:<11} {:<16} {:>6.1}s  {error}",
                    outcome.device,
                    "failed",
                    "-",
                    outcome.elapsed.as_secs_f32()
                ),
            }
        }
        for line in self_binding {
            println!("{line}");
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
