//! Tests of `multipart.rs.rs`.

use super::*;

#[test]
fn parses_the_request_ops_builds() {
    let b = "0123456789abcdef0123456789abcdef";
    let body = format!(
        "--{b}\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n\
         {{\"action\": \"write\"}}\r\n--{b}\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: form-data; name=\"files\"; filename=\"/etc/app.conf\"\r\n\r\nline\r\n\r\n--{b}--\r\n"
    );
    let parts = parse(body.as_bytes(), b);
    let parts = parts.unwrap_or_default();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].name, "request");
    assert_eq!(parts[0].body, b"{\"action\": \"write\"}");
    assert_eq!(parts[1].filename.as_deref(), Some("/etc/app.conf"));
    assert_eq!(parts[1].body, b"line\r\n");
}

#[test]
fn round_trips_what_it_writes_and_refuses_truncation() {
    let parts = vec![(
        vec![(
            "Content-Disposition".to_string(),
            format!("form-data; name=\"files\"; filename={}", quote("/a \"b\"")),
        )],
        b"--not-a-boundary".to_vec(),
    )];
    let body = write("XYZ", &parts);
    let back = parse(&body, "XYZ").unwrap_or_default();
    assert_eq!(back[0].filename.as_deref(), Some("/a \"b\""));
    assert_eq!(back[0].body, b"--not-a-boundary");
    assert!(parse(&body[..body.len() - 12], "XYZ").is_err());
    assert!(parse(b"garbage", "XYZ").is_err());
}

#[test]
fn reads_quoted_and_bare_params() {
    assert_eq!(
        header_params("multipart/form-data; boundary=\"abc\"; x=1"),
        vec![
            ("boundary".to_string(), "abc".to_string()),
            ("x".to_string(), "1".to_string())
        ]
    );
}
