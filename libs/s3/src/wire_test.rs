//! Tests of `wire.rs`.

use super::*;

fn bag(pairs: &[(&str, &str)]) -> BagData {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn full_info_round_trips_with_python_text() {
    let info = S3ConnectionInfo {
        path: Some("/p".into()),
        endpoint: Some("https://s3.example.com".into()),
        region: Some("eu-1".into()),
        s3_uri_style: Some(UriStyle::Path),
        storage_class: Some("cold".into()),
        tls_ca_chain: vec!["a\nb".into(), "c".into()],
        s3_api_version: Some("4".into()),
        attributes: vec!["k=v".into()],
        delete_older_than_days: Some(7),
        ..S3ConnectionInfo::new("ak", "sk", "b")
    };
    let encoded = info.to_bag().unwrap();
    assert_eq!(encoded["tls-ca-chain"], r#"["a\nb", "c"]"#);
    assert_eq!(encoded["attributes"], r#"["k=v"]"#);
    assert_eq!(encoded["delete-older-than-days"], "7");
    assert_eq!(encoded["s3-uri-style"], "path");
    assert_eq!(encoded.len(), 12);
    assert_eq!(S3ConnectionInfo::from_bag(&encoded).unwrap(), info);
}

#[test]
fn minimal_info_has_only_required_keys() {
    let encoded = S3ConnectionInfo::new("ak", "sk", "b").to_bag().unwrap();
    assert_eq!(
        encoded,
        bag(&[("access-key", "ak"), ("secret-key", "sk"), ("bucket", "b")])
    );
}

#[test]
fn keys_match_the_struct() {
    let full = S3ConnectionInfo {
        path: Some("x".into()),
        endpoint: Some("x".into()),
        region: Some("x".into()),
        s3_uri_style: Some(UriStyle::Host),
        storage_class: Some("x".into()),
        tls_ca_chain: vec!["x".into()],
        s3_api_version: Some("x".into()),
        attributes: vec!["x".into()],
        delete_older_than_days: Some(1),
        ..S3ConnectionInfo::new("x", "x", "x")
    };
    let keys: Vec<String> = full.to_bag().unwrap().into_keys().collect();
    let mut expected: Vec<String> = S3Key::ALL.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[test]
fn lists_tolerate_python_resets_and_reject_garbage() {
    assert_eq!(decode_list(r#""""#).unwrap(), Vec::<String>::new());
    assert_eq!(decode_list("null").unwrap(), Vec::<String>::new());
    assert_eq!(decode_list("[]").unwrap(), Vec::<String>::new());
    assert!(decode_list("[oops").unwrap_err().contains("not JSON"));
    assert!(decode_list("a=1;b=2").unwrap_err().contains("not JSON"));
    assert!(
        decode_list(r#"{"a": 1}"#)
            .unwrap_err()
            .contains("an object")
    );
    assert!(
        decode_list("[1]")
            .unwrap_err()
            .contains("item 0 is a number")
    );
    assert!(decode_list(r#""x""#).unwrap_err().contains("a string"));
    assert_eq!(encode_list(&[]), "");
}

#[test]
fn days_are_decimal() {
    assert_eq!(decode_days(" 7 ").unwrap(), 7);
    assert!(decode_days("-1").unwrap_err().contains("between"));
    assert!(decode_days("seven").unwrap_err().contains("not an integer"));
    assert!(decode_days("1.5").is_err());
    assert_eq!(encode_days(30), "30");
}

#[test]
fn uri_style_keeps_unknown_values() {
    assert_eq!(UriStyle::parse("host"), UriStyle::Host);
    assert_eq!(
        UriStyle::parse("virtual"),
        UriStyle::Other("virtual".into())
    );
    let info = S3ConnectionInfo::from_bag(&bag(&[
        ("access-key", "a"),
        ("secret-key", "s"),
        ("bucket", "b"),
        ("s3-uri-style", "virtual"),
    ]))
    .unwrap();
    assert_eq!(info.to_bag().unwrap()["s3-uri-style"], "virtual");
}

#[test]
fn debug_redacts_credentials() {
    let shown = format!(
        "{:?}",
        S3ConnectionInfo::new("AKIAEXAMPLE", "wJalrXUtn", "b")
    );
    assert!(!shown.contains("AKIAEXAMPLE"), "{shown}");
    assert!(!shown.contains("wJalrXUtn"), "{shown}");
    assert!(shown.contains("<redacted>") && shown.contains("bucket: \"b\""));
}

#[test]
fn cache_is_python_json_of_the_sorted_bag() {
    let text = encode_cache(&bag(&[("bucket", "b"), ("data", "{}"), ("a", "1")]));
    assert_eq!(text, r#"{"a": "1", "bucket": "b"}"#);
    assert_eq!(encode_cache(&BagData::new()), "{}");
    assert_eq!(decode_cache(&text).unwrap()["bucket"], "b");
    assert!(decode_cache("[1]").is_err());
    assert!(decode_cache("{").is_err());
}

#[test]
fn missing_required_keys() {
    assert_eq!(
        S3ConnectionInfo::missing_in(&bag(&[("bucket", "b"), ("access-key", "")])),
        vec![S3Key::AccessKey, S3Key::SecretKey]
    );
    assert_eq!(
        S3ConnectionInfo::default().empty_required(),
        S3Key::REQUIRED.to_vec()
    );
}
