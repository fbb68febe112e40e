//! JSON text exactly as Python's `json.dumps` writes it with default arguments.
//!
//! Python charm libraries often put `json.dumps(obj)` output on the wire (relation databags,
//! Kubernetes manifests, ...). To produce byte-identical text, [`dumps`] follows the defaults of
//! `json.dumps`: separators `", "` and `": "`, `ensure_ascii=True` (every non-ASCII character
//! becomes `\uXXXX`, astral characters a surrogate pair, lowercase hex), floats written as Python's
//! `repr(float)`, object members in insertion order (this workspace enables serde_json's
//! `preserve_order`).

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Encodes `value` as Python's `json.dumps(value)` does with default arguments.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&float_repr(f));
    } else {
        // Only reachable with serde_json's `arbitrary_precision`: keep the digits as written.
        let _ = write!(out, "{n}");
    }
}

/// Writes `s` as a JSON string the way Python's `json.dumps` does with `ensure_ascii=True`.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Formats `f` as Python's `repr(float)`: the shortest digits that round-trip, in positional
/// notation with at least one fractional digit (`1.0`, `0.0001`, `123456789.0`) when the decimal
/// exponent is in `-4..16`, otherwise in exponent notation with a signed, at-least-two-digit
/// exponent (`1e+16`, `1e-05`, `1.5e-07`). Non-finite values give `inf`, `-inf` and `nan`, as
/// `repr` does (`json.dumps` would write `Infinity`/`NaN`, which are not JSON).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, e.g. "-1.2345e-7". When several
    // strings of that length round-trip, Python picks the one closest to the exact binary value,
    // which Rust's shortest mode does not always do (e.g. 1371010358211522.2 vs ...3). The
    // correctly rounded string of the same length is that closest one whenever it round-trips.
    let shortest = format!("{f:e}");
    let length = shortest
        .split('e')
        .next()
        .map_or(0, |m| m.chars().filter(char::is_ascii_digit).count());
    let closest = format!("{:.*e}", length.saturating_sub(1), f);
    let scientific = if closest.parse::<f64>().is_ok_and(|c| c == f) {
        closest
    } else {
        shortest
    };
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(digits.len().min(1));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    } else if exponent >= 0 {
        let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            let (int_part, frac_part) = digits.split_at(int_len);
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac_part);
        }
    } else {
        out.push_str("0.");
        let zeros = usize::try_from(-exponent - 1).unwrap_or(0);
        out.extend(std::iter::repeat_n('0', zeros));
        out.push_str(&digits);
    }
    out
}

#[cfg(test)]
mod tests {
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
}
