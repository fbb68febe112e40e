//! JSON text exactly as Python's `json.dumps` writes it with default arguments.
//!
//! Python charm libraries often put `json.dumps(obj)` output on the wire (relation databags,
//! Kubernetes manifests, ...). To produce byte-identical text, [`dumps`] follows the defaults of
//! `json.dumps`: separators `", "` and `": "`, `ensure_ascii=True` (every non-ASCII character
//! becomes `\uXXXX`, astral characters a surrogate pair, lowercase hex), floats written as Python's
//! `repr(float)`, object members in insertion order (this workspace enables serde_json's
//! `preserve_order`).
//!
//! ```
//! let value = serde_json::json!({"name": "Café", "ratio": 1e-7, "tags": ["a", "b"]});
//! assert_eq!(
//!     pyjson::dumps(&value),
//!     r#"{"name": "Caf\u00e9", "ratio": 1e-07, "tags": ["a", "b"]}"#
//! );
//! ```

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
mod tests;
