use super::*;

#[test]
fn parses_what_go_parses() {
    let cases: &[(&str, i64)] = &[
        ("0", 0),
        ("-0", 0),
        ("+0", 0),
        ("5s", 5 * NANOS_PER_SEC),
        ("500ms", 500_000_000),
        ("1m30s", 90 * NANOS_PER_SEC),
        ("1.5h", 5400 * NANOS_PER_SEC),
        ("-1.5h", -5400 * NANOS_PER_SEC),
        (".5s", 500_000_000),
        ("1.s", NANOS_PER_SEC),
        ("4.000s", 4 * NANOS_PER_SEC),
        ("1h2m3s4ms5us6ns", 3_723_004_005_006),
        ("3\u{b5}s", 3_000),
        ("3\u{3bc}s", 3_000),
        ("100ns", 100),
        ("0.000000001s", 1),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
    ];
    for (text, nanos) in cases {
        assert_eq!(GoDuration::parse(text), Ok(GoDuration(*nanos)), "{text}");
    }
}

#[test]
fn rejects_with_go_messages() {
    let cases: &[(&str, &str)] = &[
        ("", r#"time: invalid duration """#),
        ("10", r#"time: missing unit in duration "10""#),
        ("1x", r#"time: unknown unit "x" in duration "1x""#),
        ("1.5.5s", r#"time: missing unit in duration "1.5.5s""#),
        (
            "1\u{e9}",
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#,
        ),
        (".s", r#"time: invalid duration ".s""#),
        ("s", r#"time: invalid duration "s""#),
        ("-", r#"time: invalid duration "-""#),
        ("1s ", r#"time: unknown unit "s " in duration "1s ""#),
        (
            "9223372036854775808ns",
            r#"time: invalid duration "9223372036854775808ns""#,
        ),
        ("3000000h", r#"time: invalid duration "3000000h""#),
    ];
    for (text, message) in cases {
        assert_eq!(
            GoDuration::parse(text).unwrap_err().to_string(),
            *message,
            "{text}"
        );
    }
}

#[test]
fn prints_like_go() {
    let cases: &[(i64, &str)] = &[
        (0, "0s"),
        (1, "1ns"),
        (1_100, "1.1\u{b5}s"),
        (2_200_000, "2.2ms"),
        (500_000_000, "500ms"),
        (NANOS_PER_SEC, "1s"),
        (1_500_000_000, "1.5s"),
        (60 * NANOS_PER_SEC, "1m0s"),
        (90 * NANOS_PER_SEC, "1m30s"),
        (3600 * NANOS_PER_SEC, "1h0m0s"),
        (168 * 3600 * NANOS_PER_SEC, "168h0m0s"),
        (-5 * NANOS_PER_SEC, "-5s"),
        (3_723_004_005_006, "1h2m3.004005006s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ];
    for (nanos, text) in cases {
        assert_eq!(GoDuration(*nanos).to_string(), *text, "{nanos}");
        assert_eq!(GoDuration::parse(text), Ok(GoDuration(*nanos)), "{text}");
    }
}

#[test]
fn converts_to_and_from_std() {
    let d = GoDuration::from(Duration::from_millis(1500));
    assert_eq!(d, GoDuration::from_millis(1500));
    assert_eq!(d.to_std(), Some(Duration::from_millis(1500)));
    assert_eq!(GoDuration::from_secs(-1).to_std(), None);
    assert_eq!(
        GoDuration::from(Duration::from_secs(u64::MAX)),
        GoDuration(i64::MAX)
    );
}

#[test]
fn serde_uses_go_text() {
    let d: GoDuration = serde_json::from_str(r#""1m30s""#).unwrap();
    assert_eq!(d, GoDuration::from_secs(90));
    assert_eq!(serde_json::to_string(&d).unwrap(), r#""1m30s""#);
    let err = serde_json::from_str::<GoDuration>(r#""ten""#).unwrap_err();
    assert!(err.to_string().contains("time: invalid duration"), "{err}");
}
