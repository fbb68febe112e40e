//! Tests of `wire.rs`.

use super::*;
use charm::secret::SecretId;

fn share() -> ShareInfo {
    ShareInfo {
        fsid: "123456789-0abc-defg-hijk-lmnopqrstuvw".into(),
        name: "filesystem".into(),
        path: "/data".into(),
        monitor_hosts: vec!["192.168.1.1:6789".into(), "192.168.1.2:6789".into()],
    }
}

#[test]
fn share_info_is_python_json() {
    assert_eq!(
        share().to_json(),
        r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789"]}"#
    );
    assert_eq!(ShareInfo::from_json(&share().to_json()), Ok(share()));
    // The typed bag encodes the same bytes.
    let bag = ProviderAppBag {
        share_info: Some(share()),
        ..Default::default()
    }
    .encode()
    .unwrap();
    assert_eq!(bag[SHARE_INFO], share().to_json());
    // Non-ASCII is escaped as Python does.
    let mut s = share();
    s.path = "/données".into();
    assert!(s.to_json().contains(r#""/donn\u00e9es""#));
}

#[test]
fn share_info_errors() {
    assert!(matches!(
        ShareInfo::from_json("{oops"),
        Err(WireError::ShareInfoNotJson(_))
    ));
    assert_eq!(
        ShareInfo::from_json("[1]"),
        Err(WireError::ShareInfoNotObject)
    );
    assert_eq!(
        ShareInfo::from_json(r#"{"name": "a", "path": "/", "monitor_hosts": []}"#),
        Err(WireError::ShareInfoMissingField("fsid"))
    );
    assert_eq!(
        ShareInfo::from_json(r#"{"fsid": 1, "name": "a", "path": "/", "monitor_hosts": []}"#),
        Err(WireError::ShareInfoBadField {
            field: "fsid",
            expected: "a string"
        })
    );
    assert!(matches!(
        ShareInfo::from_json(r#"{"fsid": "f", "name": "a", "path": "/", "monitor_hosts": "h"}"#),
        Err(WireError::ShareInfoBadField {
            field: "monitor_hosts",
            ..
        })
    ));
    assert!(matches!(
        ShareInfo::from_json(r#"{"fsid": "f", "name": "a", "path": "/", "monitor_hosts": [1]}"#),
        Err(WireError::ShareInfoBadField {
            field: "monitor_hosts",
            ..
        })
    ));
}

#[test]
fn auth_refs() {
    assert_eq!(
        AuthRef::parse("secret:cq1abc00000000000000"),
        Ok(AuthRef::Secret(
            SecretId::parse("secret:cq1abc00000000000000").unwrap()
        ))
    );
    assert_eq!(
        AuthRef::parse("secret://4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b/cq1abc00000000000000"),
        Ok(AuthRef::Secret(
            SecretId::parse("secret://4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b/cq1abc00000000000000")
                .unwrap()
        ))
    );
    let plain = r#"plain:{"username": "user", "key": "R//appdqz4NP4Bxcc5XWrg=="}"#;
    let parsed = AuthRef::parse(plain).unwrap();
    assert_eq!(
        parsed,
        AuthRef::Plain(AuthInfo::new("user", "R//appdqz4NP4Bxcc5XWrg=="))
    );
    assert_eq!(parsed.to_wire(), plain);
    assert_eq!(
        AuthRef::parse("R//appdqz4NP4Bxcc5XWrg=="),
        Err(WireError::AuthWithoutKind)
    );
    assert_eq!(
        AuthRef::parse("scheme:/path"),
        Err(WireError::AuthUnknownKind("scheme".into()))
    );
    assert_eq!(AuthRef::parse("secret:"), Err(WireError::AuthEmptySecretId));
    // Only ids Juju produces: an option-shaped value never becomes a secret id.
    for bad in [
        "secret:--output=/tmp/x",
        "secret:-o",
        "secret:abc",
        "secret://x/y",
    ] {
        assert!(
            matches!(AuthRef::parse(bad), Err(WireError::AuthBadSecretId(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        AuthRef::parse("plain:{"),
        Err(WireError::PlainAuthNotJson(_))
    ));
    assert_eq!(
        AuthRef::parse(r#"plain:"R//appdqz4NP4Bxcc5XWrg==""#),
        Err(WireError::PlainAuthNotObject)
    );
    assert_eq!(
        AuthRef::parse(r#"plain:{"username": "u"}"#),
        Err(WireError::AuthMissingField("key"))
    );
    assert_eq!(
        AuthRef::parse(r#"plain:{"username": "u", "key": 7}"#),
        Err(WireError::AuthBadField("key"))
    );
}

#[test]
fn errors_never_show_keys() {
    let key = "R//appdqz4NP4Bxcc5XWrg==";
    for bad in [
        key.to_string(),
        format!("{key}:user"),
        format!("plain:\"{key}\""),
        format!("plain:{{\"username\": \"u\", \"key\": \"{key}\""),
        format!("plain:[\"{key}\"]"),
    ] {
        let err = AuthRef::parse(&bad).unwrap_err();
        assert!(!err.to_string().contains(key), "{err}");
        assert!(!format!("{err:?}").contains(key), "{err:?}");
    }
    let info = AuthInfo::new("user", key);
    assert!(!format!("{info:?}").contains(key));
    assert!(!format!("{:?}", AuthRef::Plain(info)).contains(key));
}

#[test]
fn secret_content_round_trip() {
    let info = AuthInfo::new("user", "k3y");
    assert_eq!(
        AuthInfo::from_secret_content(&info.to_secret_content()),
        Ok(info)
    );
    assert_eq!(
        AuthInfo::from_secret_content(&SecretContent::new().with("username", "u")),
        Err(WireError::AuthMissingField("key"))
    );
}

#[test]
fn labels() {
    assert_eq!(auth_secret_label(7), "auth_info.7");
    assert_eq!(auth_secret_relation("auth_info.7"), Some(7));
    for bad in [
        "auth_info",
        "auth_info.",
        "auth_info.x",
        "auth_info.7.1",
        "other.7",
    ] {
        assert_eq!(auth_secret_relation(bad), None, "{bad}");
    }
    assert!(is_auth_secret_label("auth_info"));
    assert!(is_auth_secret_label("auth_info.12"));
    assert!(!is_auth_secret_label("cephx-auth"));
}

#[test]
fn caches() {
    let bag: BagData = [("name", "/data"), ("cache", "{}")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let snap = snapshot(&bag);
    assert_eq!(encode_cache(&snap), r#"{"name": "/data"}"#);
    assert_eq!(parse_cache(r#"{"name": "/data"}"#), Ok(snap));
    // Python's insertion order and non-string entries.
    let parsed = parse_cache(r#"{"b": "2", "a": "1", "n": 3}"#).unwrap();
    assert_eq!(parsed.len(), 2);
    assert!(parse_cache("not json").is_err());
    assert!(parse_cache("[]").is_err());
    assert!(parse_cache("").is_err());
}

#[test]
fn snapshots_never_repeat_a_plain_key_but_see_it_change() {
    let bag = |auth: &str| -> BagData {
        [
            ("auth".to_string(), auth.to_string()),
            ("auth-rev".to_string(), "1".to_string()),
        ]
        .into_iter()
        .collect()
    };
    let a = snapshot(&bag(r#"plain:{"username": "u", "key": "SECRETKEY1"}"#));
    let b = snapshot(&bag(r#"plain:{"username": "u", "key": "SECRETKEY2"}"#));
    assert!(
        !encode_cache(&a).contains("SECRETKEY1"),
        "{}",
        encode_cache(&a)
    );
    assert!(a["auth"].starts_with("plain-sha256:"));
    assert_ne!(a["auth"], b["auth"]);
    // A secret URI is not a credential: kept as it is.
    let c = snapshot(&bag("secret:abc00000000000000000"));
    assert_eq!(c["auth"], "secret:abc00000000000000000");
}
