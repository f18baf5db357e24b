//! Log forwarding: the core's `tracing` events, at or above a chosen level, go to a [`Logger`]
//! the shell implements (Logcat, `os_log`, a file). The core never puts secrets in events; this
//! layer forwards only the message and the event's fields.

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::{Layer, Registry, reload};

/// How important a log record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Step-by-step detail.
    Trace,
    /// Detail useful when debugging.
    Debug,
    /// Milestones of an operation.
    Info,
    /// Something went wrong but the operation goes on.
    Warn,
    /// An operation failed.
    Error,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    /// How important it is.
    pub level: LogLevel,
    /// The Rust module that logged it, e.g. `unbox_core::device::session`.
    pub target: String,
    /// The message followed by the event's fields as `name=value`.
    pub message: String,
}

/// Receives the library's log records. Called on the library's threads; keep it quick.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// Writes one record.
    fn log(&self, record: LogRecord);
}

/// Sends records at `max_level` and above to `logger`, replacing any earlier logger and level.
/// The first call installs the forwarding as the process's `tracing` subscriber; if another
/// subscriber was installed first (by the host application), records keep going there.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, max_level: LogLevel) {
    let forwarding = forwarding();
    *forwarding.logger.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(logger);
    if let Err(error) = forwarding.level.reload(level_filter(max_level)) {
        eprintln!("unbox: could not change the log level: {error}");
    }
}

/// Stops forwarding records (the logger is released).
#[uniffi::export]
pub fn clear_logger() {
    let forwarding = forwarding();
    forwarding.logger.write().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Err(error) = forwarding.level.reload(LevelFilter::OFF) {
        eprintln!("unbox: could not change the log level: {error}");
    }
}

/// The process-wide forwarding state.
struct Forwarding {
    logger: Arc<RwLock<Option<Arc<dyn Logger>>>>,
    level: reload::Handle<LevelFilter, Registry>,
}

fn forwarding() -> &'static Forwarding {
    static FORWARDING: OnceLock<Forwarding> = OnceLock::new();
    FORWARDING.get_or_init(|| {
        let logger = Arc::new(RwLock::new(None));
        let (level, handle) = reload::Layer::new(LevelFilter::OFF);
        let subscriber =
            Registry::default().with(level).with(ForwardingLayer { logger: Arc::clone(&logger) });
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("unbox: a tracing subscriber is already installed; the foreign logger gets nothing");
        }
        Forwarding { logger, level: handle }
    })
}

fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Trace => LevelFilter::TRACE,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    }
}

impl From<&Level> for LogLevel {
    fn from(level: &Level) -> Self {
        match *level {
            Level::TRACE => Self::Trace,
            Level::DEBUG => Self::Debug,
            Level::INFO => Self::Info,
            Level::WARN => Self::Warn,
            Level::ERROR => Self::Error,
        }
    }
}

/// A `tracing` layer that turns events into [`LogRecord`]s for the foreign logger.
struct ForwardingLayer {
    logger: Arc<RwLock<Option<Arc<dyn Logger>>>>,
}

impl<S: Subscriber> Layer<S> for ForwardingLayer {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let logger = self.logger.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(logger) = logger {
            logger.log(record(event));
        }
    }
}

/// The record for `event`: its message, then its other fields as `name=value`.
fn record(event: &Event<'_>) -> LogRecord {
    let metadata = event.metadata();
    let mut text = MessageText::default();
    event.record(&mut text);
    LogRecord { level: metadata.level().into(), target: metadata.target().to_owned(), message: text.finish() }
}

#[derive(Default)]
struct MessageText {
    message: String,
    fields: String,
}

impl MessageText {
    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Collected(Mutex<Vec<LogRecord>>);

    impl Logger for Collected {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }

    #[test]
    fn records_carry_level_target_message_and_fields() {
        let collected = Arc::new(Collected::default());
        let layer =
            ForwardingLayer { logger: Arc::new(RwLock::new(Some(collected.clone() as Arc<dyn Logger>))) };
        let subscriber = Registry::default().with(LevelFilter::INFO).with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(attempt = 2, endpoint = "prov-session", "secure session established");
            tracing::warn!("no fields");
            tracing::debug!("below the level");
        });
        let records = collected.0.lock().unwrap().clone();
        assert_eq!(
            records,
            vec![
                LogRecord {
                    level: LogLevel::Info,
                    target: module_path!().to_owned(),
                    message: "secure session established attempt=2 endpoint=\"prov-session\"".into(),
                },
                LogRecord {
                    level: LogLevel::Warn,
                    target: module_path!().to_owned(),
                    message: "no fields".into()
                },
            ]
        );
    }

    #[test]
    fn levels_map_both_ways() {
        for (level, filter) in [
            (Level::TRACE, LevelFilter::TRACE),
            (Level::DEBUG, LevelFilter::DEBUG),
            (Level::INFO, LevelFilter::INFO),
            (Level::WARN, LevelFilter::WARN),
            (Level::ERROR, LevelFilter::ERROR),
        ] {
            assert_eq!(level_filter(LogLevel::from(&level)), filter);
        }
    }
}
