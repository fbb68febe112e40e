//! `Client::push_many`: several files in one multipart request, per-path results checked in
//! order, the first failed path reported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pebble::types::ErrorKind;
use pebble::{Error, PushOptions};
use serde_json::json;
use support::*;

#[test]
fn files_go_in_one_request_in_order() {
    let server = Server::start(|_| sync(json!([{"path": "/a/one"}, {"path": "/b/two"}])));
    let client = server.client();
    let options = PushOptions::new().make_dirs(true).permissions(0o600);
    client
        .push_many(&[("/a/one", b"first"), ("/b/two", b"")], &options)
        .unwrap();
    assert_eq!(server.requests().len(), 1);
    let r = server.last();
    assert_eq!(r.line(), "POST /v1/files");
    assert!(
        !r.chunked,
        "sent with a length, so that it can be sent again"
    );
    let parts = parts(r.header("content-type").unwrap(), &r.body);
    assert_eq!(parts.len(), 3);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&parts[0].1).unwrap(),
        json!({"action": "write", "files": [
            {"path": "/a/one", "make-dirs": true, "permissions": "600"},
            {"path": "/b/two", "make-dirs": true, "permissions": "600"}]})
    );
    assert!(parts[1].0.ends_with("name=\"files\"; filename=\"/a/one\""));
    assert_eq!(parts[1].1, b"first");
    assert!(parts[2].0.ends_with("name=\"files\"; filename=\"/b/two\""));
    assert_eq!(parts[2].1, b"");
}

#[test]
fn the_first_failed_path_is_the_error() {
    let server = Server::start(|_| {
        sync(json!([{"path": "/ok"},
            {"path": "/no", "error": {"kind": "permission-denied", "message": "open /no: denied"}},
            {"path": "/gone", "error": {"kind": "not-found", "message": "missing"}}]))
    });
    let err = server
        .client()
        .push_many(
            &[("/ok", b"1"), ("/no", b"2"), ("/gone", b"3")],
            &PushOptions::new(),
        )
        .unwrap_err();
    let Error::Path(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.path.as_str(), e.kind, e.message.as_str()),
        ("/no", ErrorKind::PermissionDenied, "open /no: denied")
    );
}

#[test]
fn results_that_do_not_match_the_paths_are_protocol_errors() {
    let server = Server::start(|r| {
        if r.body.windows(4).any(|w| w == b"/two") {
            sync(json!([{"path": "/one"}]))
        } else {
            sync(json!([{"path": "/other"}]))
        }
    });
    let client = server.client();
    let options = PushOptions::new();
    assert!(matches!(
        client
            .push_many(&[("/one", b""), ("/two", b"")], &options)
            .unwrap_err(),
        Error::Protocol(_)
    ));
    assert!(matches!(
        client.push_many(&[("/one", b"")], &options).unwrap_err(),
        Error::Protocol(_)
    ));
}

#[test]
fn bad_paths_and_no_files_send_nothing() {
    let server = Server::start(|_| sync(json!([])));
    let client = server.client();
    let options = PushOptions::new();
    client.push_many(&[], &options).unwrap();
    let err = client
        .push_many(&[("/fine", b""), ("/a\nb", b"")], &options)
        .unwrap_err();
    assert!(
        matches!(err, Error::Path(ref e) if e.path == "/a\nb"),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}
