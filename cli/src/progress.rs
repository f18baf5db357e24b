//! Flow progress in the terminal: one indicatif bar per device.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use unbox_core::flow::{FlowEvent, FlowEventKind, FlowObserver};

/// Shows a device's flow as a progress bar.
pub struct BarObserver {
    bar: ProgressBar,
}

const SCALE: u64 = 1000;

impl BarObserver {
    /// A bar for `device` in `bars` (hidden when `quiet`).
    pub fn new(bars: &MultiProgress, device: &str, quiet: bool) -> Self {
        let bar = if quiet { ProgressBar::hidden() } else { bars.add(ProgressBar::new(SCALE)) };
        let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(device.to_owned());
        Self { bar }
    }

    /// Ends the bar with a last message.
    pub fn finish(&self, message: impl Into<String>) {
        self.bar.finish_with_message(message.into());
    }
}

impl FlowObserver for BarObserver {
    fn on_event(&self, event: FlowEvent) {
        self.bar.set_position((event.fraction * SCALE as f32) as u64);
        if event.kind != FlowEventKind::Skipped {
            self.bar.set_message(event.message);
        }
    }
}
