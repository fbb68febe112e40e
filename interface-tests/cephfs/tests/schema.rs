//! JSON Schemas of both sides, generated from the Rust bag types and checked into `schemas/`
//! (`UPDATE_SCHEMAS=1` rewrites them); the Python fixtures only use keys the schemas declare.

use cephfs_contract::*;
use cephfs_interfaces::wire::{AuthInfo, ProviderAppBag, RequirerAppBag, UnitBag};
use interface_tests_common::check_schema;

fn properties(schema: &serde_json::Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn requirer_schema() {
    let app =
        check_schema::<RequirerAppBag>("interface-tests/cephfs/schemas/requirer.json").unwrap();
    assert_eq!(properties(&app), ["name"]);
    let py = fixture(PY_REQUIRER);
    assert!(py.app.keys().all(|k| properties(&app).contains(k)));
}

#[test]
fn provider_schema() {
    let app =
        check_schema::<ProviderAppBag>("interface-tests/cephfs/schemas/provider.json").unwrap();
    assert_eq!(
        properties(&app),
        ["share_info", "auth", "auth-rev", "cache"]
    );
    assert_eq!(app["properties"]["share_info"]["type"], "string");
    assert_eq!(app["properties"]["auth-rev"]["type"], "string");
    assert!(app["required"].as_array().is_none_or(|r| r.is_empty()));
    for text in [PY_PROVIDER_SECRET, PY_PROVIDER_ROTATED, PY_PROVIDER_PLAIN] {
        let py = fixture(text);
        assert!(py.app.keys().all(|k| properties(&app).contains(k)));
    }
}

#[test]
fn unit_bag_schema() {
    let unit = check_schema::<UnitBag>("interface-tests/cephfs/schemas/unit.json").unwrap();
    assert_eq!(properties(&unit), ["cache"]);
    for text in [PY_PROVIDER_SECRET, PY_REQUIRER] {
        assert!(
            fixture(text)
                .unit
                .keys()
                .all(|k| properties(&unit).contains(k))
        );
    }
}

#[test]
fn auth_secret_schema() {
    let secret =
        check_schema::<AuthInfo>("interface-tests/cephfs/schemas/auth-secret.json").unwrap();
    assert_eq!(properties(&secret), ["username", "key"]);
    let py = fixture(PY_PROVIDER_SECRET);
    let content = py
        .secret
        .map(|s| s.revisions[&1].clone())
        .unwrap_or_default();
    assert!(
        content
            .iter()
            .all(|(k, _)| properties(&secret).iter().any(|p| p == k))
    );
}
