//! JSON Schemas of the bags and the secret, generated from the Rust types and checked into
//! `schemas/` (`UPDATE_SCHEMAS=1` rewrites them); the Python fixtures use only declared keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use filesystem_info::wire::{AuthSecret, PeerAppBag, ProviderAppBag, RequirerBag};
use filesystem_info_contract::*;
use interface_tests_common::check_schema;

fn properties(schema: &serde_json::Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

const PROVIDERS: [&str; 7] = [
    PY_NFS,
    PY_NFS_IPV6,
    PY_NFS_NO_PORT,
    PY_CEPHFS,
    PY_CEPHFS_ROTATED,
    PY_LUSTRE,
    REACTIVE_PLAIN,
];

#[test]
fn provider_schemas() {
    let app =
        check_schema::<ProviderAppBag>("interface-tests/filesystem_info/schemas/provider.json")
            .unwrap();
    assert_eq!(properties(&app), ["endpoint"]);
    assert_eq!(app["properties"]["endpoint"]["type"], "string");
    let peer =
        check_schema::<PeerAppBag>("interface-tests/filesystem_info/schemas/peer.json").unwrap();
    assert_eq!(properties(&peer), ["endpoint"]);
    for text in PROVIDERS {
        let py = fixture(text);
        assert!(py.app.keys().all(|k| properties(&app).contains(k)));
        assert!(py.peer.keys().all(|k| properties(&peer).contains(k)));
        // The pattern the schema gives holds for every Python URI.
        assert!(
            ["nfs://", "cephfs://", "lustre://"]
                .iter()
                .any(|s| py.app["endpoint"].starts_with(s))
        );
    }
    assert_eq!(
        app["properties"]["endpoint"]["pattern"],
        "^(nfs|cephfs|lustre)://"
    );
}

#[test]
fn requirer_schema_allows_nothing() {
    let schema =
        check_schema::<RequirerBag>("interface-tests/filesystem_info/schemas/requirer.json")
            .unwrap();
    assert!(properties(&schema).is_empty());
    assert_eq!(schema["additionalProperties"], false);
    let py = fixture(PY_REQUIRER);
    assert!(py.app.is_empty() && py.unit.is_empty());
}

#[test]
fn auth_secret_schema() {
    let schema =
        check_schema::<AuthSecret>("interface-tests/filesystem_info/schemas/auth-secret.json")
            .unwrap();
    assert_eq!(properties(&schema), ["key"]);
    for text in [PY_CEPHFS, PY_CEPHFS_ROTATED] {
        for content in fixture(text).secret.unwrap().revisions.values() {
            assert!(
                content
                    .iter()
                    .all(|(k, _)| properties(&schema).iter().any(|p| p == k))
            );
        }
    }
}
