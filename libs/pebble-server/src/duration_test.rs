//! Tests of `duration.rs.rs`.

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
