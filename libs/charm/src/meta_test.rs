//! Tests of `meta.rs`.

use super::*;

#[test]
fn parses_endpoints_and_keeps_the_rest() {
    let meta = Metadata::from_json(
        r#"{"name": "x", "subordinate": true, "requires": {"db": {"interface": "pg", "limit": 1}},
            "provides": {"web": {"interface": "http"}}, "peers": {"cluster": {"interface": "x-peers"}},
            "assumes": ["k8s-api"]}"#,
    )
    .unwrap();
    assert!(meta.subordinate);
    assert_eq!(
        meta.endpoint("db").map(|(r, e)| (r, e.limit)),
        Some((Role::Requires, Some(1)))
    );
    assert_eq!(meta.endpoint("web").map(|(r, _)| r), Some(Role::Provides));
    assert!(meta.is_peer("cluster"));
    assert!(!meta.is_peer("db"));
    assert!(meta.endpoint("nope").is_none());
    assert!(meta.other.contains_key("assumes"));
    assert_eq!(
        meta.endpoint("cluster").map(|(r, _)| r.to_string()),
        Some("peers".into())
    );
    // YAML is not what a charm embeds: a clear error, not metadata.
    assert!(Metadata::from_json("name: x").is_err());
    assert!(Metadata::from_json(r#"{"name": "x", "requires": {"db": {"limit": 1}}}"#).is_err());
}

#[test]
fn config_defaults() {
    let config: ConfigMeta = serde_json::from_str(
        r#"{"options": {"a": {"type": "string", "default": "x"}, "b": {"type": "int"},
            "c": {"type": "boolean", "default": false}}}"#,
    )
    .unwrap();
    let d = config.defaults();
    assert_eq!(d.get("a"), Some(&serde_json::json!("x")));
    assert_eq!(d.get("b"), None);
    assert_eq!(d.get("c"), Some(&serde_json::json!(false)));
}
