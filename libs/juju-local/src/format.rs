//! Output formatters of Juju's `cmd.Output`: `smart`, `yaml` and `json`.

use serde_json::Value;

/// Renders `value` in `format` the way Juju's hook tools print Go maps: keys sorted, newline-terminated.
pub fn render(format: &str, value: &Value) -> String {
    render_ordered(format, &sorted(value))
}

/// Recursively sorts object keys (Go marshals maps with sorted keys).
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                if let Some(v) = m.get(k) {
                    out.insert(k.clone(), sorted(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Renders `value` keeping its key order (for Go structs, whose fields keep declaration order).
pub fn render_ordered(format: &str, value: &Value) -> String {
    let mut s = match format {
        "json" => go_json(value),
        "yaml" => yaml(value),
        _ => smart(value),
    };
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn yaml(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => "{}\n".into(),
        Value::Array(a) if a.is_empty() => "[]\n".into(),
        _ => crate::yaml::to_string(value).unwrap_or_else(|e| format!("{e}\n")),
    }
}

/// Juju's "smart" format: strings verbatim, bools as True/False, string lists one per line, the rest YAML.
fn smart(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        other => yaml(other),
    }
}

/// Serialises JSON the way Go's `encoding/json` does: `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub fn go_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let s = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    if !s.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats() {
        assert_eq!(render("smart", &json!(true)), "True\n");
        assert_eq!(render("json", &json!(true)), "true\n");
        assert_eq!(render("smart", &json!(null)), "");
        assert_eq!(render("json", &json!(null)), "null\n");
        assert_eq!(render("smart", &json!(["a/0", "a/1"])), "a/0\na/1\n");
        assert_eq!(
            render("json", &json!({"b": "1", "a": "<"})),
            "{\"a\":\"\\u003c\",\"b\":\"1\"}\n"
        );
        assert_eq!(render("smart", &json!({})), "{}\n");
        assert!(render("yaml", &json!({"k": "v"})).contains("k: v"));
        assert_eq!(go_json(&"<a&b>"), "\"\\u003ca\\u0026b\\u003e\"");
    }
}
