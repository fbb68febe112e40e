use super::*;
use serde_json::json;

fn float(f: f64) -> String {
    dumps(&json!(f))
}

#[test]
fn scalars() {
    assert_eq!(dumps(&Value::Null), "null");
    assert_eq!(dumps(&json!(true)), "true");
    assert_eq!(dumps(&json!(false)), "false");
    assert_eq!(dumps(&json!(0)), "0");
    assert_eq!(dumps(&json!(-42)), "-42");
    assert_eq!(dumps(&json!(i64::MIN)), "-9223372036854775808");
    assert_eq!(dumps(&json!(u64::MAX)), "18446744073709551615");
    assert_eq!(dumps(&json!("")), "\"\"");
}

#[test]
fn separators_and_nesting() {
    let value = json!({"a": [1, 2, {"b": null}], "c": {}, "d": [], "e": {"f": "g"}});
    assert_eq!(
        dumps(&value),
        r#"{"a": [1, 2, {"b": null}], "c": {}, "d": [], "e": {"f": "g"}}"#
    );
    assert_eq!(dumps(&json!([[], [[]], {}])), "[[], [[]], {}]");
}

#[test]
fn insertion_order_is_kept() {
    let mut map = serde_json::Map::new();
    map.insert("z".into(), json!(1));
    map.insert("a".into(), json!(2));
    map.insert("m".into(), json!(3));
    map.insert("z".into(), json!(4)); // replacing keeps the first position
    assert_eq!(dumps(&Value::Object(map)), r#"{"z": 4, "a": 2, "m": 3}"#);
}

#[test]
fn ensure_ascii_escapes() {
    // Verified against Python 3.11 json.dumps.
    assert_eq!(dumps(&json!("é")), r#""\u00e9""#);
    assert_eq!(dumps(&json!("日本")), r#""\u65e5\u672c""#);
    assert_eq!(dumps(&json!("😀")), r#""\ud83d\ude00""#);
    assert_eq!(dumps(&json!("\u{10FFFF}")), r#""\udbff\udfff""#);
    assert_eq!(
        dumps(&json!("\u{7f}\u{80}\u{ff}")),
        r#""\u007f\u0080\u00ff""#
    );
    assert_eq!(dumps(&json!("\u{2028}")), r#""\u2028""#);
}

#[test]
fn control_characters_and_quotes() {
    assert_eq!(
        dumps(&json!("a\nb\rc\td\u{8}e\u{c}f")),
        r#""a\nb\rc\td\be\ff""#
    );
    assert_eq!(dumps(&json!("\u{0}\u{1}\u{1f}")), r#""\u0000\u0001\u001f""#);
    assert_eq!(dumps(&json!("say \"hi\" \\ /")), r#""say \"hi\" \\ /""#);
    assert_eq!(dumps(&json!({"k\n": "é"})), r#"{"k\n": "\u00e9"}"#);
}

#[test]
fn floats_like_python_repr() {
    // Each expectation is Python 3.11's json.dumps(float).
    assert_eq!(float(1.0), "1.0");
    assert_eq!(float(-1.0), "-1.0");
    assert_eq!(float(0.0), "0.0");
    assert_eq!(float(-0.0), "-0.0");
    assert_eq!(float(0.1), "0.1");
    assert_eq!(float(1.5), "1.5");
    assert_eq!(float(100.0), "100.0");
    assert_eq!(float(123456789.0), "123456789.0");
    assert_eq!(float(1e15), "1000000000000000.0");
    assert_eq!(float(9999999999999998.0), "9999999999999998.0");
    assert_eq!(float(1e16), "1e+16");
    assert_eq!(float(1.5e16), "1.5e+16");
    assert_eq!(float(1e22), "1e+22");
    assert_eq!(float(1e100), "1e+100");
    assert_eq!(float(0.0001), "0.0001");
    assert_eq!(float(0.00012345), "0.00012345");
    assert_eq!(float(1e-05), "1e-05");
    assert_eq!(float(1.5e-07), "1.5e-07");
    assert_eq!(float(-2.5e-10), "-2.5e-10");
    assert_eq!(float(5e-324), "5e-324");
    assert_eq!(float(1.7976931348623157e308), "1.7976931348623157e+308");
    assert_eq!(float(0.30000000000000004), "0.30000000000000004");
    assert_eq!(float(1.0 / 3.0), "0.3333333333333333");
    assert_eq!(float(2.0 / 3.0 * 1e20), "6.666666666666666e+19");
    assert_eq!(float(1234.5678), "1234.5678");
    // Several 17-digit strings round-trip; Python writes the one closest to the exact value.
    assert_eq!(float(1371010358211522.2), "1371010358211522.2");
    assert_eq!(float(-1425502010969177.2), "-1425502010969177.2");
    assert_eq!(float(19657848128154.812), "19657848128154.812");
}

#[test]
fn float_repr_of_non_finite() {
    assert_eq!(float_repr(f64::INFINITY), "inf");
    assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
    assert_eq!(float_repr(f64::NAN), "nan");
}

#[test]
fn mixed_document() {
    let value = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"ratio": 0.5, "count": 3, "name": "café"},
        "list": [true, null, 1e-7]
    });
    assert_eq!(
        dumps(&value),
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "data": {"ratio": 0.5, "count": 3, "name": "caf\u00e9"}, "list": [true, null, 1e-07]}"#
    );
}
