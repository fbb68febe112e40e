//! Tests of `log.rs`.

use super::*;
use std::sync::Arc;

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(LogLevel, String)>>>);

impl LogSink for Recorder {
    fn log(&self, level: LogLevel, message: &str) {
        self.0.lock().unwrap().push((level, message.to_string()));
    }
}

#[test]
fn levels_map_and_disabled_levels_are_dropped() {
    let rec = Recorder::default();
    let sub = JujuLogSubscriber::new(rec.clone(), Level::INFO, false);
    tracing::subscriber::with_default(sub, || {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!(relation = "db:1", count = 2, "hello {}", "world");
        tracing::warn!("w");
        tracing::error!("e");
    });
    let lines = rec.0.lock().unwrap().clone();
    assert_eq!(
        lines,
        vec![
            (
                LogLevel::Info,
                "hello world relation=db:1 count=2".to_string()
            ),
            (LogLevel::Warning, "w".to_string()),
            (LogLevel::Error, "e".to_string()),
        ]
    );
}

#[test]
fn debug_level_lets_debug_through() {
    let rec = Recorder::default();
    let sub = JujuLogSubscriber::new(rec.clone(), Level::DEBUG, false);
    tracing::subscriber::with_default(sub, || {
        tracing::trace!("t");
        tracing::debug!("d");
    });
    assert_eq!(
        rec.0.lock().unwrap().clone(),
        vec![(LogLevel::Debug, "d".to_string())]
    );
}
