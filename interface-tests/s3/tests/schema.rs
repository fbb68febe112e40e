//! JSON Schemas generated from the bag types, checked in under `schemas/`, and compared with the
//! published charm-relation-interfaces `s3/v0` schemas (field names and required fields).

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use interface_tests_common::check_schema;
use s3::{S3ConnectionInfo, S3Request};
use std::collections::BTreeSet;

/// `interfaces/s3/v0/schemas/provider.json` (charm-relation-interfaces): its property names.
const PUBLISHED_PROVIDER_PROPERTIES: [&str; 11] = [
    "bucket",
    "access-key",
    "secret-key",
    "path",
    "endpoint",
    "region",
    "s3-uri-style",
    "storage-class",
    "tls-ca-chain",
    "s3-api-version",
    "attributes",
];
/// ... and its required list.
const PUBLISHED_PROVIDER_REQUIRED: [&str; 3] = ["bucket", "access-key", "secret-key"];
/// Keys the library sends that the published schema leaves to `additionalProperties: true`.
const UNPUBLISHED_PROVIDER_PROPERTIES: [&str; 1] = ["delete-older-than-days"];
/// Fields the published schema types as arrays (lists) or an integer, though the library sends
/// text: JSON text for the lists, a plain string for the version. We follow the library.
const TEXT_ON_THE_WIRE: [&str; 3] = ["tls-ca-chain", "attributes", "s3-api-version"];

/// `interfaces/s3/v0/schemas/requirer.json`: property names and required list.
const PUBLISHED_REQUIRER_PROPERTIES: [&str; 1] = ["bucket"];
const PUBLISHED_REQUIRER_REQUIRED: [&str; 1] = ["bucket"];
/// What s3 v1 adds to the requirer bag's request (its other keys are the library's own).
const V1_REQUIRER_PROPERTIES: [&str; 1] = ["path"];
/// Required in the published v0 schemas, optional here: a v1 requirer may ask for no bucket and
/// a v1 provider may send none (interfaces-current 1.2, 1.3), so neither side may insist.
const OPTIONAL_IN_V1: &str = "bucket";

fn names(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn required(schema: &serde_json::Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The JSON type(s) a property allows, e.g. `["string"]` or `["null", "string"]`.
fn types(schema: &serde_json::Value, property: &str) -> BTreeSet<String> {
    match &schema["properties"][property]["type"] {
        serde_json::Value::String(t) => set(&[t]),
        serde_json::Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn provider_schema_matches_the_checked_in_copy_and_the_published_fields() {
    let schema = check_schema::<S3ConnectionInfo>("interface-tests/s3/schemas/provider.json")
        .unwrap_or_else(|e| panic!("{e}"));
    let ours = names(&schema["properties"]);
    let mut expected = set(&PUBLISHED_PROVIDER_PROPERTIES);
    expected.extend(set(&UNPUBLISHED_PROVIDER_PROPERTIES));
    assert_eq!(ours, expected);
    let mut published_required = set(&PUBLISHED_PROVIDER_REQUIRED);
    published_required.remove(OPTIONAL_IN_V1);
    assert_eq!(required(&schema), published_required);
    // Additional keys (the `data` cache, future ones) stay allowed, as in the published schema.
    assert_ne!(
        schema.get("additionalProperties"),
        Some(&serde_json::Value::Bool(false))
    );
    assert!(
        !ours.contains("data"),
        "the diff cache is library-internal, not contract"
    );
    for property in ours {
        assert!(
            types(&schema, &property).contains("string"),
            "{property} must be text on the wire"
        );
    }
    for property in TEXT_ON_THE_WIRE {
        assert!(!types(&schema, property).contains("array"), "{property}");
        assert!(!types(&schema, property).contains("integer"), "{property}");
    }
}

#[test]
fn requirer_schema_matches_the_checked_in_copy_and_the_published_fields() {
    let schema = check_schema::<S3Request>("interface-tests/s3/schemas/requirer.json")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut properties = set(&PUBLISHED_REQUIRER_PROPERTIES);
    properties.extend(set(&V1_REQUIRER_PROPERTIES));
    assert_eq!(names(&schema["properties"]), properties);
    let mut published_required = set(&PUBLISHED_REQUIRER_REQUIRED);
    published_required.remove(OPTIONAL_IN_V1);
    assert_eq!(required(&schema), published_required);
    assert_eq!(types(&schema, "bucket"), set(&["string"]));
}
