//! Log lines on stderr. By default they read as a command-line tool's (`warning: ...`, no
//! timestamps, no module paths); `-v` and `-vv` switch to tracing's structured format, with debug
//! and trace events. Colour only when stderr is a terminal. `RUST_LOG` replaces the levels with a
//! list of `target=level` directives (`debug`, `unbox=debug,hyper=warn`).

use std::fmt;
use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Installs the logger for `-v` given `verbose` times; the simulator also shows its info-level
/// lines (each exchange) by default.
pub fn init(verbose: u8, simulator: bool) {
    let level = match verbose {
        0 if simulator => LevelFilter::INFO,
        0 => LevelFilter::WARN,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(level));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if verbose == 0 {
        let layer = layer.with_ansi(false).event_format(ToolFormat);
        tracing_subscriber::registry().with(layer.with_filter(filter)).init();
    } else {
        let layer = layer.with_ansi(std::io::stderr().is_terminal());
        tracing_subscriber::registry().with(layer.with_filter(filter)).init();
    }
}

/// `warning: message key=value`: the level as a word (none for info), the message, its fields.
struct ToolFormat;

impl<S, N> FormatEvent<S, N> for ToolFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let label = match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        };
        writer.write_str(label)?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
