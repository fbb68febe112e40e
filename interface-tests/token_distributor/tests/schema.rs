//! JSON Schemas of both sides, generated from the wire types and checked into `schemas/`
//! (`UPDATE_SCHEMAS=1` rewrites them); the Python fixtures are checked against them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::check_schema;
use serde_json::Value;
use token_distributor::{ConsumerUnitBag, ProviderAppBag, ProviderUnitBag};

const FIXTURES: &str = include_str!("../fixtures/libpatch2.json");

fn schemas() -> (Value, Value, Value) {
    let consumer = check_schema::<ConsumerUnitBag>(
        "interface-tests/token_distributor/schemas/consumer-unit.json",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let provider = check_schema::<ProviderUnitBag>(
        "interface-tests/token_distributor/schemas/provider-unit.json",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let app = check_schema::<ProviderAppBag>(
        "interface-tests/token_distributor/schemas/provider-app.json",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (consumer, provider, app)
}

/// The subset of JSON Schema these schemas use: properties (string, enum), patternProperties
/// (`^mirror-.+$`), no other keys allowed to carry meaning. Returns what does not fit.
fn violations(schema: &Value, bag: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
    for (key, value) in bag {
        if key == "about" {
            continue;
        }
        let Some(text) = value.as_str() else {
            out.push(format!("{key}: not a string"));
            continue;
        };
        if let Some(p) = props.get(key) {
            // `mirror` refers to the MirrorFlag definition (an enum), possibly through anyOf/$ref.
            let mut allowed: Vec<String> = Vec::new();
            let mut stack = vec![p.clone()];
            while let Some(s) = stack.pop() {
                if let Some(r) = s["$ref"].as_str() {
                    let name = r.rsplit('/').next().unwrap();
                    stack.push(defs[name].clone());
                }
                for k in ["anyOf", "oneOf"] {
                    if let Some(arr) = s[k].as_array() {
                        stack.extend(arr.iter().cloned());
                    }
                }
                if let Some(e) = s["enum"].as_array() {
                    allowed.extend(e.iter().filter_map(|v| v.as_str().map(str::to_string)));
                }
                if let Some(c) = s["const"].as_str() {
                    allowed.push(c.to_string());
                }
            }
            if !allowed.is_empty() && !allowed.iter().any(|a| a == text) {
                out.push(format!("{key}: {text:?} not in {allowed:?}"));
            }
        } else if key.starts_with("mirror-") && key.len() > "mirror-".len() {
            assert!(schema["patternProperties"]["^mirror-.+$"].is_object());
        } else {
            out.push(format!("{key}: not declared"));
        }
    }
    out
}

#[test]
fn schemas_match_the_types() {
    let (consumer, provider, app) = schemas();
    assert_eq!(consumer["properties"]["hostname"]["type"], "string");
    assert!(consumer["properties"]["hostname"]["pattern"].is_string());
    assert!(consumer.get("required").is_none(), "every key is optional");
    assert!(consumer["patternProperties"]["^mirror-.+$"].is_object());
    assert!(provider["properties"].get("hostname").is_none());
    assert!(app["properties"]["bootstrap-app"].is_object());
}

#[test]
fn python_fixtures_fit_the_schemas() {
    let (consumer, provider, _) = schemas();
    let f: Value = serde_json::from_str(FIXTURES).unwrap();
    for n in ["0", "1", "2"] {
        let bag = f["consumer_units"][n].as_object().unwrap();
        assert_eq!(
            violations(&consumer, bag),
            Vec::<String>::new(),
            "consumer unit {n}"
        );
    }
    for n in ["0", "1"] {
        let bag = f["provider_units"][n].as_object().unwrap();
        assert_eq!(
            violations(&provider, bag),
            Vec::<String>::new(),
            "provider unit {n}"
        );
    }
    for key in ["provider_leader_after", "provider_placeholders_only"] {
        assert_eq!(
            violations(&provider, f[key].as_object().unwrap()),
            Vec::<String>::new()
        );
    }
    // And the checker does catch what does not fit.
    let bad: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"mirror": "sideways", "token": "x"}"#).unwrap();
    assert_eq!(violations(&provider, &bad).len(), 2);
}
