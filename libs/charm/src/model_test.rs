//! Tests of `model.rs`.

use super::*;

#[test]
fn result_keys() {
    for good in ["a", "ab", "a.b", "x-y.z1", "0"] {
        assert!(valid_result_key(good), "{good}");
    }
    for bad in [
        "",
        "A",
        "-a",
        "a-",
        "a..b",
        "stdout",
        "stderr-encoding",
        "a_b",
        "a b",
    ] {
        assert!(!valid_result_key(bad), "{bad}");
    }
}

#[test]
fn flattening() {
    let mut out = BTreeMap::new();
    flatten(
        "",
        &serde_json::json!({"a": {"b": "x", "c": 2}, "d": true, "e": ["1"]}),
        &mut out,
    );
    let expected: BTreeMap<String, String> =
        [("a.b", "x"), ("a.c", "2"), ("d", "true"), ("e", "[\"1\"]")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(out, expected);
}
