//! Capturing `tracing` records per test thread, without the races of scoped subscribers.
//!
//! tracing caches, per call site, whether anyone is interested in it. With one scoped subscriber
//! per test, a call site first reached by another test thread (library code shared by many
//! tests) can be cached as "nobody listens" just before this test's subscriber registers, and its
//! records are then lost. So the harness installs one global subscriber, once, that keeps every
//! call site at DEBUG and above alive, and routes each record to a buffer of the thread that is
//! capturing, formatted exactly as the charm's `juju-log` subscriber formats it.

use charm::backend::LogLevel;
use charm::log::{JujuLogSubscriber, LogSink};
use std::cell::RefCell;
use std::sync::OnceLock;

thread_local! {
    static CAPTURE: RefCell<Option<Vec<(LogLevel, String)>>> = const { RefCell::new(None) };
}

struct ThreadSink;

impl LogSink for ThreadSink {
    fn log(&self, level: LogLevel, message: &str) {
        CAPTURE.with(|c| {
            if let Some(lines) = c.borrow_mut().as_mut() {
                lines.push((level, message.to_string()));
            }
        });
    }
}

/// Whether the global router is the process's tracing subscriber (false if someone else set one).
fn router_installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let subscriber = JujuLogSubscriber::new(ThreadSink, tracing::Level::DEBUG, false);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    })
}

/// Runs `f` and returns what it logged through `tracing` at DEBUG and above on this thread,
/// as `juju-log` would receive it (level and one line of text).
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, Vec<(LogLevel, String)>) {
    if !router_installed() {
        // Someone else owns the global subscriber: fall back to a scoped one for this thread.
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = ScopedSink(lines.clone());
        let result = tracing::subscriber::with_default(
            JujuLogSubscriber::new(sink, tracing::Level::DEBUG, false),
            f,
        );
        let captured = lines.lock().map(|l| l.clone()).unwrap_or_default();
        return (result, captured);
    }
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(Vec::new()));
    let result = f();
    let captured = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (result, captured.unwrap_or_default())
}

struct ScopedSink(std::sync::Arc<std::sync::Mutex<Vec<(LogLevel, String)>>>);

impl LogSink for ScopedSink {
    fn log(&self, level: LogLevel, message: &str) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push((level, message.to_string()));
        }
    }
}
