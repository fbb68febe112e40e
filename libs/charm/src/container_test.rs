//! Tests of `container.rs` (the harness tests the handle against its in-memory Pebble).

use super::*;

#[test]
fn socket_paths() {
    assert_eq!(
        socket_path("web", None).unwrap(),
        PathBuf::from("/charm/containers/web/pebble.socket")
    );
    assert_eq!(
        socket_path("web", Some("/tmp/unit-0/containers")).unwrap(),
        PathBuf::from("/tmp/unit-0/containers/web/pebble.socket")
    );
    assert_eq!(
        socket_path("web", Some("relative/dir")).unwrap_err(),
        ContainerError::BadOverride("relative/dir".into())
    );
    for bad in ["../etc", "", "Web", "a/b"] {
        assert_eq!(
            socket_path(bad, None).unwrap_err(),
            ContainerError::InvalidName(bad.into())
        );
    }
}

#[test]
fn a_missing_socket_cannot_connect_and_is_waiting() {
    let dir = std::env::temp_dir().join(format!("charm-container-{}", std::process::id()));
    let socket = socket_path("web", dir.to_str()).unwrap();
    let web = Container::new("web", Rc::new(Client::new(socket)));
    assert_eq!(web.name(), "web");
    assert!(web.client().is_some());
    assert!(!web.can_connect());
    let err = web.get_plan().unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert_eq!(err.outcome(), Outcome::Waiting);
    let err = web.exec(["true"]).output().unwrap_err();
    assert!(err.is_connection(), "{err}");
    // Any other Pebble error fails the hook.
    let api = pebble::Error::Protocol("garbage".into());
    assert_eq!(api.outcome(), Outcome::Fail);
    assert_eq!(ContainerError::Unknown("x".into()).outcome(), Outcome::Fail);
}

#[test]
fn exec_builder_fills_the_request() {
    let dir = std::env::temp_dir();
    let web = Container::new("web", Rc::new(Client::new(dir.join("none.socket"))));
    let cmd = web
        .exec(["ls", "-l"])
        .env("A", "1")
        .working_dir("/srv")
        .timeout(Duration::from_secs(3))
        .user("web")
        .group_id(7)
        .combine_stderr(true)
        .stdin("in");
    let r = cmd.request();
    assert_eq!(r.command, ["ls", "-l"]);
    assert_eq!(r.environment["A"], "1");
    assert_eq!(r.working_dir.as_deref(), Some("/srv"));
    assert_eq!(r.timeout.map(|t| t.to_string()).as_deref(), Some("3s"));
    assert_eq!(r.user.as_deref(), Some("web"));
    assert_eq!(r.group_id, Some(7));
    assert!(!r.split_stderr);
    assert_eq!(cmd.stdin, b"in");
}
