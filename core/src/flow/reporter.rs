//! Turns the steps of one run into events for the app's observer, with the overall progress.

use super::{FlowEvent, FlowEventKind, FlowObserver, FlowStep};

/// Reports the steps of one run.
pub(super) struct Reporter<'a> {
    pub(super) observer: &'a dyn FlowObserver,
}

impl Reporter<'_> {
    fn emit(&self, step: FlowStep, kind: FlowEventKind, message: String) {
        let fraction = match kind {
            FlowEventKind::Started | FlowEventKind::Progress | FlowEventKind::Warning => {
                step.progress_at_start()
            }
            FlowEventKind::Finished | FlowEventKind::Skipped => step.progress_at_end(),
        };
        self.observer.on_event(FlowEvent { step, kind, fraction, message });
    }

    pub(super) fn started(&self, step: FlowStep) {
        self.emit(step, FlowEventKind::Started, step.description().to_owned());
    }

    pub(super) fn progress(&self, step: FlowStep, message: impl Into<String>) {
        self.emit(step, FlowEventKind::Progress, message.into());
    }

    pub(super) fn warning(&self, step: FlowStep, message: impl Into<String>) {
        self.emit(step, FlowEventKind::Warning, message.into());
    }

    pub(super) fn finished(&self, step: FlowStep, message: impl Into<String>) {
        self.emit(step, FlowEventKind::Finished, message.into());
    }

    pub(super) fn skipped(&self, step: FlowStep, message: impl Into<String>) {
        self.emit(step, FlowEventKind::Skipped, message.into());
    }
}
