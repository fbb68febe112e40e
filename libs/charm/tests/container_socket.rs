//! The container handle over a real socket: `charm::Container` with the real `pebble::Client`
//! against the workspace's Pebble server, at the path the socket override gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;
use std::time::Duration;

use charm::container::socket_path;
use charm::pebble::plan::{Layer, Service, Startup};
use charm::pebble::{Client, Error, MakeDirOptions, PushOptions};
use charm::{Container, PebbleApi};
use pebble_server::{Server, ServerConfig};

#[test]
fn the_handle_drives_a_real_pebble() {
    let dir = std::env::temp_dir().join(format!("charm-container-socket-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sockets = dir.join("containers");
    let socket = socket_path("web", sockets.to_str()).unwrap();
    assert_eq!(socket, sockets.join("web/pebble.socket"));
    // What ctx.container gives outside tests, and the same client behind the trait object.
    let web = Container::with_client("web", Client::new(&socket));
    let client: Rc<dyn PebbleApi> = Rc::new(Client::new(&socket));
    let dyn_web = Container::new("web", client);
    assert!(!web.can_connect(), "no server yet");
    assert!(!dyn_web.can_connect());

    let mut config = ServerConfig::new(&socket, dir.join("root"));
    config.okay_delay = Duration::from_millis(200);
    let server = Server::new(config).unwrap().spawn();
    assert!(web.can_connect());
    assert!(web.client().is_some());
    assert!(dyn_web.can_connect());
    assert!(dyn_web.client().is_some());

    let mut service = Service::replace("sleep 30");
    service.startup = Some(Startup::Enabled);
    let layer = Layer {
        services: [("sleeper".to_string(), service)].into(),
        ..Layer::default()
    };
    // Sent as JSON text, which Pebble reads as the YAML it is.
    web.add_layer("base", &layer, false).unwrap();
    let err = dyn_web.add_layer("base", &layer, false).unwrap_err();
    assert_eq!(err.to_string(), r#"layer "base" already exists"#);
    assert_eq!(
        web.get_plan().unwrap().services["sleeper"].command,
        "sleep 30"
    );
    web.replan().unwrap();
    assert!(web.get_service("sleeper").unwrap().unwrap().is_running());
    assert!(web.get_service("nope").unwrap().is_none());

    web.push(
        "/etc/app/app.conf",
        "a: 1\n",
        &PushOptions::new().make_dirs(true).permissions(0o600),
    )
    .unwrap();
    assert_eq!(web.pull("/etc/app/app.conf").unwrap(), b"a: 1\n");
    assert!(web.exists("/etc/app").unwrap());
    assert!(web.is_dir("/etc/app").unwrap());
    assert!(!web.is_dir("/etc/app/app.conf").unwrap());
    assert!(!web.exists("/etc/none").unwrap());
    match web.pull("/etc/none") {
        Err(Error::Path(e)) => assert!(e.message.contains("no such file"), "{e}"),
        other => panic!("{other:?}"),
    }
    web.make_dir(
        "/srv/data",
        &MakeDirOptions {
            make_parents: true,
            ..Default::default()
        },
    )
    .unwrap();

    let out = web
        .exec(["sh", "-c", "cat; printf \"$GREETING\"; pwd"])
        .env("GREETING", "hi")
        .working_dir("/")
        .stdin("in:")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(
        out.stdout_text().starts_with("in:hi"),
        "{}",
        out.stdout_text()
    );
    match web
        .exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
        .output()
    {
        Err(Error::Exec(e)) => {
            assert_eq!(e.exit_code, 3);
            assert_eq!(
                (e.stdout.as_slice(), e.stderr.as_slice()),
                (&b"out\n"[..], &b"err\n"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    let id = web
        .notify("example.com/done", &Default::default(), None)
        .unwrap();
    assert_eq!(web.get_notice(&id).unwrap().key, "example.com/done");

    web.stop(&["sleeper"]).unwrap();
    assert!(!web.get_service("sleeper").unwrap().unwrap().is_running());
    drop(server.stop());
    assert!(!web.can_connect(), "the server is gone");
    assert!(web.get_plan().unwrap_err().is_connection());
    let _ = std::fs::remove_dir_all(&dir);
}
