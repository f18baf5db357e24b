//! Flow progress in the terminal: one indicatif bar per device, redrawn on a steady tick so that
//! a bar always shows the step its device is on, with that step's elapsed time (and, for steps
//! that wait on the world outside, the time limit they wait against).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};
use unbox_core::flow::{FlowEvent, FlowEventKind, FlowObserver, FlowStep, StepTimeouts};

const SCALE: u64 = 1000;

/// How often a running bar is redrawn, whether or not its device reported anything.
const TICK: Duration = Duration::from_millis(100);

/// Shows a device's flow as a progress bar.
pub struct BarObserver {
    bar: ProgressBar,
    /// Whether nothing is shown (then no warnings are printed above the bars either).
    quiet: bool,
    timeouts: StepTimeouts,
    /// The running step's time limit in whole seconds, when it waits on the world outside
    /// (0: not shown).
    limit: Arc<AtomicU64>,
}

impl BarObserver {
    /// A bar for `device` in `bars` (hidden when `quiet`), waiting for its turn; `timeouts` are
    /// the flow's, shown on the steps that wait.
    pub fn new(bars: &MultiProgress, device: &str, timeouts: &StepTimeouts, quiet: bool) -> Self {
        let bar = if quiet { ProgressBar::hidden() } else { bars.add(ProgressBar::new(SCALE)) };
        let limit = Arc::new(AtomicU64::new(0));
        let shown_limit = Arc::clone(&limit);
        let step_time = move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = write!(out, "{:.1}s", state.elapsed().as_secs_f32());
            match shown_limit.load(Ordering::Relaxed) {
                0 => {}
                limit => {
                    let _ = write!(out, ", up to {limit}s");
                }
            }
        };
        let style =
            ProgressStyle::with_template("{prefix:>14} {spinner} [{bar:24}] {percent:>3}% {msg} {step_time}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("step_time", step_time)
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(device.to_owned());
        bar.set_message("waiting for its turn");
        Self { bar, quiet, timeouts: timeouts.clone(), limit }
    }

    /// The device's flow begins: the bar starts ticking.
    pub fn begin(&self) {
        self.bar.reset_elapsed();
        self.bar.enable_steady_tick(TICK);
    }

    /// Ends the bar with a last message.
    pub fn finish(&self, message: impl Into<String>) {
        let style = ProgressStyle::with_template("{prefix:>14}   [{bar:24}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.finish_with_message(message.into());
    }

    /// The limit shown while `step` runs: only for steps that wait on a person, a radio, the
    /// device or the backend.
    fn shown_limit(&self, step: FlowStep) -> Option<Duration> {
        match step {
            FlowStep::SignIn => Some(self.timeouts.sign_in),
            FlowStep::ConnectDevice => Some(self.timeouts.connect),
            FlowStep::WaitDeviceOnline => Some(self.timeouts.device_online),
            FlowStep::WaitRedemption => Some(self.timeouts.redemption),
            _ => None,
        }
    }
}

impl FlowObserver for BarObserver {
    fn on_event(&self, event: FlowEvent) {
        if event.kind == FlowEventKind::Started {
            let limit = self.shown_limit(event.step).map_or(0, |limit| limit.as_secs());
            self.limit.store(limit, Ordering::Relaxed);
            self.bar.reset_elapsed();
        }
        self.bar.set_position((event.fraction * SCALE as f32) as u64);
        if event.kind == FlowEventKind::Warning && !self.quiet {
            // A warning stays on screen (cleartext credentials), the bar's message moves on.
            self.bar.suspend(|| eprintln!("warning: {}", event.message));
        }
        if event.kind != FlowEventKind::Skipped {
            self.bar.set_message(event.message);
        }
    }
}
