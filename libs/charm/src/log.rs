//! `tracing` records to `juju-log`, with the right level, and nothing spawned for disabled levels.

use crate::backend::{HookTools, LogLevel, ProcessBackend};
use std::fmt::{self, Write as _};
use std::sync::Mutex;
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Metadata, Subscriber};

/// Where log lines go.
pub trait LogSink: Send + Sync + 'static {
    /// Writes one line.
    fn log(&self, level: LogLevel, message: &str);
}

/// Runs `juju-log` for each line.
#[derive(Debug)]
pub struct JujuLogSink {
    tools: Mutex<ProcessBackend>,
}

impl JujuLogSink {
    /// A sink running `juju-log` through `tools`.
    pub fn new(tools: ProcessBackend) -> Self {
        JujuLogSink {
            tools: Mutex::new(tools),
        }
    }
}

impl LogSink for JujuLogSink {
    fn log(&self, level: LogLevel, message: &str) {
        if let Ok(mut tools) = self.tools.lock() {
            // Nowhere to report a failing juju-log; stderr reaches Juju's log at WARNING.
            if let Err(e) = tools.juju_log(level, message) {
                eprintln!("juju-log failed ({e}): {message}");
            }
        }
    }
}

/// A `tracing` subscriber that writes every enabled event to a [`LogSink`].
///
/// Spans are accepted and ignored. Events above `max` never reach the sink: `register_callsite`
/// (the default, which asks [`Subscriber::enabled`]) marks their call sites "never", so the
/// `tracing` macros skip them without formatting anything. No global `max_level_hint` is given:
/// with several scoped subscribers (parallel tests), tracing's global level filter can drop
/// events another subscriber wants.
#[derive(Debug)]
pub struct JujuLogSubscriber<S> {
    sink: S,
    max: Level,
    echo_stderr: bool,
}

impl<S: LogSink> JujuLogSubscriber<S> {
    /// Logs events at `max` and more severe to `sink`; with `echo_stderr` also to stderr (`JUJU_DEBUG`).
    pub fn new(sink: S, max: Level, echo_stderr: bool) -> Self {
        JujuLogSubscriber {
            sink,
            max,
            echo_stderr,
        }
    }
}

fn juju_level(level: &Level) -> LogLevel {
    match *level {
        Level::TRACE => LogLevel::Trace,
        Level::DEBUG => LogLevel::Debug,
        Level::INFO => LogLevel::Info,
        Level::WARN => LogLevel::Warning,
        _ => LogLevel::Error,
    }
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

impl<S: LogSink> Subscriber for JujuLogSubscriber<S> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= &self.max
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        line.message.push_str(&line.fields);
        let level = juju_level(event.metadata().level());
        if self.echo_stderr {
            eprintln!("{} {}", level.as_str(), line.message);
        }
        self.sink.log(level, &line.message);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
#[path = "log_test.rs"]
mod tests;
