//! Tests of `secret.rs`.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

#[test]
fn key_rule_matches_juju() {
    for good in [
        "abc",
        "a-b-c",
        "key",
        "manifests",
        "access-key",
        "a1b",
        "a-1-2",
    ] {
        assert!(valid_key(good), "{good}");
    }
    for bad in [
        "", "ab", "Abc", "1ab", "a--b", "ab-", "-ab", "a_bc", "a b", "a-b",
    ] {
        assert!(!valid_key(bad), "{bad}");
    }
    let content = SecretContent::new().with("good-key", "v").with("Bad", "v");
    assert_eq!(content.validate(), Err(InvalidSecretKey("Bad".into())));
}

#[test]
fn debug_never_shows_values() {
    let content = SecretContent::new().with("password", "hunter2");
    let shown = format!("{content:?}");
    assert!(shown.contains("password"));
    assert!(!shown.contains("hunter2"));
    let new = NewSecret {
        content,
        ..Default::default()
    };
    assert!(!format!("{new:?}").contains("hunter2"));
}

#[test]
fn secret_ids_accept_only_the_forms_juju_produces() {
    let xid = "d1k3m8fbo5jc738pq1ig";
    let uuid = "4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b";
    for (text, unique, model) in [
        (format!("secret:{xid}"), xid, None),
        (xid.to_string(), xid, None),
        (format!("secret://{uuid}/{xid}"), xid, Some(uuid)),
    ] {
        let id = SecretId::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(id.unique(), unique);
        assert_eq!(id.model_uuid(), model);
        assert_eq!(SecretId::parse(&id.uri()).ok(), Some(id.clone()));
    }
    assert_eq!(
        SecretId::parse(xid).map(|i| i.uri()).ok(),
        Some(format!("secret:{xid}"))
    );
    for bad in [
        "",
        "secret:",
        "--output=/tmp/x",
        "-o",
        "secret:--output=/tmp/x",
        "secret:d1k3m8fbo5jc738pq1i",   // 19 characters
        "secret:d1k3m8fbo5jc738pq1igx", // 21
        "secret:D1K3M8FBO5JC738PQ1IG",  // upper case
        "secret:d1k3m8fbo5jc738pq1iw",  // 'w' is not base32hex
        "secret:d1k3m8fbo5jc738pq1i ",
        "secret://d1k3m8fbo5jc738pq1ig",
        "secret://not-a-uuid/d1k3m8fbo5jc738pq1ig",
        "secret://4F2B8A9C-1D2E-4F60-8A7B-0C1D2E3F4A5B/d1k3m8fbo5jc738pq1ig",
        "secret://4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b/d1k3m8fbo5jc738pq1ig/x",
        " secret:d1k3m8fbo5jc738pq1ig",
        "other:d1k3m8fbo5jc738pq1ig",
    ] {
        assert!(SecretId::parse(bad).is_err(), "{bad:?} was accepted");
    }
    let err = SecretId::parse("--output=/tmp/x").unwrap_err();
    assert_eq!(err.why, "it starts with '-'");
    assert!(
        err.to_string()
            .starts_with("\"--output=/tmp/x\" is not a Juju secret id")
    );
    // A huge value is shown shortened.
    let err = SecretId::parse(&"x".repeat(100_000)).unwrap_err();
    assert!(err.to_string().len() < 300, "{err}");
}

#[test]
fn secret_ids_in_serde_are_validated() {
    let id: SecretId = serde_json::from_str("\"secret:d1k3m8fbo5jc738pq1ig\"").unwrap();
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        "\"secret:d1k3m8fbo5jc738pq1ig\""
    );
    let err = serde_json::from_str::<SecretId>("\"-o\"").unwrap_err();
    assert!(err.to_string().contains("is not a Juju secret id"), "{err}");
    let a = SecretId::parse("secret:d1k3m8fbo5jc738pq1ig").unwrap();
    let b = SecretId::parse("secret://4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b/d1k3m8fbo5jc738pq1ig")
        .unwrap();
    assert!(a.same_secret(&b));
    assert_ne!(a, b);
}

#[test]
fn unique_ids() {
    assert_eq!(unique_id("secret:cuf6k1"), "cuf6k1");
    assert_eq!(unique_id("secret://4f2b-uuid/cuf6k1"), "cuf6k1");
    assert_eq!(unique_id("cuf6k1"), "cuf6k1");
}
