//! The server driven by the workspace's Pebble client (`pebble::Client`): a charm's whole
//! conversation, so a bug in one cannot hide behind the other's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use pebble::error::Error;
use pebble::types::{NoticeType, NoticeUsers, NoticesFilter, ServiceStatus};
use pebble::{Client, MakeDirOptions, PushOptions};

#[test]
fn a_charms_conversation_through_the_client() {
    let p = start("client");
    let client = Client::new(&p.socket);
    assert!(client.can_connect());
    assert_eq!(
        client.system_info().unwrap().boot_id,
        p.server.as_ref().unwrap().boot_id()
    );

    client
        .add_layer_yaml(
            "base",
            "services:\n  web:\n    override: replace\n    command: sleep 30\n    startup: enabled\n    environment:\n      PORT: '8080'\n",
            false,
        )
        .unwrap();
    assert_eq!(
        client.get_plan().unwrap().services["web"].environment["PORT"],
        "8080"
    );
    let change = client.replan_services().unwrap();
    assert!(change.ready);
    let web = &client.get_services(&["web"]).unwrap()[0];
    assert_eq!(web.current, ServiceStatus::Active);
    client.send_signal("SIGCONT", &["web"]).unwrap();

    // Files.
    client
        .push(
            "/etc/app/config.yaml",
            b"port: 8080\n",
            &PushOptions::new().make_dirs(true).permissions(0o600),
        )
        .unwrap();
    assert_eq!(
        client.pull("/etc/app/config.yaml").unwrap(),
        b"port: 8080\n"
    );
    let listed = client
        .list_files("/etc/app", Some("*.yaml"), false)
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "config.yaml");
    client
        .make_dir(
            "/var/lib/app",
            &MakeDirOptions {
                make_parents: true,
                ..MakeDirOptions::default()
            },
        )
        .unwrap();
    assert!(p.host("/var/lib/app").is_dir());
    client.remove_path("/var", true).unwrap();
    assert!(!p.host("/var").exists());
    match client.pull("/missing") {
        Err(Error::Path(e)) => assert_eq!(e.message, "stat /missing: no such file or directory"),
        other => panic!("expected a path error, got {other:?}"),
    }
    match client.list_files("/missing", None, false) {
        Err(Error::Api(e)) => assert_eq!(e.status_code, 404),
        other => panic!("expected an API error, got {other:?}"),
    }

    // Exec.
    let out = client
        .exec(["sh", "-c", "cat; echo to-stderr >&2"])
        .stdin(&b"from stdin"[..])
        .output()
        .unwrap();
    assert_eq!(out.stdout_text(), "from stdin");
    assert_eq!(out.stderr_text(), "to-stderr\n");
    match client.exec(["sh", "-c", "echo partial; exit 4"]).output() {
        Err(Error::Exec(e)) => {
            assert_eq!(e.exit_code, 4);
            assert_eq!(e.stdout, b"partial\n");
        }
        other => panic!("expected an exec error, got {other:?}"),
    }
    match client
        .exec(["sleep", "30"])
        .timeout(Duration::from_millis(300))
        .output()
    {
        Err(Error::Change(e)) => assert!(e.err.contains("timed out after 300ms"), "{}", e.err),
        other => panic!("expected a change error, got {other:?}"),
    }
    std::fs::create_dir_all(p.host("/work")).unwrap();
    let pwd = client.exec(["pwd"]).working_dir("/work").output().unwrap();
    assert!(
        pwd.stdout_text().trim_end().ends_with("/root/work"),
        "{}",
        pwd.stdout_text()
    );

    // Notices.
    let id = client
        .notify(
            "example.com/charm/event",
            &BTreeMap::from([("a".to_string(), "1".to_string())]),
            None,
        )
        .unwrap();
    let filter = NoticesFilter {
        users: Some(NoticeUsers::All),
        types: vec![NoticeType::Custom],
        ..NoticesFilter::default()
    };
    let notices = client.get_notices(&filter).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].id, id);
    assert_eq!(client.get_notice(&id).unwrap().last_data["a"], "1");

    // Service errors come back typed.
    match client.start_services(&["nope"]) {
        Err(Error::Api(e)) => {
            assert_eq!(e.status_code, 400);
            assert_eq!(
                e.message,
                "cannot start services: service \"nope\" does not exist"
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    client.stop_services(&["web"]).unwrap();
    assert_eq!(
        client.get_services(&["web"]).unwrap()[0].current,
        ServiceStatus::Inactive
    );
}

#[test]
fn checks_through_the_client() {
    let p = start("clientchecks");
    let client = Client::new(&p.socket);
    client
        .add_layer_yaml(
            "base",
            "checks:\n  c:\n    override: replace\n    startup: disabled\n    period: 50ms\n    exec:\n      command: 'true'\n",
            false,
        )
        .unwrap();
    assert_eq!(client.start_checks(&["c"]).unwrap(), ["c"]);
    eventually("a success", || {
        client.get_checks(None, &["c"]).unwrap()[0]
            .successes
            .unwrap_or(0)
            > 0
    });
    assert_eq!(client.stop_checks(&["c"]).unwrap(), ["c"]);
    assert!(client.stop_checks(&["c"]).unwrap().is_empty());
}

#[test]
fn a_stopped_server_is_a_connection_error() {
    let mut p = start("clientgone");
    let client = Client::new(&p.socket);
    assert!(client.can_connect());
    drop(p.server.take());
    assert!(!client.can_connect());
    assert!(client.system_info().unwrap_err().is_connection());
}

#[test]
fn several_files_pushed_in_one_request() {
    let p = start("pushmany");
    let client = Client::new(&p.socket);
    let options = PushOptions::new().make_dirs(true).permissions(0o640);
    client
        .push_many(
            &[
                ("/etc/a/one", b"1\n"),
                ("/etc/b/two", b""),
                ("/three", b"3"),
            ],
            &options,
        )
        .unwrap();
    assert_eq!(client.pull("/etc/a/one").unwrap(), b"1\n");
    assert_eq!(client.pull("/etc/b/two").unwrap(), b"");
    assert_eq!(client.pull("/three").unwrap(), b"3");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p.host("/etc/b/two"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    // A failed path is named; the others are still written.
    let err = client
        .push_many(&[("/new", b"n"), ("/no/parent", b"x")], &PushOptions::new())
        .unwrap_err();
    let Error::Path(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.path, "/no/parent");
    assert_eq!(client.pull("/new").unwrap(), b"n");
}
