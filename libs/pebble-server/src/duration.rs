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
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_go_durations() {
        assert_eq!(parse("4.000s"), Ok(Duration::from_secs(4)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
        assert!(parse("-1s").is_err());
        assert_eq!(format(Duration::from_secs(168 * 3600)), "168h0m0s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
    }
}
