//! Tests of `status.rs`.

use super::*;

#[test]
fn most_severe_wins_and_first_among_equals() {
    let mut c = StatusCollector::default();
    assert_eq!(c.unit_status(), None);
    c.add_unit(Status::active("ok"));
    c.add_unit(Status::waiting("for db"));
    c.add_unit(Status::blocked("first"));
    c.add_unit(Status::maintenance("busy"));
    c.add_unit(Status::blocked("second"));
    assert_eq!(c.unit_status(), Some(&Status::blocked("first")));
    assert_eq!(c.app_status(), None);
    c.add_app(Status::active("a"));
    c.add_app(Status::active("b"));
    assert_eq!(c.app_status(), Some(&Status::active("a")));
}

#[test]
fn messages_are_cleaned_and_bounded() {
    assert_eq!(Status::blocked("plain words").message, "plain words");
    assert_eq!(
        Status::blocked("line1\nline2\r\n\tx\u{1b}[31mred\u{202e}gnp.exe").message,
        "line1 line2 x [31mred gnp.exe"
    );
    // A megabyte of remote data: bounded, on a character boundary, the cut marked.
    let huge = format!("bad host {}", "é".repeat(500_000));
    let status = Status::waiting(&huge);
    assert!(
        status.message.len() <= MAX_STATUS_MESSAGE,
        "{}",
        status.message.len()
    );
    assert!(status.message.len() > MAX_STATUS_MESSAGE - 8);
    assert!(status.message.starts_with("bad host éé"));
    assert!(status.message.ends_with('\u{2026}'));
    // Exactly at the limit: kept whole.
    let exact = "x".repeat(MAX_STATUS_MESSAGE);
    assert_eq!(Status::active(&exact).message, exact);
    // Built field by field, then cleaned.
    let raw = Status {
        kind: StatusKind::Blocked,
        message: "a\nb".into(),
    };
    assert_eq!(raw.cleaned(), Status::blocked("a b"));
    assert_eq!(truncate("abc", 2), "ab");
    assert_eq!(truncate("abcd", 3), "\u{2026}");
    assert_eq!(truncate("abcdef", 5), "ab\u{2026}");
}

#[test]
fn words_round_trip() {
    for k in [
        StatusKind::Active,
        StatusKind::Blocked,
        StatusKind::Maintenance,
        StatusKind::Waiting,
        StatusKind::Error,
        StatusKind::Unknown,
    ] {
        assert_eq!(StatusKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(StatusKind::parse("fine"), None);
    assert!(!StatusKind::Error.settable());
    assert!(StatusKind::Waiting.settable());
    assert_eq!(Status::blocked("x").to_string(), "blocked: x");
}
