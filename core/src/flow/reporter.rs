//! Turns the steps of one run into events for the app's observer, with the overall progress,
//! and, for an observer that wants them, the run's details (see `timeline.rs`).

use std::sync::Arc;
use std::time::Instant;

use super::timeline::{DetailLog, TracedTransport};
use super::{DetailKind, FlowEvent, FlowEventKind, FlowObserver, FlowStep};
use crate::transport::Transport;

/// Reports the steps of one run.
pub(super) struct Reporter<'a> {
    observer: &'a dyn FlowObserver,
    details: Option<Arc<DetailLog>>,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(observer: &'a dyn FlowObserver) -> Self {
        let details = observer.wants_details().then(|| Arc::new(DetailLog::new()));
        Self { observer, details }
    }

    fn emit(&self, step: FlowStep, kind: FlowEventKind, message: String) {
        self.flush();
        let fraction = match kind {
            FlowEventKind::Started | FlowEventKind::Progress | FlowEventKind::Warning => {
                step.progress_at_start()
            }
            FlowEventKind::Finished | FlowEventKind::Skipped => step.progress_at_end(),
        };
        self.observer.on_event(FlowEvent { step, kind, fraction, message });
    }

    /// Hands the details recorded so far to the observer.
    pub(super) fn flush(&self) {
        if let Some(log) = &self.details {
            for detail in log.take() {
                self.observer.on_detail(detail);
            }
        }
    }

    pub(super) fn started(&self, step: FlowStep) {
        if let Some(log) = &self.details {
            log.enter(step);
        }
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

    /// Records a detail happening now, when the observer wants details.
    pub(super) fn detail(&self, kind: DetailKind, what: impl FnOnce() -> String) {
        if let Some(log) = &self.details {
            log.record(Instant::now(), kind, what());
        }
    }

    /// Runs one backend call `what`, recording it with its duration.
    pub(super) async fn backend<T>(&self, what: &str, call: impl Future<Output = T>) -> T {
        let at = Instant::now();
        let step = self.details.as_ref().map(|log| log.step());
        let outcome = call.await;
        if let (Some(log), Some(step)) = (&self.details, step) {
            log.record_in(step, at, DetailKind::Backend, what.to_owned());
        }
        outcome
    }

    /// The link, recording each exchange when the observer wants details.
    pub(super) fn traced(&self, transport: Arc<dyn Transport>) -> Arc<dyn Transport> {
        match &self.details {
            Some(log) => Arc::new(TracedTransport { inner: transport, log: log.clone() }),
            None => transport,
        }
    }
}
