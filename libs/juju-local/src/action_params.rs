//! Action parameters: `key=value` arguments parsed as YAML scalars (dotted keys nest), checked
//! against the action's schema in `actions.yaml` as Juju does before it dispatches, and
//! defaulted; and the nesting of dotted `action-set` results.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::meta::ActionSpec;

/// Sets a nested value in `root` at the dotted `key`.
pub fn set_dotted(root: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = root;
    for p in parts {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(serde_json::Map::new());
        }
        let Value::Object(m) = entry else { return };
        cur = m;
    }
    cur.insert(last.to_string(), value);
}

/// Parses an action parameter given as `key=value` (YAML scalar semantics, dotted keys nest).
pub fn parse_param_value(s: &str) -> Value {
    crate::yaml::from_str::<Value>(s)
        .ok()
        .filter(|v| !v.is_null() || s.trim() == "null" || s.trim() == "~")
        .unwrap_or_else(|| Value::String(s.to_string()))
}

fn json_type_ok(kind: &str, v: &Value) -> bool {
    match kind {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

/// Validates action params against the action's schema and fills in defaults.
pub fn validate_params(
    spec: &ActionSpec,
    mut params: serde_json::Map<String, Value>,
) -> Result<Value> {
    for r in &spec.required {
        if !params.contains_key(r) {
            return Err(Error::Invalid(format!(
                "validation failed: (root) : \"{r}\" property is missing and required"
            )));
        }
    }
    for (k, v) in &params {
        match spec.params.get(k) {
            None if !spec.additional_properties => {
                return Err(Error::Invalid(format!(
                    "validation failed: (root) : additional property \"{k}\" is not allowed"
                )));
            }
            None => {}
            Some(schema) => {
                let kinds: Vec<String> = match schema.get("type") {
                    Some(Value::String(t)) => vec![t.clone()],
                    Some(Value::Array(ts)) => ts
                        .iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                if !kinds.is_empty() && !kinds.iter().any(|t| json_type_ok(t, v)) {
                    return Err(Error::Invalid(format!(
                        "validation failed: (root).{k} : must be of type {}, given {v}",
                        kinds.join(" or ")
                    )));
                }
                if let Some(Value::Array(allowed)) = schema.get("enum")
                    && !allowed.contains(v)
                {
                    return Err(Error::Invalid(format!(
                        "validation failed: (root).{k} : must be one of {}",
                        Value::Array(allowed.clone())
                    )));
                }
            }
        }
    }
    for (k, schema) in &spec.params {
        if !params.contains_key(k)
            && let Some(d) = schema.get("default")
        {
            params.insert(k.clone(), d.clone());
        }
    }
    Ok(Value::Object(params))
}
