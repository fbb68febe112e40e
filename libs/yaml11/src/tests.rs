//! Unless noted, each expectation was checked against PyYAML 6.0.3 `yaml.safe_load` followed by
//! Python 3.11 `json.dumps`.

use super::*;
use serde_json::json;

fn load(text: &str) -> Value {
    match crate::load(text) {
        Ok(value) => value,
        Err(error) => panic!("{text:?} failed to load: {error}"),
    }
}

fn load_err(text: &str) -> Error {
    match crate::load(text) {
        Ok(value) => panic!("{text:?} loaded as {value} but should fail"),
        Err(error) => error,
    }
}

/// The `json.dumps` text of the loaded document.
fn dumped(text: &str) -> String {
    pyjson::dumps(&load(text))
}

fn mark(line: usize, column: usize) -> Mark {
    Mark { line, column }
}

#[test]
fn resolver_patterns_compile() {
    assert!(FLOAT.is_some());
    assert!(INT.is_some());
    assert!(TIMESTAMP.is_some());
}

#[test]
fn booleans_are_yaml_1_1() {
    for text in [
        "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    ] {
        assert_eq!(load(text), json!(true), "{text}");
    }
    for text in [
        "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    ] {
        assert_eq!(load(text), json!(false), "{text}");
    }
    // Not in PyYAML's regex: plain strings.
    for text in ["y", "Y", "n", "N", "yEs", "tRue", "oN", "enabled"] {
        assert_eq!(load(text), json!(text), "{text}");
    }
    assert_eq!(load("enabled: off"), json!({"enabled": false}));
}

#[test]
fn only_plain_scalars_are_resolved() {
    assert_eq!(load("'yes'"), json!("yes"));
    assert_eq!(load("\"yes\""), json!("yes"));
    assert_eq!(
        load("a: '0755'\nb: \"1.0\"\nc: '~'"),
        json!({"a": "0755", "b": "1.0", "c": "~"})
    );
    assert_eq!(load("a: |\n  yes\n"), json!({"a": "yes\n"}));
    assert_eq!(load("a: >-\n  123\n"), json!({"a": "123"}));
    assert_eq!(
        load("ports:\n- 80\n- '443'\n- \"9000\""),
        json!({"ports": [80, "443", "9000"]})
    );
}

#[test]
fn nulls() {
    for text in [
        "~",
        "null",
        "Null",
        "NULL",
        "",
        "# only a comment\n",
        "---\n",
    ] {
        assert_eq!(load(text), Value::Null, "{text:?}");
    }
    assert_eq!(load("nULL"), json!("nULL"));
    assert_eq!(load("~a"), json!("~a"));
    assert_eq!(
        load("a: ~\nb: null\nc:"),
        json!({"a": null, "b": null, "c": null})
    );
    assert_eq!(load("key:"), json!({"key": null}));
    assert_eq!(
        load("a:\n  - b\n  -\n  - c"),
        json!({"a": ["b", null, "c"]})
    );
    assert_eq!(load("{? a : 1, ? b}"), json!({"a": 1, "b": null}));
}

#[test]
fn integers() {
    let cases = [
        ("0", json!(0)),
        ("00", json!(0)),
        ("-0", json!(0)),
        ("+0", json!(0)),
        ("0755", json!(493)),
        ("010", json!(8)),
        ("0_7", json!(7)),
        ("07_7", json!(63)),
        ("-010", json!(-8)),
        ("+017", json!(15)),
        ("0b1010", json!(10)),
        ("-0b11", json!(-3)),
        ("+0b1", json!(1)),
        ("0x1F", json!(31)),
        ("-0x1F", json!(-31)),
        ("0xff_ff", json!(65535)),
        ("1_000", json!(1000)),
        ("1__", json!(1)),
        ("+12", json!(12)),
        ("12:30", json!(750)),
        ("20:00", json!(1200)),
        ("1:5", json!(65)),
        ("-1:30", json!(-90)),
        ("1_0:30", json!(630)),
        ("190:20:30", json!(685230)),
        ("1:2:3:4", json!(223384)),
        ("9223372036854775807", json!(9223372036854775807_i64)),
        ("-9223372036854775808", json!(i64::MIN)),
        ("9223372036854775808", json!(9223372036854775808_u64)),
        ("18446744073709551615", json!(u64::MAX)),
    ];
    for (text, expected) in cases {
        assert_eq!(load(text), expected, "{text}");
    }
    assert_eq!(dumped("mode: 0644"), r#"{"mode": 420}"#);
}

#[test]
fn integer_look_alikes_are_strings() {
    // YAML 1.1 has no `0o`; `0X` is not hex; 8 and 9 are not octal digits; sexagesimal parts
    // are 0..59 and the first part cannot start with 0.
    for text in [
        "0o755", "0X1F", "08", "0_8", "09", "0b", "0x", "0b2", "0x1G", "_1", "1:60", "1:75",
        "0:30", "0:59", "8080:80", "1::30", ":30", "1-2", "-1-", "+", "0x-1", "0b1:1",
    ] {
        assert_eq!(load(text), json!(text), "{text}");
    }
}

#[test]
fn integers_that_fail_like_python() {
    // Matched by the regex, then rejected by Python's int(): ValueError in PyYAML.
    for text in ["0b_", "0x_"] {
        assert!(
            matches!(load_err(text), Error::InvalidScalar { ref value, .. } if value == text),
            "{text}"
        );
    }
}

#[test]
fn integers_beyond_64_bits_are_errors() {
    // PyYAML: arbitrary-precision ints, which json.dumps writes as digits; we refuse them.
    match load_err("x: 123456789012345678901234567890") {
        Error::IntegerOutOfRange { value, mark: m } => {
            assert_eq!(value, "123456789012345678901234567890");
            assert_eq!(m, mark(1, 4));
        }
        other => panic!("unexpected {other}"),
    }
    for (text, decimal) in [
        ("18446744073709551616", "18446744073709551616"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("0x1_0000_0000_0000_0000", "18446744073709551616"),
    ] {
        match load_err(text) {
            Error::IntegerOutOfRange { value, .. } => assert_eq!(value, decimal),
            other => panic!("unexpected {other}"),
        }
    }
    let digits = "1".repeat(MAX_INT_DIGITS + 1);
    assert!(matches!(load_err(&digits), Error::InvalidScalar { .. }));
}

#[test]
fn floats_need_a_dot_and_a_signed_exponent() {
    let cases = [
        ("1.0", "1.0"),
        ("1.", "1.0"),
        ("3.", "3.0"),
        (".5", "0.5"),
        ("-1.5", "-1.5"),
        ("-0.0", "-0.0"),
        ("1_0.5", "10.5"),
        ("-1_2.5_0", "-12.5"),
        ("1.__", "1.0"),
        ("1.0e+3", "1000.0"),
        ("1.5e+3", "1500.0"),
        ("1.e+3", "1000.0"),
        ("1.0E-3", "0.001"),
        ("0.1e+1", "1.0"),
        ("00.5", "0.5"),
        ("6.8523015e+5", "685230.15"),
        ("685.230_15e+03", "685230.15"),
        ("190:20:30.15", "685230.15"),
        ("1:30.5", "90.5"),
        ("-1:30.5", "-90.5"),
        ("1:30.", "90.0"),
        ("0.1", "0.1"),
        ("1.10", "1.1"),
        ("0.00001", "1e-05"),
        ("10000000000000000.0", "1e+16"),
    ];
    for (text, expected) in cases {
        assert_eq!(pyjson::dumps(&load(text)), expected, "{text}");
    }
    for text in [
        "1e3", "1.5e3", "1.0e3", "1e16", "-.5", "+.5", "._5", ".", "..", ".e+3", "1.0e+",
        "1.0e+3.0", "1.10.1",
    ] {
        assert_eq!(load(text), json!(text), "{text}");
    }
}

#[test]
fn float_one_point_zero_stays_a_float() {
    let value = load("1.0");
    assert!(value.is_f64());
    assert_eq!(serde_json::to_string(&value).ok().as_deref(), Some("1.0"));
    assert_eq!(pyjson::dumps(&value), "1.0");
}

#[test]
fn non_finite_floats_are_errors() {
    // json.dumps would write Infinity/-Infinity/NaN, which is not JSON.
    for text in [
        ".inf",
        "-.inf",
        "+.Inf",
        ".INF",
        ".nan",
        ".NaN",
        "1.0e+400",
        "!!float -.inf",
    ] {
        assert!(
            matches!(load_err(text), Error::NonFiniteFloat { .. }),
            "{text}"
        );
    }
    match load_err("x: .Inf") {
        Error::NonFiniteFloat { value, mark: m } => {
            assert_eq!(value, ".Inf");
            assert_eq!(m, mark(1, 4));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn timestamps_are_errors() {
    for text in [
        "2024-01-01",
        "2002-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2024-01-01T00:00:00Z",
        "2024-01-01t1:00:00",
        "2024-13-45",
    ] {
        match load_err(text) {
            Error::Timestamp { value, mark: m } => {
                assert_eq!(value, text);
                assert_eq!(m, mark(1, 1));
            }
            other => panic!("{text}: unexpected {other}"),
        }
    }
    let error = load_err("spec:\n  date: 2024-01-01\n");
    assert!(
        matches!(error, Error::Timestamp { ref value, mark: m } if value == "2024-01-01" && m == mark(2, 9))
    );
    assert!(
        error
            .to_string()
            .contains("\"2024-01-01\" at line 2, column 9"),
        "{error}"
    );
    assert!(matches!(load_err("2024-01-01: x"), Error::Timestamp { .. }));
    assert!(matches!(
        load_err("a: !!timestamp '2024-01-01'"),
        Error::Timestamp { .. }
    ));
    // Not timestamps.
    for text in ["2024-1-1", "2024-01-01x", "2024-01-011"] {
        assert_eq!(load(text), json!(text), "{text}");
    }
    assert_eq!(load("'2024-01-01'"), json!("2024-01-01"));
}

#[test]
fn explicit_tags() {
    assert_eq!(load("!!str 123"), json!("123"));
    assert_eq!(load("!!str"), json!(""));
    assert_eq!(load("!!int '42'"), json!(42));
    assert_eq!(load("!!int 0o17"), json!(15));
    assert_eq!(pyjson::dumps(&load("!!float '1'")), "1.0");
    assert_eq!(pyjson::dumps(&load("!!float 1e3")), "1000.0");
    assert_eq!(load("!!bool 'on'"), json!(true));
    assert_eq!(load("!!null 'x'"), Value::Null);
    assert_eq!(
        load("a: !!str\nb: !!null\nc: !!str ~"),
        json!({"a": "", "b": null, "c": "~"})
    );
    assert_eq!(
        load("a: !!map {b: 1}\nc: !!seq [d]"),
        json!({"a": {"b": 1}, "c": ["d"]})
    );
    assert_eq!(load("a: !<tag:yaml.org,2002:int> '7'"), json!({"a": 7}));
    assert_eq!(
        load("%TAG !y! tag:yaml.org,2002:\n---\na: !y!int '7'"),
        json!({"a": 7})
    );
    assert_eq!(load("!!str {=: foo}"), json!("foo"));
    assert_eq!(load("- !!int {=: 5}"), json!([5]));
    assert_eq!(
        pyjson::dumps(&load("a: !!float 1\nc: !!int '-0x10'\nd: !!int 0b_1")),
        r#"{"a": 1.0, "c": -16, "d": 1}"#
    );
}

#[test]
fn bad_explicit_tags() {
    let error = load_err("!!int 1.5");
    assert!(
        matches!(error, Error::InvalidScalar { ref tag, ref value, .. }
            if tag == "tag:yaml.org,2002:int" && value == "1.5")
    );
    assert!(matches!(load_err("!!bool y"), Error::InvalidScalar { .. }));
    assert!(matches!(load_err("a: !!int"), Error::InvalidScalar { .. }));
    assert!(matches!(
        load_err("a: !!float"),
        Error::InvalidScalar { .. }
    ));
    for (text, message) in [
        ("!!map [1]", "expected a mapping node, but found sequence"),
        (
            "!!seq {a: 1}",
            "expected a sequence node, but found mapping",
        ),
        ("!!str [1]", "expected a scalar node, but found sequence"),
        ("!!int {a: 1}", "expected a scalar node, but found mapping"),
    ] {
        match load_err(text) {
            Error::Construct {
                message: m,
                mark: at,
            } => {
                assert_eq!(m, message, "{text}");
                assert_eq!(at, mark(1, 1), "{text}");
            }
            other => panic!("{text}: unexpected {other}"),
        }
    }
}

#[test]
fn unknown_tags_are_errors() {
    match load_err("- !foo bar") {
        Error::UnsupportedTag { tag, mark: m } => {
            assert_eq!(tag, "!foo");
            assert_eq!(m, mark(1, 3));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(matches!(load_err("a: !!python/name:os.system x"),
            Error::UnsupportedTag { ref tag, .. } if tag == "tag:yaml.org,2002:python/name:os.system"));
    // `<<` and `=` only mean something as mapping keys; PyYAML has no constructor otherwise.
    for text in ["<<", "a: <<", "a: !!merge <<", "=", "a: ="] {
        assert!(
            matches!(load_err(text), Error::UnsupportedTag { .. }),
            "{text}"
        );
    }
    assert_eq!(load("=: a"), json!({"=": "a"}));
}

#[test]
fn not_json_serializable_tags() {
    for text in [
        "!!binary aGk=",
        "a: !!binary |\n  aGk=",
        "!!set {a, b}",
        "? !!binary aGk=\n: a",
    ] {
        assert!(
            matches!(load_err(text), Error::NotJsonSerializable { .. }),
            "{text}"
        );
    }
}

#[test]
fn non_specific_tag_resolves_even_quoted_scalars() {
    // PyYAML quirk: `!` re-enables implicit resolution.
    assert_eq!(load("! 12"), json!(12));
    assert_eq!(load("! '12'"), json!(12));
    assert_eq!(load("a: ! x"), json!({"a": "x"}));
    assert_eq!(load("a: ! "), json!({"a": null}));
    assert_eq!(load("a: !\n  - 1"), json!({"a": [1]}));
}

#[test]
fn ordered_maps_and_pairs() {
    assert_eq!(load("!!omap [a: 1, 2: b]"), json!([["a", 1], [2, "b"]]));
    assert_eq!(load("!!pairs [a: 1, a: 2]"), json!([["a", 1], ["a", 2]]));
    assert_eq!(load("x: !!omap [[1]: a]"), json!({"x": [[[1], "a"]]}));
    assert!(matches!(
        load_err("!!omap [{a: 1, b: 2}]"),
        Error::Construct { .. }
    ));
    assert!(matches!(load_err("!!omap {a: 1}"), Error::Construct { .. }));
    assert!(matches!(
        load_err("!!pairs [1, 2]"),
        Error::Construct { .. }
    ));
    assert!(matches!(
        load_err("!!omap [{<<: {a: 1}}]"),
        Error::UnsupportedTag { .. }
    ));
}

#[test]
fn merge_keys() {
    assert_eq!(
        dumped("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n  z: 4"),
        r#"{"base": {"x": 1, "y": 2}, "derived": {"x": 1, "y": 3, "z": 4}}"#
    );
    // A list of merges: earlier maps win, but key order follows the last map first.
    assert_eq!(
        dumped("a: &a {x: 1}\nb: &b {y: 2, x: 3}\nc: {<<: [*a, *b], z: 0}"),
        r#"{"a": {"x": 1}, "b": {"y": 2, "x": 3}, "c": {"y": 2, "x": 1, "z": 0}}"#
    );
    // Two `<<` keys in one mapping: the later one wins.
    assert_eq!(
        dumped("a: &m {k: v}\nb:\n  <<: *m\n  <<: {k: w}"),
        r#"{"a": {"k": "v"}, "b": {"k": "w"}}"#
    );
    assert_eq!(
        dumped("a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: *a, <<: *b, x: 9}"),
        r#"{"a": {"x": 1}, "b": {"y": 2}, "c": {"x": 9, "y": 2}}"#
    );
    // Explicit keys win wherever they are, and keep the merged key's position.
    assert_eq!(
        dumped("a: {x: 2, <<: {x: 1, y: 5}}"),
        r#"{"a": {"x": 2, "y": 5}}"#
    );
    assert_eq!(dumped("a: {<<: {x: 1}, x: 2}"), r#"{"a": {"x": 2}}"#);
    assert_eq!(
        dumped("a: {<<: [{x: 1}, {x: 2}, {x: 3}]}"),
        r#"{"a": {"x": 1}}"#
    );
    // Merged maps are flattened first.
    assert_eq!(
        dumped("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: [*b, {z: 3, x: 9}], w: 4}"),
        r#"{"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {"z": 3, "x": 1, "y": 2, "w": 4}}"#
    );
    assert_eq!(
        dumped("a: &a {x: 1, <<: {q: 0}}\nb: {<<: [*a, *a]}"),
        r#"{"a": {"q": 0, "x": 1}, "b": {"q": 0, "x": 1}}"#
    );
    assert_eq!(
        dumped(
            "defaults: &d\n  a: 1\n  b: [1, 2]\nlist:\n  - <<: *d\n    c: 3\n  - <<: *d\n    a: 0\n"
        ),
        r#"{"defaults": {"a": 1, "b": [1, 2]}, "list": [{"a": 1, "b": [1, 2], "c": 3}, {"a": 0, "b": [1, 2]}]}"#
    );
    assert_eq!(dumped("a: {<<: []}"), r#"{"a": {}}"#);
    assert_eq!(dumped("&a {x: 1, <<: *a}"), r#"{"x": 1}"#);
    // A quoted `<<` is an ordinary key.
    assert_eq!(dumped("a: {'<<': 1}"), r#"{"a": {"<<": 1}}"#);
}

#[test]
fn bad_merges() {
    match load_err("a: {<<: 1}") {
        Error::Construct { message, mark: m } => {
            assert_eq!(
                message,
                "expected a mapping or list of mappings for merging, but found scalar"
            );
            assert_eq!(m, mark(1, 9));
        }
        other => panic!("unexpected {other}"),
    }
    match load_err("a: {<<: [1]}") {
        Error::Construct { message, mark: m } => {
            assert_eq!(message, "expected a mapping for merging, but found scalar");
            assert_eq!(m, mark(1, 10));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn anchors_and_aliases() {
    assert_eq!(load("a: &x 1\nb: *x"), json!({"a": 1, "b": 1}));
    assert_eq!(
        load("a: &a [1, 2]\nb: [*a, *a]"),
        json!({"a": [1, 2], "b": [[1, 2], [1, 2]]})
    );
    assert_eq!(load("a: &anch\nb: *anch"), json!({"a": null, "b": null}));
    assert_eq!(load("&k a: 1\nb: *k"), json!({"a": 1, "b": "a"}));
    assert_eq!(load("a: !!str &x 1\nb: *x"), json!({"a": "1", "b": "1"}));
    assert_eq!(load("a: &x !!str 1\nb: *x"), json!({"a": "1", "b": "1"}));
    assert_eq!(
        load("a: {<<: &c {x: 1}, y: *c}"),
        json!({"a": {"x": 1, "y": {"x": 1}}})
    );
    match load_err("a: 1\nb: *a") {
        Error::Syntax { mark: m, .. } => assert_eq!(m, mark(2, 4)),
        other => panic!("unexpected {other}"),
    }
    match load_err("- &x a\n- *x\n- &x b\n- *x") {
        Error::DuplicateAnchor { name, mark: m } => {
            assert_eq!(name, "x");
            assert_eq!(m, mark(3, 3));
        }
        other => panic!("unexpected {other}"),
    }
    // Anchors do not carry over to the next document; the same name may be reused there.
    assert!(crate::load_all("--- &a [1]\n--- *a").is_err());
    assert_eq!(
        crate::load_all("--- &a [1]\n--- &a [2]").ok(),
        Some(vec![json!([1]), json!([2])])
    );
}

#[test]
fn recursive_aliases_are_errors() {
    // json.dumps: "ValueError: Circular reference detected".
    for text in ["a: &a [*a]", "&a {x: 1, y: {<<: *a}}", "&a [{b: *a}]"] {
        assert!(
            matches!(load_err(text), Error::RecursiveAlias { .. }),
            "{text}"
        );
    }
}

#[test]
fn alias_bomb_of_long_strings_is_capped_by_bytes() {
    // Few nodes (about 4000, far below MAX_NODES), but each is a 10 kB string: 40 MB
    // from a 10 kB document.
    let long = "x".repeat(10_000);
    let mut text = format!("a: &a \"{long}\"\n");
    for (name, previous) in [("b", "a"), ("c", "b"), ("d", "c")] {
        let items = vec![format!("*{previous}"); 10].join(", ");
        text.push_str(&format!("{name}: &{name} [{items}]\n"));
    }
    text.push_str("e: [*d, *d, *d, *d]\n");
    match load_err(&text) {
        Error::TooManyBytes { limit } => assert_eq!(limit, MAX_ALIAS_BYTES),
        other => panic!("unexpected {other}"),
    }
    // The same through merge keys: a mapping with a long key merged many times.
    let mut merged = format!("base: &base\n  ? \"{long}\"\n  : 1\n");
    for i in 0..2000 {
        merged.push_str(&format!("m{i}: {{<<: *base}}\n"));
    }
    match load_err(&merged) {
        Error::TooManyBytes { .. } => {}
        other => panic!("unexpected {other}"),
    }
    // Below the cap the same shape loads: 1000 copies, 10 MB.
    let mut small = format!("a: &a \"{long}\"\n");
    for (name, previous) in [("b", "a"), ("c", "b"), ("d", "c")] {
        let items = vec![format!("*{previous}"); 10].join(", ");
        small.push_str(&format!("{name}: &{name} [{items}]\n"));
    }
    let value = load(&small);
    assert_eq!(
        value.pointer("/d/9/9/9").and_then(Value::as_str),
        Some(long.as_str())
    );
}

#[test]
fn sexagesimal_integers_are_capped_like_pythons_int_to_text_limit() {
    // 60^2500 has 4446 digits: Python builds it, then json.dumps refuses to write it.
    let long = format!("1{}", ":59".repeat(2500));
    for text in [
        format!("x: {long}"),
        format!("? {long}\n: x"),
        format!("x: !!int {long}"),
    ] {
        match load_err(&text) {
            Error::IntegerTooLong { limit, mark } => {
                assert_eq!(limit, MAX_INT_DIGITS);
                assert_eq!(mark.line, 1);
            }
            other => panic!("unexpected {other}"),
        }
    }
    // 90 kB of `:59` stops at the limit instead of multiplying a 53,000-digit number 30,000
    // times.
    let huge = format!("x: 1{}", ":59".repeat(30_000));
    assert!(matches!(load_err(&huge), Error::IntegerTooLong { .. }));
    // Up to the limit keys keep their exact decimal text, as json.dumps writes them.
    let fits = format!("? 1{}\n: x", ":00".repeat(2000));
    let value = load(&fits);
    let key = value.as_object().unwrap().keys().next().unwrap().clone();
    // Python: len(str(60**2000)) == 3557, and it starts with these digits.
    assert_eq!(key.len(), 3557);
    assert!(key.starts_with("20067846354902095384"), "{key}");
}

#[test]
fn alias_bomb_is_capped() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    match load_err(&text) {
        Error::TooManyNodes { limit } => assert_eq!(limit, MAX_NODES),
        other => panic!("unexpected {other}"),
    }
    // Below the cap the same shape loads: 10^4 leaves.
    let mut small = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..4 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        small.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let value = load(&small);
    assert_eq!(value.pointer("/a3/9/9/9/9"), Some(&json!("x")));
}

#[test]
fn merge_bomb_is_capped() {
    let mut text = String::from("m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
    for level in 1..30 {
        let previous = format!("*m{}", level - 1);
        text.push_str(&format!(
            "m{level}: &m{level} {{<<: [{previous}, {previous}, {previous}]}}\n"
        ));
    }
    assert!(matches!(load_err(&text), Error::TooManyNodes { .. }));
}

#[test]
fn depth_is_capped() {
    let depth = MAX_DEPTH + 10;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(crate::load(&text).is_err());
    // Aliases can nest deeper than the source text does.
    let mut text = String::from("a0: &a0 [x]\n");
    for level in 1..=MAX_DEPTH {
        text.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
    }
    assert!(matches!(load_err(&text), Error::TooDeep { .. }));
    // Deep but allowed.
    let depth = 200;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let mut value = load(&text);
    for _ in 1..depth {
        value = match value {
            Value::Array(mut items) if items.len() == 1 => items.remove(0),
            other => panic!("unexpected {other}"),
        };
    }
    assert_eq!(value, json!([]));
}

#[test]
fn duplicate_keys_keep_first_position_and_last_value() {
    assert_eq!(dumped("a: 1\na: 2\nb: 3\na: 4"), r#"{"a": 4, "b": 3}"#);
    assert_eq!(dumped("{b: 1, a: 2, b: 3}"), r#"{"b": 3, "a": 2}"#);
}

#[test]
fn non_string_keys_become_json_strings() {
    let cases = [
        ("1: a", r#"{"1": "a"}"#),
        ("true: x", r#"{"true": "x"}"#),
        ("yes: x", r#"{"true": "x"}"#),
        ("off: x", r#"{"false": "x"}"#),
        ("null: x", r#"{"null": "x"}"#),
        ("~: x", r#"{"null": "x"}"#),
        ("? \n: x", r#"{"null": "x"}"#),
        ("1.5: x", r#"{"1.5": "x"}"#),
        ("1.0: x", r#"{"1.0": "x"}"#),
        ("1e3: x", r#"{"1e3": "x"}"#),
        ("0x10: x", r#"{"16": "x"}"#),
        ("0755: x", r#"{"493": "x"}"#),
        ("12:30: x", r#"{"750": "x"}"#),
        (".inf: x", r#"{"Infinity": "x"}"#),
        ("-.inf: x", r#"{"-Infinity": "x"}"#),
        (".nan: x", r#"{"NaN": "x"}"#),
        ("1.0e+400: x", r#"{"Infinity": "x"}"#),
        (
            "123456789012345678901234567890: x",
            r#"{"123456789012345678901234567890": "x"}"#,
        ),
        (
            "1.5e+3: a\n0.0001: b\n1e-05: c\n100000000000000000000.0: d\n-0.0: e",
            r#"{"1500.0": "a", "0.0001": "b", "1e-05": "c", "1e+20": "d", "-0.0": "e"}"#,
        ),
        (
            "- yes: no\n- on: off",
            r#"[{"true": false}, {"true": false}]"#,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(dumped(text), expected, "{text:?}");
    }
}

#[test]
fn equal_python_keys_merge_like_a_dict() {
    // 1 == 1.0 == True and 0 == 0.0 == -0.0 == False in Python; the first key object stays.
    let cases = [
        ("{1: a, 1.0: b}", r#"{"1": "b"}"#),
        ("{1.0: a, 1: b}", r#"{"1.0": "b"}"#),
        ("{true: a, 1: b}", r#"{"true": "b"}"#),
        ("{1: a, 1.0: b, true: c}", r#"{"1": "c"}"#),
        ("{0: a, false: b, -0.0: c}", r#"{"0": "c"}"#),
        ("{False: a, 0: b, off: c, no: d}", r#"{"false": "d"}"#),
        ("{0x10: a, 16: b, 020: c}", r#"{"16": "c"}"#),
        ("{~: a, null: b}", r#"{"null": "b"}"#),
        ("{.nan: a, .NaN: b}", r#"{"NaN": "b"}"#),
        (
            "{1e+400: a, .inf: b}",
            r#"{"1e+400": "a", "Infinity": "b"}"#,
        ),
        (
            "{100000000000000000000.0: a, 100000000000000000000: b}",
            r#"{"1e+20": "b"}"#,
        ),
        (
            "{9007199254740993: a, 9007199254740992.0: b}",
            r#"{"9007199254740993": "a", "9007199254740992.0": "b"}"#,
        ),
        ("!!int '1': a\n1: b", r#"{"1": "b"}"#),
        ("{!!float '1': a, 1: b}", r#"{"1.0": "b"}"#),
    ];
    for (text, expected) in cases {
        assert_eq!(dumped(text), expected, "{text:?}");
    }
}

#[test]
fn keys_json_would_write_twice_are_errors() {
    // json.dumps writes {"1": "a", "1": "b"}; a JSON object here cannot hold that.
    match load_err("{1: a, '1': b}") {
        Error::DuplicateJsonKey { key, mark: m } => {
            assert_eq!(key, "1");
            assert_eq!(m, mark(1, 8));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(matches!(
        load_err("{null: a, 'null': b}"),
        Error::DuplicateJsonKey { .. }
    ));
    assert!(matches!(
        load_err("!!str 1: a\n1: b"),
        Error::DuplicateJsonKey { .. }
    ));
}

#[test]
fn unhashable_keys_are_errors() {
    for (text, kind, at) in [
        ("{[1]: a}", "sequence", mark(1, 2)),
        ("{{a: 1}: b}", "mapping", mark(1, 2)),
        ("? [1, 2]\n: x", "sequence", mark(1, 3)),
        ("[a, b]: c", "sequence", mark(1, 1)),
    ] {
        match load_err(text) {
            Error::UnhashableKey { kind: k, mark: m } => {
                assert_eq!(k, kind, "{text}");
                assert_eq!(m, at, "{text}");
            }
            other => panic!("{text}: unexpected {other}"),
        }
    }
    assert!(matches!(
        load_err("? !!set {a}\n: x"),
        Error::UnhashableKey { .. }
    ));
}

#[test]
fn block_and_quoted_scalars() {
    let cases = [
        ("a: |\n  line1\n  line2\n", json!({"a": "line1\nline2\n"})),
        (
            "a: >\n  folded\n  text\n\n  para\n",
            json!({"a": "folded text\npara\n"}),
        ),
        ("a: |-\n  strip\n", json!({"a": "strip"})),
        ("a: |+\n  keep\n\n", json!({"a": "keep\n\n"})),
        // At end of input without a line break, like libyaml/PyYAML.
        ("a: |\n  text", json!({"a": "text"})),
        ("a: >\n  text", json!({"a": "text"})),
        ("a: >2\n   indented\n", json!({"a": " indented\n"})),
        ("? |\n  block key\n: v", json!({"block key\n": "v"})),
        ("a: 'it''s'", json!({"a": "it's"})),
        (
            "a: \"multi\n  line\"\nb: 'x\n\n  y'",
            json!({"a": "multi line", "b": "x\ny"}),
        ),
        (
            "a: multi\n  line\n  plain",
            json!({"a": "multi line plain"}),
        ),
        ("a: \"\\x41\\t\\\\\"", json!({"a": "A\t\\"})),
        (
            "a: \"\\N\\_\\L\\P\"",
            json!({"a": "\u{85}\u{a0}\u{2028}\u{2029}"}),
        ),
        (
            "empty: ''\nnul: \"\"\nsp: ' '",
            json!({"empty": "", "nul": "", "sp": " "}),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(load(text), expected, "{text:?}");
    }
}

#[test]
fn unicode_stays_unicode() {
    assert_eq!(load("key: café"), json!({"key": "café"}));
    assert_eq!(load("'é': \"\\u00e9\""), json!({"é": "é"}));
    assert_eq!(dumped("emoji: 😀"), r#"{"emoji": "\ud83d\ude00"}"#);
    assert_eq!(
        dumped("a: \"tab\\there \\u00e9 \\U0001F600\""),
        r#"{"a": "tab\there \u00e9 \ud83d\ude00"}"#
    );
    // A byte-order mark at the start is not content.
    assert_eq!(load("\u{feff}a: 1"), json!({"a": 1}));
}

#[test]
fn multiple_documents() {
    let all = |text: &str| crate::load_all(text).ok();
    assert_eq!(all(""), Some(vec![]));
    assert_eq!(all("# c\n"), Some(vec![]));
    assert_eq!(all("---\n"), Some(vec![Value::Null]));
    assert_eq!(all("--- \n---\n"), Some(vec![Value::Null, Value::Null]));
    assert_eq!(all("---\n# c\n---\n"), Some(vec![Value::Null, Value::Null]));
    assert_eq!(all("---\n...\n"), Some(vec![Value::Null]));
    assert_eq!(
        all("a: 1\n---\nb: 2\n"),
        Some(vec![json!({"a": 1}), json!({"b": 2})])
    );
    assert_eq!(
        all("a\n---\nb\n...\n---\nc"),
        Some(vec![json!("a"), json!("b"), json!("c")])
    );
    assert_eq!(all("--- 1\n--- 2\n"), Some(vec![json!(1), json!(2)]));
    assert_eq!(
        all("a: 1\n---\n!!str 2\n---\n- x\n"),
        Some(vec![json!({"a": 1}), json!("2"), json!(["x"])])
    );
    assert_eq!(
        all("%YAML 1.1\n--- 1\n...\n%YAML 1.1\n--- 2"),
        Some(vec![json!(1), json!(2)])
    );
    assert!(matches!(
        crate::load_all("a: 1\n---\n["),
        Err(Error::Syntax { mark: m, .. }) if m.line == 3
    ));
}

#[test]
fn single_document_only() {
    assert_eq!(load("a: 1\n...\n"), json!({"a": 1}));
    assert_eq!(load("--- |\n  text\n"), json!("text\n"));
    for (text, at) in [
        ("a: 1\n--- \nb: 2", mark(2, 1)),
        ("--- \n---\n", mark(2, 1)),
        ("foo: bar\n---", mark(2, 1)),
    ] {
        match load_err(text) {
            Error::MultipleDocuments { mark: m } => assert_eq!(m, at, "{text:?}"),
            other => panic!("{text:?}: unexpected {other}"),
        }
    }
    let error = load_err("a: 1\n---\nb: 2");
    assert_eq!(
        error.to_string(),
        "expected a single document in the stream, but found another document at line 2, column 1"
    );
}

#[test]
fn invalid_yaml_reports_the_position() {
    let cases = [
        ("a: 'unterminated", mark(1, 4)),
        ("a: [1, 2", mark(1, 4)),
        ("{a: 1", mark(1, 1)),
        ("a: b: c", mark(1, 5)),
        ("key: - a", mark(1, 6)),
        ("a: b\n  c: d", mark(2, 4)),
        ("a: @b", mark(1, 4)),
        ("%b", mark(1, 3)),
    ];
    for (text, at) in cases {
        match load_err(text) {
            Error::Syntax { message, mark: m } => {
                assert_eq!(m, at, "{text:?}: {message}");
                assert!(!message.is_empty());
            }
            other => panic!("{text:?}: unexpected {other}"),
        }
    }
    let error = load_err("a: 'unterminated");
    assert_eq!(
        error.to_string(),
        "invalid YAML at line 1, column 4: unclosed quote"
    );
}

#[test]
fn kubernetes_manifest_matches_python_byte_for_byte() {
    let manifest = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: &labels {app: web, tier: 'front'}
  annotations:
    description: \"Café ☕ — 😀\"
    enabled: yes
    mode: 0644
spec:
  replicas: 3
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        ports: [{containerPort: 80}, {containerPort: 8080:80}]
        resources: {limits: {cpu: 0.5, memory: 1e3}}
        env:
        - {name: DEBUG, value: 'true'}
        - {name: LEVEL, value: on}
        - name: RATIO
          value: 1.0e-7
        - name: TIME
          value: 12:30
        command: |
          echo hi
          exit 0
";
    // Output of `json.dumps(yaml.safe_load(manifest))` with PyYAML 6.0.3 / Python 3.11.
    let python = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "annotations": {"description": "Caf\u00e9 \u2615 \u2014 \ud83d\ude00", "enabled": true, "mode": 420}}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "front"}}, "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}, {"containerPort": "8080:80"}], "resources": {"limits": {"cpu": 0.5, "memory": "1e3"}}, "env": [{"name": "DEBUG", "value": "true"}, {"name": "LEVEL", "value": true}, {"name": "RATIO", "value": 1e-07}, {"name": "TIME", "value": 750}], "command": "echo hi\nexit 0\n"}]}}}}"#;
    assert_eq!(dumped(manifest), python);
}

#[test]
fn big_int_helpers() {
    let int = |text: &str| construct_int(text).ok().map(|i| i.to_decimal());
    assert_eq!(
        int("0x_ffff_ffff_ffff_ffff_ffff").as_deref(),
        Some("1208925819614629174706175")
    );
    assert_eq!(
        int("-0b1_0000000000000000000000000000000000000000000000000000000000000000").as_deref(),
        Some("-18446744073709551616")
    );
    assert_eq!(int("1000000000:0:0").as_deref(), Some("3600000000000"));
    assert_eq!(int("-0").as_deref(), Some("0"));
    assert_eq!(int(""), None);
    assert_eq!(int("-"), None);
    assert_eq!(
        integral_float_decimal(1e20).as_deref(),
        Some("100000000000000000000")
    );
    assert_eq!(
        integral_float_decimal(-2f64.powi(70)).as_deref(),
        Some("-1180591620717411303424")
    );
    assert_eq!(integral_float_decimal(-0.0).as_deref(), Some("0"));
    assert_eq!(
        integral_float_decimal(9007199254740990.0).as_deref(),
        Some("9007199254740990")
    );
    assert_eq!(
        integral_float_decimal(9.5e18).as_deref(),
        Some("9500000000000000000")
    );
    assert_eq!(integral_float_decimal(f64::MAX).map(|d| d.len()), Some(309));
    assert_eq!(integral_float_decimal(0.5), None);
}

#[test]
fn bool_and_null_words_are_exactly_pyyaml_s() {
    for word in ["yes", "NO", "True", "off", "On"] {
        assert!(is_bool_word(word), "{word}");
    }
    for near in ["yES", "tRUE", "y", "n", " yes", "yes ", "yes\n", "onn", ""] {
        assert!(!is_bool_word(near), "{near:?}");
    }
    for word in ["~", "null", "Null", "NULL", ""] {
        assert!(is_null_word(word), "{word:?}");
    }
    for near in ["nULL", "nil", "None", "~~", " null", "null\n"] {
        assert!(!is_null_word(near), "{near:?}");
    }
}
