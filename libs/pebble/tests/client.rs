//! The client against the test server: the exact requests it sends (as Pebble and ops expect
//! them), what it makes of each answer, and every error kind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pebble::error::ConnectionErrorKind;
use pebble::plan::{Layer, Service, Startup};
use pebble::types::{
    ChangeSelect, ErrorKind, FileType, NoticeType, NoticeUsers, NoticesFilter, ServiceStatus,
};
use pebble::{Client, Error, GoDuration, Limits, MakeDirOptions, PushOptions, Timeouts};
use serde_json::json;
use support::*;

fn connection_kind(e: Error) -> ConnectionErrorKind {
    match e {
        Error::Connection(c) => c.kind,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

// ----- connecting -----------------------------------------------------------------------------

#[test]
fn a_missing_socket_is_cannot_connect() {
    let dir = temp_dir();
    let client = Client::new(dir.join("pebble.socket"));
    let err = client.system_info().unwrap_err();
    assert!(err.is_connection());
    assert!(err.to_string().contains("socket not found"), "{err}");
    assert_eq!(connection_kind(err), ConnectionErrorKind::SocketMissing);
    assert!(!client.can_connect());
    let err = client.push("/a", b"x", &PushOptions::new()).unwrap_err();
    assert_eq!(connection_kind(err), ConnectionErrorKind::SocketMissing);
    let err = client.exec(["true"]).output().unwrap_err();
    assert_eq!(connection_kind(err), ConnectionErrorKind::SocketMissing);
}

#[test]
fn a_socket_nobody_listens_on_is_refused() {
    let dir = temp_dir();
    let path = dir.join("pebble.socket");
    drop(UnixListener::bind(&path).unwrap());
    let err = Client::new(&path).system_info().unwrap_err();
    assert_eq!(connection_kind(err), ConnectionErrorKind::Refused);
}

#[test]
fn a_full_backlog_times_out_instead_of_hanging() {
    use socket2::{Domain, SockAddr, Socket, Type};
    let dir = temp_dir();
    let path = dir.join("pebble.socket");
    let listener = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    listener.bind(&SockAddr::unix(&path).unwrap()).unwrap();
    listener.listen(0).unwrap();
    // Fill the backlog: never accepted.
    let mut fillers = Vec::new();
    for _ in 0..64 {
        let s = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        if s.connect(&SockAddr::unix(&path).unwrap()).is_err() {
            break;
        }
        fillers.push(s);
    }
    let client = Client::new(&path).with_timeouts(Timeouts {
        connect: Duration::from_millis(100),
        io: Duration::from_millis(100),
        ..Timeouts::default()
    });
    let err = client.system_info().unwrap_err();
    assert_eq!(connection_kind(err), ConnectionErrorKind::TimedOut);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = Server::start(|_| Reply::Hang);
    let client = server.client().with_timeouts(Timeouts {
        io: Duration::from_millis(100),
        ..server.client().timeouts()
    });
    let err = client.get_services(&[]).unwrap_err();
    assert_eq!(connection_kind(err), ConnectionErrorKind::TimedOut);
}

#[test]
fn a_server_that_closes_early_is_a_closed_connection() {
    let server = Server::start(|r| {
        match r.path.as_str() {
        "/v1/system-info" => Reply::Close,
        // A head that promises more body than it sends.
        _ => Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":"
                .to_vec(),
        ),
    }
    });
    let client = server.client();
    assert_eq!(
        connection_kind(client.system_info().unwrap_err()),
        ConnectionErrorKind::Closed
    );
    assert_eq!(
        connection_kind(client.get_services(&[]).unwrap_err()),
        ConnectionErrorKind::Closed
    );
}

#[test]
fn garbage_is_a_protocol_error() {
    let server = Server::start(|r| {
        match r.path.as_str() {
        "/v1/system-info" => Reply::Raw(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()),
        "/v1/services" => raw_answer(200, "application/json", b"{not json"),
        "/v1/checks" => raw_answer(200, "text/html", b"<html></html>"),
        "/v1/changes" => Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                .to_vec(),
        ),
        _ => sync(json!({"unexpected": "shape"})),
    }
    });
    let client = server.client();
    for err in [
        client.system_info().unwrap_err(),
        client.get_services(&[]).unwrap_err(),
        client.get_checks(None, &[]).unwrap_err(),
        client.get_changes(None, None).unwrap_err(),
        client.get_notices(&NoticesFilter::default()).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    }
}

#[test]
fn answers_are_size_bounded() {
    let big = format!("[{}]", vec!["\"x\""; 2000].join(","));
    let server = Server::start(move |_| {
        raw_answer(
            200,
            "application/json",
            format!(r#"{{"type":"sync","status-code":200,"status":"OK","result":{big}}}"#)
                .as_bytes(),
        )
    });
    let client = server.client().with_limits(Limits {
        response: 1000,
        ..Limits::default()
    });
    assert!(matches!(
        client.get_services(&[]).unwrap_err(),
        Error::TooLarge { limit: 1000, .. }
    ));
}

// ----- API errors -----------------------------------------------------------------------------

#[test]
fn error_answers_are_api_errors() {
    let server = Server::start(|r| match r.path.as_str() {
        "/v1/services" if r.method == "POST" => {
            error(400, Some("no-default-services"), "no default services")
        }
        "/v1/changes/99" => error(404, None, "cannot find change with id \"99\""),
        _ => raw_answer(500, "text/plain", b"boom"),
    });
    let client = server.client();
    let Error::Api(e) = client.autostart_services().unwrap_err() else {
        panic!()
    };
    assert_eq!(
        (e.status_code, e.status.as_str(), e.kind, e.message.as_str()),
        (
            400,
            "Bad Request",
            Some(ErrorKind::NoDefaultServices),
            "no default services"
        )
    );
    let err = client.get_change("99").unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.to_string(), "cannot find change with id \"99\"");
    let err = client.system_info().unwrap_err();
    assert_eq!(err.status_code(), Some(500));
    assert!(err.to_string().contains("not a Pebble error"), "{err}");
}

// ----- system, plan, layers -------------------------------------------------------------------

#[test]
fn system_info_request_and_headers() {
    let server = Server::start(|_| sync(json!({"boot-id": "b1", "version": "v1.32.1"})));
    let info = server.client().system_info().unwrap();
    assert_eq!(
        (info.boot_id.as_str(), info.version.as_str()),
        ("b1", "v1.32.1")
    );
    let r = server.last();
    assert_eq!(r.line(), "GET /v1/system-info");
    assert_eq!(r.header("host"), Some("localhost"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert!(r.body.is_empty());
    assert!(server.client().can_connect());
}

#[test]
fn get_plan_reads_the_yaml_string() {
    let server = Server::start(|_| {
        sync(json!(
            "services:\n    web:\n        override: replace\n        command: /bin/web\n        startup: enabled\n"
        ))
    });
    let plan = server.client().get_plan().unwrap();
    assert_eq!(server.last().line(), "GET /v1/plan?format=yaml");
    assert_eq!(plan.services["web"].command, "/bin/web");
    assert_eq!(plan.services["web"].startup, Some(Startup::Enabled));
}

#[test]
fn add_layer_sends_the_layer_as_yaml() {
    let server = Server::start(|_| sync(json!(true)));
    let mut service = Service::replace("/bin/web --port 80");
    service.startup = Some(Startup::Enabled);
    let layer = Layer {
        summary: "web".into(),
        services: [("web".to_string(), service)].into(),
        ..Layer::default()
    };
    server.client().add_layer("base", &layer, true).unwrap();
    let r = server.last();
    assert_eq!(r.line(), "POST /v1/layers");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"action": "add", "label": "base", "combine": true, "format": "yaml",
               "layer": "summary: web\nservices:\n    web:\n        startup: enabled\n        override: replace\n        command: /bin/web --port 80\n"})
    );
    assert_eq!(
        Layer::from_yaml(r.json()["layer"].as_str().unwrap()).unwrap(),
        layer
    );
    server
        .client()
        .add_layer_yaml("x", "summary: s\n", false)
        .unwrap();
    assert_eq!(server.last().json()["combine"], json!(false));
}

// ----- services and changes -------------------------------------------------------------------

#[test]
fn get_services_joins_names() {
    let server = Server::start(|_| {
        sync(
            json!([{"name": "web", "startup": "enabled", "current": "active", "current-since": "2026-07-01T10:00:00Z"},
                    {"name": "worker", "startup": "disabled", "current": "backoff"}]),
        )
    });
    let client = server.client();
    let services = client.get_services(&["web", "worker"]).unwrap();
    assert!(services[0].is_running());
    assert_eq!(services[1].current, ServiceStatus::Backoff);
    client.get_services(&[]).unwrap();
    assert_eq!(
        server.lines(),
        ["GET /v1/services?names=web%2Cworker", "GET /v1/services"]
    );
}

fn services_server(final_status: &'static str, err: Option<&'static str>) -> Server {
    Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/services") => accepted("5", None),
        ("GET", "/v1/changes/5/wait") => sync(change("5", final_status, err, None)),
        _ => not_found(),
    })
}

#[test]
fn service_actions_post_then_wait() {
    let server = services_server("Done", None);
    let client = server.client();
    client.start_services(&["web"]).unwrap();
    client.stop_services(&["web", "db"]).unwrap();
    client.restart_services(&["web"]).unwrap();
    client.replan_services().unwrap();
    let change = client.autostart_services().unwrap();
    assert_eq!(change.id, "5");
    let bodies: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.json())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"action": "start", "services": ["web"]}),
            json!({"action": "stop", "services": ["web", "db"]}),
            json!({"action": "restart", "services": ["web"]}),
            json!({"action": "replan", "services": []}),
            json!({"action": "autostart", "services": []}),
        ]
    );
    // The wait slice is the io timeout less a second (10 s in these tests).
    assert_eq!(server.lines()[1], "GET /v1/changes/5/wait?timeout=9s");
    assert_eq!(
        client
            .services_action(pebble::types::ServicesAction::Start, &["x"])
            .unwrap(),
        "5"
    );
}

#[test]
fn a_failed_change_is_a_change_error() {
    let server = services_server(
        "Error",
        Some("cannot perform the following tasks:\n- Start service \"web\" (exited quickly)"),
    );
    let Error::Change(e) = server.client().start_services(&["web"]).unwrap_err() else {
        panic!()
    };
    assert!(e.err.contains("exited quickly"));
    assert_eq!(e.change.id, "5");
    assert!(
        e.to_string().contains("ERROR it broke"),
        "task logs shown: {e}"
    );
}

#[test]
fn wait_change_keeps_waiting_on_504_and_polls_where_wait_is_missing() {
    let calls = Arc::new(Mutex::new(0));
    let server = {
        let calls = calls.clone();
        Server::start(move |r| match r.path.as_str() {
            "/v1/changes/7/wait" => {
                let mut n = calls.lock().unwrap();
                *n += 1;
                if *n < 3 {
                    error(504, None, "timed out waiting for change after 9s")
                } else {
                    sync(change("7", "Done", None, None))
                }
            }
            "/v1/changes/8/wait" => not_found(),
            "/v1/changes/8" => {
                let mut n = calls.lock().unwrap();
                *n += 1;
                sync(change(
                    "8",
                    if *n < 6 { "Doing" } else { "Done" },
                    None,
                    None,
                ))
            }
            _ => not_found(),
        })
    };
    let client = server.client();
    assert_eq!(
        client.wait_change("7", Duration::from_secs(30)).unwrap().id,
        "7"
    );
    assert_eq!(*calls.lock().unwrap(), 3);
    let done = client.wait_change("8", Duration::from_secs(30)).unwrap();
    assert!(done.ready);
    assert_eq!(
        server.lines()[3..],
        [
            "GET /v1/changes/8/wait?timeout=9s",
            "GET /v1/changes/8",
            "GET /v1/changes/8",
            "GET /v1/changes/8"
        ]
    );
}

#[test]
fn wait_change_gives_up_at_the_deadline() {
    let server = Server::start(|r| match r.path.as_str() {
        "/v1/changes/3" => sync(change("3", "Doing", None, None)),
        _ => not_found(),
    });
    let err = server
        .client()
        .wait_change("3", Duration::from_millis(200))
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { ref change_id } if change_id == "3"),
        "{err:?}"
    );
}

#[test]
fn changes_list_get_and_abort() {
    let server = Server::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/v1/changes") => Reply::Chunked(
            200,
            "application/json",
            serde_json::to_vec(&json!({"type": "sync", "status-code": 200, "status": "OK",
                "result": [change("1", "Done", None, None), change("2", "Doing", None, None)]}))
            .unwrap(),
        ),
        ("POST", "/v1/changes/2") => sync(change("2", "Hold", None, None)),
        _ => not_found(),
    });
    let client = server.client();
    let changes = client
        .get_changes(Some(ChangeSelect::All), Some("web"))
        .unwrap();
    assert_eq!(changes.len(), 2);
    client.get_changes(None, None).unwrap();
    let aborted = client.abort_change("2").unwrap();
    assert!(aborted.ready);
    assert_eq!(
        server.lines(),
        [
            "GET /v1/changes?select=all&for=web",
            "GET /v1/changes",
            "POST /v1/changes/2"
        ]
    );
    assert_eq!(server.last().json(), json!({"action": "abort"}));
}

#[test]
fn send_signal_body() {
    let server = Server::start(|_| sync(json!(true)));
    server
        .client()
        .send_signal("SIGHUP", &["web", "db"])
        .unwrap();
    let r = server.last();
    assert_eq!(r.line(), "POST /v1/signals");
    assert_eq!(
        r.json(),
        json!({"signal": "SIGHUP", "services": ["web", "db"]})
    );
}

// ----- files ----------------------------------------------------------------------------------

fn ok_path(path: &str) -> Reply {
    sync(json!([{"path": path}]))
}

#[test]
fn push_sends_ops_multipart() {
    let server = Server::start(|_| ok_path("/etc/app.conf"));
    let options = PushOptions::new()
        .make_dirs(true)
        .permissions(0o600)
        .user("web")
        .group_id(1000);
    server
        .client()
        .push("/etc/app.conf", b"key: value\n", &options)
        .unwrap();
    let r = server.last();
    assert_eq!(r.line(), "POST /v1/files");
    let content_type = r.header("content-type").unwrap().to_string();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=\"")
        .and_then(|b| b.strip_suffix('"'))
        .unwrap();
    assert_eq!(boundary.len(), 32);
    assert!(boundary.bytes().all(|b| b.is_ascii_hexdigit()));
    let parts = parts(&content_type, &r.body);
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0].0,
        "Content-Type: application/json\r\nContent-Disposition: form-data; name=\"request\""
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&parts[0].1).unwrap(),
        json!({"action": "write", "files": [{"path": "/etc/app.conf", "make-dirs": true,
               "permissions": "600", "user": "web", "group-id": 1000}]})
    );
    assert_eq!(
        parts[1].0,
        "Content-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"files\"; filename=\"/etc/app.conf\""
    );
    assert_eq!(parts[1].1, b"key: value\n");
}

#[test]
fn push_streams_a_reader() {
    let server = Server::start(|_| ok_path("/srv/blob"));
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    server
        .client()
        .push_reader("/srv/blob", &mut &content[..], &PushOptions::new())
        .unwrap();
    let r = server.last();
    assert!(r.chunked, "a reader is sent chunked");
    let parts = parts(r.header("content-type").unwrap(), &r.body);
    assert_eq!(parts[1].1, content);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&parts[0].1).unwrap(),
        json!({"action": "write", "files": [{"path": "/srv/blob"}]})
    );
}

#[test]
fn push_failures() {
    let server = Server::start(|_| {
        sync(
            json!([{"path": "/etc/x", "error": {"kind": "permission-denied",
                     "message": "open /etc/x.3f1~: permission denied"}}]),
        )
    });
    let client = server.client();
    let Error::Path(e) = client.push("/etc/x", b"", &PushOptions::new()).unwrap_err() else {
        panic!()
    };
    assert_eq!(
        (e.path.as_str(), e.kind),
        ("/etc/x", ErrorKind::PermissionDenied)
    );
    assert_eq!(e.message, "open /etc/x.3f1~: permission denied");
    // A result for another path is a protocol error.
    assert!(matches!(
        client.push("/etc/y", b"", &PushOptions::new()).unwrap_err(),
        Error::Protocol(_)
    ));
    // A path that would break the part head is refused before sending.
    let before = server.requests().len();
    assert!(matches!(
        client
            .push("/etc/a\r\nX: y", b"", &PushOptions::new())
            .unwrap_err(),
        Error::Path(_)
    ));
    assert_eq!(server.requests().len(), before);
    // The caller's reader failing is a local error.
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = client
        .push_reader("/etc/x", &mut Broken, &PushOptions::new())
        .unwrap_err();
    assert!(
        matches!(err, Error::Local(ref e) if e.to_string() == "disk on fire"),
        "{err:?}"
    );
}

const BOUNDARY: &str = "9051914041544843365972754266";

fn pull_answer(parts: &[(&str, Option<&str>, &str, &[u8])]) -> Reply {
    raw_answer(
        200,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &multipart(BOUNDARY, parts),
    )
}

fn pull_ok(path: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"type": "sync", "status-code": 200, "status": "OK", "result": [{"path": path}]}),
    )
    .unwrap()
}

#[test]
fn pull_reads_the_file_part() {
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
    let server = {
        let content = content.clone();
        Server::start(move |_| {
            pull_answer(&[
                (
                    "files",
                    Some("/etc/app.conf"),
                    "application/octet-stream",
                    &content,
                ),
                (
                    "response",
                    None,
                    "application/json",
                    &pull_ok("/etc/app.conf"),
                ),
            ])
        })
    };
    let client = server.client();
    assert_eq!(client.pull("/etc/app.conf").unwrap(), content);
    let r = server.last();
    assert_eq!(r.line(), "GET /v1/files?action=read&path=%2Fetc%2Fapp.conf");
    assert_eq!(r.header("accept"), Some("multipart/form-data"));
    let mut out = Vec::new();
    assert_eq!(client.pull_to("/etc/app.conf", &mut out).unwrap(), 100_000);
    assert_eq!(out, content);
    let small = client.with_limits(Limits {
        pull: 1000,
        ..Limits::default()
    });
    assert!(matches!(
        small.pull("/etc/app.conf").unwrap_err(),
        Error::TooLarge { limit: 1000, .. }
    ));
}

#[test]
fn pull_failures() {
    let missing = serde_json::to_vec(&json!({"type": "sync", "status-code": 200, "status": "OK",
        "result": [{"path": "/nope", "error": {"kind": "not-found", "message": "stat /nope: no such file or directory"}}]}))
    .unwrap();
    let server = Server::start(move |r| {
        let path = r.query.iter().find(|(k, _)| k == "path").unwrap().1.clone();
        match path.as_str() {
            "/nope" => pull_answer(&[("response", None, "application/json", &missing)]),
            "/other" => pull_answer(&[
                ("files", Some("/elsewhere"), "application/octet-stream", b"x"),
                ("response", None, "application/json", &pull_ok("/other")),
            ]),
            "/noresponse" => pull_answer(&[("files", Some("/noresponse"), "application/octet-stream", b"x")]),
            "/truncated" => raw_answer(
                200,
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"/truncated\"\r\n\r\nabc").as_bytes(),
            ),
            _ => error(400, None, "must accept multipart/form-data"),
        }
    });
    let client = server.client();
    let err = client.pull("/nope").unwrap_err();
    assert!(err.is_not_found());
    assert!(matches!(&err, Error::Path(e) if e.message == "stat /nope: no such file or directory"));
    for path in ["/other", "/noresponse", "/truncated"] {
        assert!(
            matches!(client.pull(path).unwrap_err(), Error::Protocol(_)),
            "{path}"
        );
    }
    assert_eq!(client.pull("/json").unwrap_err().status_code(), Some(400));
}

#[test]
fn list_files_query_and_errors() {
    let server = Server::start(|r| {
        if r.query.iter().any(|(_, v)| v == "/missing") {
            return error(
                404,
                Some("not-found"),
                "stat /missing: no such file or directory",
            );
        }
        sync(
            json!([{"path": "/etc/app.conf", "name": "app.conf", "type": "file", "size": 12,
            "permissions": "644", "last-modified": "2026-07-01T10:00:00Z",
            "user-id": 0, "user": "root", "group-id": 0, "group": "root"}]),
        )
    });
    let client = server.client();
    let files = client.list_files("/etc", Some("*.conf"), false).unwrap();
    assert_eq!(files[0].file_type, FileType::File);
    assert_eq!(files[0].permissions.mode(), 0o644);
    client.list_files("/etc", None, true).unwrap();
    client.list_files("/etc", Some(""), false).unwrap();
    assert_eq!(
        server.lines(),
        [
            "GET /v1/files?action=list&path=%2Fetc&pattern=%2A.conf",
            "GET /v1/files?action=list&path=%2Fetc&itself=true",
            "GET /v1/files?action=list&path=%2Fetc",
        ]
    );
    let err = client.list_files("/missing", None, false).unwrap_err();
    assert!(matches!(&err, Error::Api(e) if e.kind == Some(ErrorKind::NotFound)));
    assert!(err.is_not_found());
}

#[test]
fn make_dir_and_remove_path_bodies() {
    let server = Server::start(|r| {
        let body = r.json();
        if body["action"] == "remove" {
            return sync(
                json!([{"path": "/srv", "error": {"kind": "generic-file-error",
                                 "message": "remove /srv: directory not empty"}}]),
            );
        }
        ok_path("/srv/data")
    });
    let client = server.client();
    let options = MakeDirOptions {
        make_parents: true,
        ownership: pebble::types::Ownership {
            permissions: Some(pebble::types::Permissions::from_mode(0o750)),
            user_id: Some(1000),
            ..Default::default()
        },
    };
    client.make_dir("/srv/data", &options).unwrap();
    assert_eq!(server.last().line(), "POST /v1/files");
    assert_eq!(
        server.last().json(),
        json!({"action": "make-dirs", "dirs": [{"path": "/srv/data", "make-parents": true,
               "permissions": "750", "user-id": 1000}]})
    );
    let Error::Path(e) = client.remove_path("/srv", false).unwrap_err() else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::GenericFileError);
    assert_eq!(e.message, "remove /srv: directory not empty");
    assert_eq!(
        server.last().json(),
        json!({"action": "remove", "paths": [{"path": "/srv"}]})
    );
    let _ = client.remove_path("/srv", true);
    assert_eq!(
        server.last().json(),
        json!({"action": "remove", "paths": [{"path": "/srv", "recursive": true}]})
    );
}

// ----- checks and notices ---------------------------------------------------------------------

#[test]
fn checks_requests() {
    let server = Server::start(|r| match r.method.as_str() {
        "GET" => sync(
            json!([{"name": "up", "level": "alive", "startup": "enabled", "status": "down",
                             "failures": 3, "threshold": 3, "change-id": "4"}]),
        ),
        _ => sync(json!({"changed": ["up"]})),
    });
    let client = server.client();
    let checks = client
        .get_checks(Some(pebble::plan::CheckLevel::Alive), &["up", "db"])
        .unwrap();
    assert_eq!(checks[0].failures, 3);
    assert_eq!(client.start_checks(&["up"]).unwrap(), ["up"]);
    assert_eq!(
        server.last().json(),
        json!({"action": "start", "checks": ["up"]})
    );
    client.stop_checks(&["up", "db"]).unwrap();
    assert_eq!(
        server.last().json(),
        json!({"action": "stop", "checks": ["up", "db"]})
    );
    assert_eq!(
        server.lines(),
        [
            "GET /v1/checks?level=alive&names=up&names=db",
            "POST /v1/checks",
            "POST /v1/checks"
        ]
    );
}

#[test]
fn notices_requests() {
    let notice = json!({"id": "17", "user-id": 0, "type": "custom", "key": "example.com/db/backup-done",
        "first-occurred": "2026-07-01T10:00:00Z", "last-occurred": "2026-07-01T11:00:00.5Z",
        "last-repeated": "2026-07-01T11:00:00.5Z", "occurrences": 3, "last-data": {"path": "/b/1"}});
    let server = {
        let notice = notice.clone();
        Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/notices") => sync(json!([notice])),
            ("GET", "/v1/notices/17") => sync(notice.clone()),
            ("POST", "/v1/notices") => sync(json!({"id": "18"})),
            _ => error(404, None, "cannot find notice with ID \"9\""),
        })
    };
    let client = server.client();
    let filter = NoticesFilter {
        users: Some(NoticeUsers::All),
        types: vec![NoticeType::Custom],
        keys: vec!["example.com/db/backup-done".into()],
        after: Some("2026-07-01T10:00:00Z".into()),
        timeout: Some(GoDuration::from_millis(10)),
    };
    let notices = client.get_notices(&filter).unwrap();
    assert_eq!(notices[0].occurrences, 3);
    assert_eq!(
        client.get_notice("17").unwrap().key,
        "example.com/db/backup-done"
    );
    assert!(client.get_notice("9").unwrap_err().is_not_found());
    let data = BTreeMap::from([("path".to_string(), "/b/2".to_string())]);
    assert_eq!(
        client
            .notify(
                "example.com/db/backup-done",
                &data,
                Some(Duration::from_secs(3600))
            )
            .unwrap(),
        "18"
    );
    assert_eq!(
        server.last().json(),
        json!({"action": "add", "type": "custom", "key": "example.com/db/backup-done",
               "repeat-after": "1h0m0s", "data": {"path": "/b/2"}})
    );
    client
        .notify("example.com/x", &BTreeMap::new(), None)
        .unwrap();
    assert_eq!(
        server.last().json(),
        json!({"action": "add", "type": "custom", "key": "example.com/x"})
    );
    assert_eq!(
        server.lines()[..3],
        [
            "GET /v1/notices?users=all&types=custom&keys=example.com%2Fdb%2Fbackup-done&after=2026-07-01T10%3A00%3A00Z&timeout=10ms",
            "GET /v1/notices/17",
            "GET /v1/notices/9"
        ]
    );
}
