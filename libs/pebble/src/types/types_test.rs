use serde_json::json;

use super::*;
use crate::duration::GoDuration;
use crate::plan::{CheckLevel, Startup};

#[test]
fn envelopes_as_pebble_sends_them() {
    let sync: Response = serde_json::from_str(
        r#"{"type":"sync","status-code":200,"status":"OK","result":{"boot-id":"5e1c","version":"v1.32.1"}}"#,
    )
    .unwrap();
    assert_eq!(sync.response_type, ResponseType::Sync);
    let info: SystemInfo = serde_json::from_value(sync.result.unwrap()).unwrap();
    assert_eq!(info.boot_id, "5e1c");
    assert_eq!(info.http_address, None);

    let accepted: Response = serde_json::from_str(
        r#"{"type":"async","status-code":202,"status":"Accepted","change":"42","latest-warning":"2026-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(accepted, Response::accepted("42", None));

    let error: Response = serde_json::from_str(
        r#"{"type":"error","status-code":404,"status":"Not Found","result":{"message":"cannot find change with id \"99\""}}"#,
    )
    .unwrap();
    let e = error.error_result().unwrap();
    assert_eq!(e.message, r#"cannot find change with id "99""#);
    assert_eq!(e.kind, None);
    assert_eq!(sync_none().error_result(), None);
}

fn sync_none() -> Response {
    Response::sync(None)
}

#[test]
fn envelopes_as_a_server_writes_them() {
    assert_eq!(
        serde_json::to_value(Response::sync(Some(json!([])))).unwrap(),
        json!({"type":"sync","status-code":200,"status":"OK","result":[]})
    );
    assert_eq!(
        serde_json::to_value(Response::sync(None)).unwrap(),
        json!({"type":"sync","status-code":200,"status":"OK"})
    );
    assert_eq!(
        serde_json::to_value(Response::error(
            400,
            ErrorResult::new(Some(ErrorKind::NoDefaultServices), "no default services")
        ))
        .unwrap(),
        json!({"type":"error","status-code":400,"status":"Bad Request",
               "result":{"message":"no default services","kind":"no-default-services"}})
    );
    assert_eq!(status_text(504), "Gateway Timeout");
}

#[test]
fn unknown_enum_values_survive() {
    let info: ServiceInfo =
        serde_json::from_str(r#"{"name":"web","startup":"enabled","current":"zombie"}"#).unwrap();
    assert_eq!(info.current, ServiceStatus::Other("zombie".into()));
    assert!(!info.is_running());
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({"name":"web","startup":"enabled","current":"zombie"})
    );
    let kind: ErrorKind = serde_json::from_str(r#""brand-new""#).unwrap();
    assert_eq!(kind, ErrorKind::Other("brand-new".into()));
}

#[test]
fn services_and_changes() {
    let list: Vec<ServiceInfo> = serde_json::from_str(
        r#"[{"name":"web","startup":"enabled","current":"active","current-since":"2026-07-01T10:00:00.123456789Z"},
            {"name":"worker","startup":"disabled","current":"backoff"}]"#,
    )
    .unwrap();
    assert!(list[0].is_running());
    assert_eq!(list[1].current, ServiceStatus::Backoff);
    assert_eq!(list[1].startup, Startup::Disabled);

    let change: Change = serde_json::from_value(json!({
        "id": "7", "kind": "exec", "summary": "Execute command \"echo\"", "status": "Error",
        "ready": true, "err": "cannot perform the following tasks:\n- Execute command \"echo\" (timed out)",
        "spawn-time": "2026-07-01T10:00:00Z", "ready-time": "2026-07-01T10:00:01Z",
        "tasks": [{"id": "8", "kind": "exec", "summary": "s", "status": "Error",
                   "log": ["2026-07-01T10:00:01Z ERROR timed out"],
                   "progress": {"label": "", "done": 1, "total": 1},
                   "spawn-time": "2026-07-01T10:00:00Z", "data": {"exit-code": -1}}]
    }))
    .unwrap();
    assert!(change.status.is_ready());
    assert_eq!(change.exit_code(), Some(-1));
    assert!(!ChangeStatus::Doing.is_ready());
    let minimal: Change = serde_json::from_value(json!({
        "id": "1", "kind": "replan", "summary": "Replan - no services", "status": "Done",
        "ready": true, "spawn-time": "t", "tasks": null, "data": null
    }))
    .unwrap();
    assert_eq!(minimal.exit_code(), None);
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        json!({"id": "1", "kind": "replan", "summary": "Replan - no services", "status": "Done",
               "ready": true, "spawn-time": "t"})
    );
}

#[test]
fn request_bodies_as_ops_sends_them() {
    assert_eq!(
        serde_json::to_value(ServicesRequest {
            action: ServicesAction::Replan,
            services: vec![]
        })
        .unwrap(),
        json!({"action":"replan","services":[]})
    );
    assert_eq!(
        serde_json::to_value(LayerRequest::add("base", "summary: x\n", true)).unwrap(),
        json!({"action":"add","label":"base","combine":true,"format":"yaml","layer":"summary: x\n"})
    );
    assert_eq!(
        serde_json::to_value(FilesRequest::Write {
            files: vec![WriteFile {
                path: "/etc/app.conf".into(),
                make_dirs: true,
                ownership: Ownership {
                    permissions: Some(Permissions::from_mode(0o600)),
                    ..Ownership::default()
                },
            }]
        })
        .unwrap(),
        json!({"action":"write","files":[{"path":"/etc/app.conf","make-dirs":true,"permissions":"600"}]})
    );
    assert_eq!(
        serde_json::to_value(FilesRequest::MakeDirs {
            dirs: vec![MakeDir {
                path: "/srv".into(),
                make_parents: false,
                ownership: Ownership {
                    user: Some("web".into()),
                    group_id: Some(0),
                    ..Ownership::default()
                },
            }]
        })
        .unwrap(),
        json!({"action":"make-dirs","dirs":[{"path":"/srv","user":"web","group-id":0}]})
    );
    assert_eq!(
        serde_json::to_value(FilesRequest::Remove {
            paths: vec![RemovePath {
                path: "/srv".into(),
                recursive: true
            }]
        })
        .unwrap(),
        json!({"action":"remove","paths":[{"path":"/srv","recursive":true}]})
    );
    let parsed: FilesRequest =
        serde_json::from_str(r#"{"action":"remove","paths":[{"path":"/a"}]}"#).unwrap();
    assert_eq!(
        parsed,
        FilesRequest::Remove {
            paths: vec![RemovePath {
                path: "/a".into(),
                recursive: false
            }]
        }
    );
}

#[test]
fn exec_request_sends_every_key() {
    let request = ExecRequest {
        command: vec!["echo".into(), "hi".into()],
        timeout: Some(GoDuration::from_millis(1500)),
        split_stderr: true,
        ..ExecRequest::default()
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"command":["echo","hi"],"service-context":null,"environment":{},"working-dir":null,
               "timeout":"1.5s","user-id":null,"user":null,"group-id":null,"group":null,
               "terminal":false,"interactive":false,"width":null,"height":null,"split-stderr":true})
    );
    // A server must read nulls as absent.
    let back: ExecRequest =
        serde_json::from_value(json!({"command":["x"],"environment":null,"timeout":null})).unwrap();
    assert_eq!(back.command, ["x"]);
    assert!(back.environment.is_empty() && back.timeout.is_none() && !back.split_stderr);
}

#[test]
fn websocket_commands() {
    assert_eq!(
        serde_json::to_string(&WsCommand::End).unwrap(),
        r#"{"command":"end"}"#
    );
    assert_eq!(
        serde_json::to_value(WsCommand::Signal {
            signal: WsSignal {
                name: "SIGTERM".into()
            }
        })
        .unwrap(),
        json!({"command":"signal","signal":{"name":"SIGTERM"}})
    );
    let resize: WsCommand =
        serde_json::from_str(r#"{"command":"resize","resize":{"width":80,"height":24}}"#).unwrap();
    assert_eq!(
        resize,
        WsCommand::Resize {
            resize: WsResize {
                width: 80,
                height: 24
            }
        }
    );
    assert!(serde_json::from_str::<WsCommand>(r#"{"command":"dance"}"#).is_err());
}

#[test]
fn file_info_and_permissions() {
    let info: FileInfo = serde_json::from_str(
        r#"{"path":"/etc/app.conf","name":"app.conf","type":"file","size":123,"permissions":"644",
            "last-modified":"2026-07-01T10:00:00Z","user-id":0,"user":"root","group-id":0,"group":"root"}"#,
    )
    .unwrap();
    assert_eq!(info.permissions.mode(), 0o644);
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.size, Some(123));
    let dir: FileInfo = serde_json::from_str(
        r#"{"path":"/etc","name":"etc","type":"directory","permissions":"755","last-modified":"t"}"#,
    )
    .unwrap();
    assert_eq!((dir.size, dir.user.as_str()), (None, ""));
    assert_eq!(Permissions::from_mode(0o100755).to_string(), "755");
    assert_eq!(Permissions::from_mode(0o7).to_string(), "007");
    assert_eq!(
        Permissions::parse("0644").unwrap_err(),
        r#"permissions must be a 3-digit octal string, got "0644""#
    );
    assert!(Permissions::parse("648").is_err());
    assert!(Permissions::parse("64").is_err());
    let results: Vec<PathResult> = serde_json::from_str(
        r#"[{"path":"/p"},{"path":"/q","error":{"kind":"not-found","message":"stat /q: no such file or directory"}}]"#,
    )
    .unwrap();
    assert_eq!(results[0].error, None);
    assert_eq!(
        results[1].error.as_ref().unwrap().kind,
        Some(ErrorKind::NotFound)
    );
}

#[test]
fn checks() {
    let list: Vec<CheckInfo> = serde_json::from_str(
        r#"[{"name":"http-up","level":"alive","startup":"enabled","status":"up","successes":12,"threshold":3,"change-id":"15"},
            {"name":"db","status":"inactive","threshold":3}]"#,
    )
    .unwrap();
    assert_eq!(list[0].level, Some(CheckLevel::Alive));
    assert_eq!(list[0].successes, Some(12));
    assert_eq!(
        list[1].startup,
        Startup::Enabled,
        "absent startup is enabled"
    );
    assert_eq!((list[1].failures, list[1].successes), (0, None));
    let changed: ChecksChanged = serde_json::from_str(r#"{"changed":null}"#).unwrap();
    assert!(changed.changed.is_empty());
    assert_eq!(
        serde_json::to_value(ChecksRequest {
            action: ChecksAction::Stop,
            checks: vec!["db".into()]
        })
        .unwrap(),
        json!({"action":"stop","checks":["db"]})
    );
}

#[test]
fn notices() {
    let notice: Notice = serde_json::from_str(
        r#"{"id":"17","user-id":0,"type":"custom","key":"example.com/db/backup-done",
            "first-occurred":"2026-07-01T10:00:00.000000001Z","last-occurred":"2026-07-01T11:00:00.5Z",
            "last-repeated":"2026-07-01T11:00:00.5Z","occurrences":3,"last-data":{"path":"/b/1"},
            "repeat-after":"1h0m0s","expire-after":"168h0m0s"}"#,
    )
    .unwrap();
    assert_eq!(notice.repeat_after, Some(GoDuration::from_secs(3600)));
    assert_eq!(notice.last_data["path"], "/b/1");
    let public: Notice =
        serde_json::from_value(json!({"id":"1","user-id":null,"type":"change-update",
        "key":"3","first-occurred":"a","last-occurred":"b","last-repeated":"c","occurrences":1}))
        .unwrap();
    assert_eq!(public.user_id, None);
    assert_eq!(
        serde_json::to_value(&public).unwrap()["user-id"],
        json!(null)
    );

    let filter = NoticesFilter {
        users: Some(NoticeUsers::All),
        types: vec![NoticeType::Custom, NoticeType::Warning],
        keys: vec!["a.com/x".into(), "b.com/y".into()],
        after: Some("2026-07-01T11:00:00.5Z".into()),
        timeout: Some(GoDuration::from_secs(30)),
    };
    assert_eq!(
        filter.query(),
        vec![
            ("users", "all".to_string()),
            ("types", "custom,warning".to_string()),
            ("keys", "a.com/x,b.com/y".to_string()),
            ("after", "2026-07-01T11:00:00.5Z".to_string()),
            ("timeout", "30s".to_string()),
        ]
    );
    assert!(NoticesFilter::default().query().is_empty());

    for good in [
        "example.com/path",
        "a-b.c-d.io/x/y-z",
        "canonical.com/my-app/1",
    ] {
        assert!(is_valid_notice_key(good), "{good}");
    }
    for bad in [
        "example/path",
        "Example.com/path",
        "example.com",
        "example.com/",
        "-a.com/x",
        "a..com/x",
        "a.com/x//y",
        "a.com/x-",
        "",
    ] {
        assert!(!is_valid_notice_key(bad), "{bad}");
    }
    assert!(!is_valid_notice_key(&format!("a.com/{}", "x".repeat(251))));
    assert!(is_valid_notice_key(&format!("a.com/{}", "x".repeat(250))));
}
