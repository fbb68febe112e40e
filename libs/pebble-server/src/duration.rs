//! Go duration text for request fields (`timeout`, `repeat-after`), through the client crate's
//! [`GoDuration`] (one implementation of Go's parser and printer for the whole tree).

use std::time::Duration;

use pebble::GoDuration;

/// Parses a Go duration; negative durations are refused.
pub(crate) fn parse(s: &str) -> Result<Duration, String> {
    let d = GoDuration::parse(s).map_err(|e| e.to_string())?;
    d.to_std()
        .ok_or_else(|| format!("time: invalid duration {s:?} (negative)"))
}

/// Formats like Go's `time.Duration.String()`.
pub(crate) fn format(d: Duration) -> String {
    GoDuration::from(d).to_string()
}

#[cfg(test)]
#[path = "duration_test.rs"]
mod tests;
