//! Tests of `response.rs.rs`.

use super::*;

#[test]
fn envelopes_match_the_spec_examples() {
    let body = envelope("async", 202, None, Some("42"));
    assert_eq!(
        serde_json::to_string(&body).unwrap_or_default(),
        r#"{"type":"async","status-code":202,"status":"Accepted","change":"42"}"#
    );
    let err = ApiError::not_found("cannot find change with id \"99\"");
    assert_eq!(
        serde_json::to_string(&error_envelope(&err)).unwrap_or_default(),
        r#"{"type":"error","status-code":404,"status":"Not Found","result":{"message":"cannot find change with id \"99\""}}"#
    );
    let err = ApiError::bad_request("no default services").kind("no-default-services");
    assert_eq!(
        error_envelope(&err)["result"]["kind"],
        "no-default-services"
    );
}
