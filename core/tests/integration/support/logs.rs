//! One capture of every tracing event at TRACE level (from Unbox, the simulator, reqwest, hyper
//! and axum), for the tests that search the logs for secrets. The subscriber is global and
//! installed once for the test binary: tracing caches per-callsite interest globally, so a
//! thread-local one next to parallel tests can miss lines. Each test searches the whole capture
//! for its own secrets (lines of tests running alongside only make the search wider).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything the global subscriber wrote.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// What was captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The capture, with the global TRACE subscriber writing into it from the first call on.
pub fn capture_logs() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let writer = capture.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            capture
        })
        .clone()
}
