//! Tests of `timefmt.rs.rs`.

use super::*;

fn at(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

#[test]
fn formats_like_go() {
    // 2026-07-01T10:00:00Z
    let t = at(1_782_900_000, 0);
    assert_eq!(rfc3339_nanos(t), "2026-07-01T10:00:00Z");
    assert_eq!(
        rfc3339_nanos(at(1_782_900_000, 500_000_000)),
        "2026-07-01T10:00:00.5Z"
    );
    assert_eq!(
        rfc3339_nanos(at(1_782_900_000, 1)),
        "2026-07-01T10:00:00.000000001Z"
    );
    assert_eq!(
        rfc3339(at(1_782_900_000, 999_999_999)),
        "2026-07-01T10:00:00Z"
    );
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
}

#[test]
fn parses_what_it_formats_and_offsets() {
    for t in [
        at(1_782_900_000, 0),
        at(1_782_900_000, 123_456_789),
        at(951_782_400, 7),
    ] {
        assert_eq!(parse_rfc3339(&rfc3339_nanos(t)), Some(t));
    }
    assert_eq!(
        parse_rfc3339("2026-07-01T12:00:00.5+02:00"),
        Some(at(1_782_900_000, 500_000_000))
    );
    assert_eq!(parse_rfc3339("2026-07-01T10:00:00"), None);
    assert_eq!(parse_rfc3339("2026-13-01T10:00:00Z"), None);
    assert_eq!(parse_rfc3339("2026-07-01T10:00:00.Z"), None);
    assert_eq!(parse_rfc3339("yesterday"), None);
}
