//! Tests of `meta.rs`.

use super::*;

#[test]
fn parses_endpoints_and_keeps_the_rest() {
    let meta = Metadata::parse(
            "name: x\nsubordinate: true\nrequires:\n  db: {interface: pg, limit: 1}\nprovides:\n  web: {interface: http}\npeers:\n  cluster: {interface: x-peers}\ncontainers:\n  c: {resource: img}\n",
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
    assert!(meta.other.contains_key("containers"));
    assert!(Metadata::parse("name: [").is_err());
}

#[test]
fn config_defaults() {
    let config = ConfigMeta::parse(
            "options:\n  a: {type: string, default: x}\n  b: {type: int}\n  c: {type: boolean, default: false}\n",
        )
        .unwrap();
    let d = config.defaults();
    assert_eq!(d.get("a"), Some(&serde_json::json!("x")));
    assert_eq!(d.get("b"), None);
    assert_eq!(d.get("c"), Some(&serde_json::json!(false)));
}
