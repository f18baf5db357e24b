//! A run's timeline: each step event and, for observers that ask, each device exchange, each
//! wait and each backend call, with its offset from the start, so anyone can see the critical
//! path (`unbox provision -v`, the time-to-bound benchmark). Details are recorded as they
//! happen and reach the observer, in order, before the next step event.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{FlowEvent, FlowEventKind, FlowObserver, FlowStep};
use crate::transport::{Transport, TransportError, TransportKind};

/// What a detail of a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailKind {
    /// One exchange with the device: a request and its reply.
    Exchange,
    /// A wait before the next status read.
    Wait,
    /// The device's Wi-Fi status as read.
    Status,
    /// One call to the backend (a long-poll included).
    Backend,
}

/// One detail of a run (never a secret: endpoint names, sizes, states, waits).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDetail {
    /// When it began.
    pub at: Instant,
    /// How long it took (zero for a wait announced or a status read).
    pub took: Duration,
    /// The step it belongs to.
    pub step: FlowStep,
    /// What kind of detail.
    pub kind: DetailKind,
    /// What happened, for a person.
    pub what: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The details of one run not yet handed to the observer, and the step running.
pub(super) struct DetailLog {
    step: Mutex<FlowStep>,
    pending: Mutex<Vec<FlowDetail>>,
}

impl DetailLog {
    pub(super) fn new() -> Self {
        Self { step: Mutex::new(FlowStep::SignIn), pending: Mutex::new(Vec::new()) }
    }

    pub(super) fn enter(&self, step: FlowStep) {
        *lock(&self.step) = step;
    }

    /// The step running now.
    pub(super) fn step(&self) -> FlowStep {
        *lock(&self.step)
    }

    /// Records a detail of the running step that began `at`.
    pub(super) fn record(&self, at: Instant, kind: DetailKind, what: String) {
        self.record_in(self.step(), at, kind, what);
    }

    /// Records a detail of `step` that began `at` (a call that outlasted its step).
    pub(super) fn record_in(&self, step: FlowStep, at: Instant, kind: DetailKind, what: String) {
        lock(&self.pending).push(FlowDetail { at, took: at.elapsed(), step, kind, what });
    }

    pub(super) fn take(&self) -> Vec<FlowDetail> {
        std::mem::take(&mut *lock(&self.pending))
    }
}

/// A link that records each exchange in the run's detail log.
pub(super) struct TracedTransport {
    pub(super) inner: Arc<dyn Transport>,
    pub(super) log: Arc<DetailLog>,
}

#[async_trait::async_trait]
impl Transport for TracedTransport {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        let at = Instant::now();
        let reply = self.inner.exchange(endpoint, request).await;
        let what = match &reply {
            Ok(reply) => format!("{endpoint}: {} B, reply {} B", request.len(), reply.len()),
            Err(error) => format!("{endpoint}: {} B, failed: {error}", request.len()),
        };
        self.log.record(at, DetailKind::Exchange, what);
        reply
    }

    fn max_message_len(&self) -> usize {
        self.inner.max_message_len()
    }

    fn kind(&self) -> TransportKind {
        self.inner.kind()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

/// One line of a timeline.
struct Line {
    at: Instant,
    took: Duration,
    step: FlowStep,
    what: String,
}

/// An observer that keeps the whole timeline of a run, details included, and passes the step
/// events on to another observer (a progress bar), if given.
pub struct Timeline {
    started: Instant,
    inner: Option<Arc<dyn FlowObserver>>,
    lines: Mutex<Vec<Line>>,
}

impl Timeline {
    /// A timeline starting now, passing events on to `inner`.
    pub fn new(inner: Option<Arc<dyn FlowObserver>>) -> Self {
        Self { started: Instant::now(), inner, lines: Mutex::new(Vec::new()) }
    }

    /// The timeline as text: one line per event or detail, `+SECONDS` from the start, how long it
    /// took, the step and what happened.
    pub fn render(&self) -> String {
        let mut lines = lock(&self.lines);
        lines.sort_by_key(|line| line.at);
        let mut text = String::new();
        for line in lines.iter() {
            let offset = line.at.saturating_duration_since(self.started).as_secs_f64();
            let took = if line.took < Duration::from_micros(50) {
                String::new()
            } else {
                format!("{:.1} ms", line.took.as_secs_f64() * 1000.0)
            };
            let _ = writeln!(
                text,
                "{offset:>+9.3} s {took:>10}  {:<16} {}",
                format!("{:?}", line.step),
                line.what
            );
        }
        text
    }
}

impl FlowObserver for Timeline {
    fn on_event(&self, event: FlowEvent) {
        let kind = match event.kind {
            FlowEventKind::Started => "started",
            FlowEventKind::Progress => "progress",
            FlowEventKind::Finished => "finished",
            FlowEventKind::Skipped => "skipped",
            FlowEventKind::Warning => "warning",
        };
        let what = format!("{kind}: {}", event.message);
        lock(&self.lines).push(Line { at: Instant::now(), took: Duration::ZERO, step: event.step, what });
        if let Some(inner) = &self.inner {
            inner.on_event(event);
        }
    }

    fn wants_details(&self) -> bool {
        true
    }

    fn on_detail(&self, detail: FlowDetail) {
        let kind = match detail.kind {
            DetailKind::Exchange => "exchange",
            DetailKind::Wait => "wait",
            DetailKind::Status => "status",
            DetailKind::Backend => "backend",
        };
        let what = format!("  {kind} {}", detail.what);
        lock(&self.lines).push(Line { at: detail.at, took: detail.took, step: detail.step, what });
    }
}
