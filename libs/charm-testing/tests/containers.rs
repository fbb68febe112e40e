//! Workload containers in the harness: the charm's `ctx.container(..)` against the in-memory
//! Pebble of a `State` container, with Pebble's rules.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use charm::pebble::plan::{Layer, Override, Service, Startup};
use charm::pebble::types::{CheckStatus, ErrorKind, NoticesFilter, ServiceStatus};
use charm::pebble::{Error as PebbleError, MakeDirOptions, PushOptions};
use charm::{
    Charm, Ctx, Error, Event, EventKind, PebbleCheckEvent, PebbleNoticeEvent, Status, StatusKind,
    WorkloadEvent,
};
use charm_testing::{Container, ExecHandler, Harness, State};

const METADATA: &str = "
name: web-k8s
containers:
  web:
    resource: web-image
    mounts: [{storage: data, location: /srv/data}]
  other: {resource: web-image}
resources:
  web-image: {type: oci-image}
storage:
  data: {type: filesystem}
";

fn web_layer(command: &str) -> Layer {
    let mut web = Service::replace(command);
    web.startup = Some(Startup::Enabled);
    Layer {
        services: [("web".to_string(), web)].into(),
        ..Layer::default()
    }
}

/// A charm whose pebble-ready handler runs `body` on the `web` container and records lines.
fn probe(
    body: impl Fn(&charm::Container, &mut Vec<String>) -> Result<(), PebbleError> + 'static,
) -> (Harness, Rc<RefCell<Vec<String>>>) {
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = seen.clone();
    let mut charm = Charm::new();
    charm.on(
        EventKind::PebbleReady.on("web"),
        move |ctx: &mut Ctx, e: &WorkloadEvent| -> Result<(), Error> {
            let web = ctx.container(&e.container)?;
            let mut lines = Vec::new();
            let result = body(&web, &mut lines);
            if let Err(e) = &result {
                lines.push(format!("error: {e}"));
            }
            sink.borrow_mut().extend(lines);
            Ok(())
        },
    );
    (Harness::new(charm, METADATA), seen)
}

fn web() -> Container {
    Container::new("web")
}

#[test]
fn pebble_ready_adds_a_layer_replans_pushes_and_runs_a_command() {
    let (harness, seen) = probe(|web, lines| {
        web.add_layer("web", &web_layer("/bin/web --port 80"), true)?;
        web.replan()?;
        web.push(
            "/etc/web/web.conf",
            "port: 80\n",
            &PushOptions::new()
                .make_dirs(true)
                .permissions(0o600)
                .user("web"),
        )?;
        let out = web
            .exec(["/bin/web", "--check-config"])
            .env("MODE", "check")
            .working_dir("/etc/web")
            .stdin("input")
            .output()?;
        lines.push(out.stdout_text());
        Ok(())
    });
    let state = State::default()
        .container(web().exec(ExecHandler::new(["/bin/web"]).stdout("config ok\n")));
    let ready = state.get_container("web").pebble_ready();
    let out = harness.run(ready, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(*seen.borrow(), ["config ok\n"]);
    let web = out.state.get_container("web");
    assert_eq!(web.plan().services["web"].command, "/bin/web --port 80");
    assert_eq!(web.service("web"), ServiceStatus::Active);
    assert_eq!(
        web.read_text("/etc/web/web.conf").as_deref(),
        Some("port: 80\n")
    );
    let file = &web.fs["/etc/web/web.conf"];
    assert_eq!(file.permissions, 0o600);
    assert_eq!(file.user.as_deref(), Some("web"));
    assert!(web.fs["/etc/web"].is_dir());
    let history = &out.exec_history["web"];
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].command, ["/bin/web", "--check-config"]);
    assert_eq!(history[0].environment["MODE"], "check");
    assert_eq!(history[0].working_dir.as_deref(), Some("/etc/web"));
    assert_eq!(history[0].stdin, b"input");
}

#[test]
fn a_container_that_cannot_connect_is_unreachable_waiting_and_deferred() {
    let mut charm = Charm::new();
    charm.on_named(
        "configure",
        EventKind::PebbleReady.on("web"),
        |ctx: &mut Ctx, e: &WorkloadEvent| -> Result<(), Error> {
            let web = ctx.container_or_defer(&e.container)?;
            web.replan()?;
            Ok(())
        },
    );
    let harness = Harness::new(charm, METADATA);
    let state = State::default().container(web().can_connect(false));
    let ready = state.get_container("web").pebble_ready();
    let out = harness.run(ready, state);
    assert!(out.ok(), "{:?}", out.error());
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Waiting);
    assert!(
        status.message.contains("waiting for container web"),
        "{status:?}"
    );
    assert_eq!(out.state.deferred.len(), 1);

    // Every call of a handle on it is a connection error.
    let (harness, seen) = probe(|web, lines| {
        lines.push(format!("can_connect={}", web.can_connect()));
        for e in [
            web.get_plan().map(drop).unwrap_err(),
            web.push("/x", "y", &PushOptions::new()).unwrap_err(),
            web.exec(["ls"]).output().map(drop).unwrap_err(),
        ] {
            lines.push(format!("connection={}", e.is_connection()));
        }
        Ok(())
    });
    let state = State::default().container(web().can_connect(false));
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok());
    assert_eq!(
        *seen.borrow(),
        [
            "can_connect=false",
            "connection=true",
            "connection=true",
            "connection=true"
        ]
    );
}

#[test]
fn a_declared_container_missing_from_the_state_cannot_connect() {
    let (harness, seen) = probe(|web, lines| {
        lines.push(format!("{}", web.can_connect()));
        Ok(())
    });
    let event = Event::PebbleReady(WorkloadEvent {
        container: "web".into(),
    });
    let out = harness.run(event, State::default());
    assert!(out.ok());
    assert_eq!(*seen.borrow(), ["false"]);
}

#[test]
fn an_unknown_container_name_is_a_typed_error_that_fails_the_hook() {
    let mut charm = Charm::new();
    charm.on(
        EventKind::Install,
        |ctx: &mut Ctx, _: &Event| -> Result<(), Error> {
            ctx.container("nope")?;
            Ok(())
        },
    );
    let out = Harness::new(charm, METADATA).run(Event::Install, State::default());
    assert_eq!(
        out.error(),
        Some(r#"container "nope" is not declared in metadata.yaml (containers)"#)
    );
}

#[test]
#[should_panic(expected = "which metadata.yaml does not declare")]
fn a_state_container_the_metadata_does_not_declare_is_a_test_bug() {
    let (harness, _) = probe(|_, _| Ok(()));
    harness.run(
        Event::Install,
        State::default().container(Container::new("db")),
    );
}

#[test]
fn layers_follow_pebbles_merge_rules() {
    let (harness, seen) = probe(|web, lines| {
        // Merge into the layer the state holds: environment merges, command stays.
        let mut tweak = Service::merge();
        tweak.environment.insert("B".into(), "2".into());
        let layer = Layer {
            services: [("web".to_string(), tweak)].into(),
            ..Layer::default()
        };
        web.add_layer("base", &layer, true)?;
        // Without combine, an existing label is refused.
        lines.push(
            web.add_layer("base", &layer, false)
                .unwrap_err()
                .to_string(),
        );
        // A layer without override is refused, and changes nothing.
        let mut bare = Service::replace("/bin/other");
        bare.r#override = None;
        let bad = Layer {
            services: [("other".to_string(), bare)].into(),
            ..Layer::default()
        };
        let e = web.add_layer("bad", &bad, false).unwrap_err();
        lines.push(format!("{:?} {e}", e.status_code()));
        Ok(())
    });
    let state = State::default().container(web().layer_yaml(
        "base",
        "services:\n  web:\n    override: replace\n    command: /bin/web\n    environment: {A: '1'}\n",
    ));
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok());
    let lines = seen.borrow();
    assert_eq!(lines[0], r#"layer "base" already exists"#);
    assert!(lines[1].starts_with("Some(400)"), "{}", lines[1]);
    assert!(
        lines[1].contains(r#"must define "override" for service "other""#),
        "{}",
        lines[1]
    );
    let web = out.state.get_container("web");
    let service = &web.plan().services["web"];
    assert_eq!(service.command, "/bin/web");
    assert_eq!(service.r#override, Some(Override::Replace));
    assert_eq!(service.environment.len(), 2);
    assert!(!web.plan().services.contains_key("other"));
    assert_eq!(web.layers.layers().len(), 1);
}

#[test]
fn files_keep_pebbles_errors() {
    let dir = std::env::temp_dir().join(format!("charm-testing-fs-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(dir.join("conf.d/a.conf"), "a").unwrap();
    std::fs::write(dir.join("conf.d/b.txt"), "b").unwrap();
    let (harness, seen) = probe(|web, lines| {
        let mut show = |r: Result<(), PebbleError>| {
            lines.push(match r {
                Ok(()) => "ok".into(),
                Err(PebbleError::Path(e)) => format!("path {:?}: {}", e.kind, e.message),
                Err(PebbleError::Api(e)) => format!("api {}: {}", e.status_code, e.message),
                Err(e) => format!("other: {e}"),
            })
        };
        show(web.pull("/missing").map(drop));
        show(web.push("/no/such/dir/f", "x", &PushOptions::new()));
        show(web.push("relative", "x", &PushOptions::new()));
        show(web.list_files("/missing", None, false).map(drop));
        show(web.make_dir("/srv/conf.d", &MakeDirOptions::default()));
        show(web.remove_path("/srv/conf.d", false));
        show(web.pull("/srv/conf.d").map(drop));
        show(web.push("/srv/x", "y", &PushOptions::new().group("g")));
        let names: Vec<String> = web
            .list_files("/srv/conf.d", Some("*.conf"), false)?
            .into_iter()
            .map(|f| f.name)
            .collect();
        lines.push(names.join(","));
        lines.push(String::from_utf8_lossy(&web.pull("/srv/conf.d/a.conf")?).into_owned());
        lines.push(format!(
            "{} {}",
            web.exists("/srv/conf.d")?,
            web.is_dir("/srv/conf.d/a.conf")?
        ));
        web.remove_path("/srv/conf.d", true)?;
        web.remove_path("/srv/never", true)?;
        Ok(())
    });
    let state = State::default().container(web().files_from("/srv", &dir));
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.ok());
    assert_eq!(
        *seen.borrow(),
        [
            "path NotFound: stat /missing: no such file or directory",
            "path NotFound: open /no/such/dir/f: no such file or directory",
            r#"path GenericFileError: paths must be absolute, got "relative""#,
            "api 404: stat /missing: no such file or directory",
            "path GenericFileError: mkdir /srv/conf.d: file exists",
            "path GenericFileError: remove /srv/conf.d: directory not empty",
            r#"path GenericFileError: can only read a regular file: "/srv/conf.d""#,
            "path GenericFileError: must specify user, not just group",
            "a.conf",
            "a",
            "true false",
        ]
    );
    let web = out.state.get_container("web");
    assert!(web.fs.contains_key("/srv"));
    assert!(!web.fs.keys().any(|p| p.starts_with("/srv/conf.d")));
    assert_eq!(ErrorKind::NotFound.as_str(), "not-found");
}

#[test]
fn exec_handlers_match_the_longest_prefix_and_report_failures() {
    let (harness, seen) = probe(|web, lines| {
        lines.push(web.exec(["git", "status"]).output()?.stdout_text());
        lines.push(web.exec(["git", "log", "-1"]).output()?.stdout_text());
        match web.exec(["git", "push"]).combine_stderr(true).output() {
            Err(PebbleError::Exec(e)) => lines.push(format!(
                "exit {} {:?}",
                e.exit_code,
                String::from_utf8_lossy(&e.stdout)
            )),
            other => lines.push(format!("unexpected {other:?}")),
        }
        lines.push(web.exec(["ls"]).output().unwrap_err().to_string());
        match web
            .exec(["sleep", "9"])
            .timeout(Duration::from_secs(2))
            .output()
        {
            Err(PebbleError::Change(e)) => lines.push(e.err),
            other => lines.push(format!("unexpected {other:?}")),
        }
        lines.push(
            web.exec(["git", "status"])
                .working_dir("/nowhere")
                .output()
                .unwrap_err()
                .to_string(),
        );
        Ok(())
    });
    let state = State::default().container(
        web()
            .exec(ExecHandler::new(["git"]).stdout("any git\n"))
            .exec(ExecHandler::new(["git", "log"]).stdout("abc123\n"))
            .exec(ExecHandler::new(["sleep"]).times_out())
            .exec(
                ExecHandler::new(["git", "push"])
                    .exit_code(128)
                    .stdout("out;")
                    .stderr("denied"),
            ),
    );
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok());
    let lines = seen.borrow();
    assert_eq!(lines[0], "any git\n");
    assert_eq!(lines[1], "abc123\n");
    assert_eq!(lines[2], r#"exit 128 "out;denied""#);
    assert!(
        lines[3].starts_with(r#"cannot find executable "ls""#),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4],
        "cannot perform the following tasks:\n- Execute command \"sleep\" (timed out after 2s: context deadline exceeded)"
    );
    assert_eq!(
        lines[5],
        r#"cannot call exec: working directory "/nowhere" does not exist"#
    );
    // The four commands that ran are recorded (with the timeout asked for), the refused ones not.
    let history = &out.exec_history["web"];
    assert_eq!(history.len(), 4);
    assert_eq!(
        history[3].request.timeout.map(|t| t.to_string()).as_deref(),
        Some("2s")
    );
}

#[test]
fn services_follow_pebbles_rules() {
    let (harness, seen) = probe(|web, lines| {
        let mut show = |r: Result<(), PebbleError>| {
            lines.push(r.map_or_else(|e| e.to_string(), |()| "ok".into()))
        };
        show(web.start(&[]));
        show(web.start(&["nope"]));
        show(web.autostart());
        show(web.start(&["web"])); // pulls in db, which web requires
        show(web.send_signal("SIGHUP", &["web"]));
        show(web.send_signal("SIGHUP", &["worker"]));
        show(web.stop(&["db"])); // stops web, which requires db
        Ok(())
    });
    let state = State::default().container(web().layer_yaml(
        "base",
        "services:
  web: {override: replace, command: /bin/web, requires: [db]}
  db: {override: replace, command: /bin/db}
  worker: {override: replace, command: /bin/worker}
",
    ));
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    assert!(out.ok());
    assert_eq!(
        *seen.borrow(),
        [
            "must specify services for start action",
            r#"cannot start services: service "nope" does not exist"#,
            "no default services",
            "ok",
            "ok",
            r#"cannot send signal to "worker": service is not running"#,
            "ok",
        ]
    );
    let web = out.state.get_container("web");
    assert_eq!(web.service("web"), ServiceStatus::Inactive);
    assert_eq!(web.service("db"), ServiceStatus::Inactive);
}

#[test]
fn check_events_carry_the_check_and_checks_follow_the_plan() {
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = seen.clone();
    let mut charm = Charm::new();
    charm.on(
        EventKind::PebbleCheckFailed.on("web"),
        move |ctx: &mut Ctx, e: &PebbleCheckEvent| -> Result<(), Error> {
            let web = ctx.container(&e.workload.container)?;
            let check = e.check.clone();
            let info = web.get_check(&check)?.map(|i| i.status);
            sink.borrow_mut().push(format!("{check} {info:?}"));
            let stopped = web.stop_checks(&[&check])?;
            sink.borrow_mut().push(format!("stopped {stopped:?}"));
            let err = web.start_checks(&["ghost"]).unwrap_err();
            sink.borrow_mut().push(err.to_string());
            ctx.set_unit_status(Status::maintenance("restarting"))?;
            Ok(())
        },
    );
    let harness = Harness::new(charm, METADATA);
    let mut down = Container::check_up("up", 3);
    down.status = CheckStatus::Down;
    down.failures = 3;
    let state = State::default().container(
        web()
            .layer_yaml(
                "base",
                "checks:\n  up:\n    override: replace\n    tcp: {port: 80}\n",
            )
            .check_info(down),
    );
    let failed = state.get_container("web").check_failed("up");
    let out = harness.run(failed, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        *seen.borrow(),
        [
            "up Some(Down)",
            r#"stopped ["up"]"#,
            "cannot start checks: cannot find checks in plan: ghost",
        ]
    );
    assert_eq!(
        out.state.get_container("web").check_infos["up"].status,
        CheckStatus::Inactive
    );
}

#[test]
fn custom_notices_reach_the_handler_and_notify_records_new_ones() {
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = seen.clone();
    let mut charm = Charm::new();
    charm.on(
        EventKind::PebbleCustomNotice.on("web"),
        move |ctx: &mut Ctx, e: &PebbleNoticeEvent| -> Result<(), Error> {
            let web = ctx.container(&e.workload.container)?;
            let notice = e.notice.clone();
            let full = web.get_notice(&notice.id)?;
            sink.borrow_mut().push(format!(
                "{} {} {} {}",
                notice.id, notice.kind, notice.key, full.occurrences
            ));
            web.notify("example.com/done", &[("k".into(), "v".into())].into(), None)?;
            let bad = web
                .notify("Not A Key", &Default::default(), None)
                .unwrap_err();
            sink.borrow_mut().push(bad.to_string());
            let all = web.get_notices(&NoticesFilter::default())?;
            sink.borrow_mut().push(all.len().to_string());
            Ok(())
        },
    );
    let harness = Harness::new(charm, METADATA);
    let state = State::default().container(web().notice("example.com/backup"));
    let event = state
        .get_container("web")
        .custom_notice("example.com/backup");
    let out = harness.run(event, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        *seen.borrow(),
        [
            "1 custom example.com/backup 1",
            r#"invalid key "Not A Key" (must be in "example.com/path" format)"#,
            "2",
        ]
    );
    let notices = &out.state.get_container("web").notices;
    assert_eq!(notices[1].key, "example.com/done");
    assert_eq!(notices[1].last_data["k"], "v");
}

#[test]
fn what_a_failed_hook_did_to_the_container_stays_done() {
    let mut charm = Charm::new();
    charm.on(
        EventKind::PebbleReady.on("web"),
        |ctx: &mut Ctx, e: &WorkloadEvent| -> Result<(), Error> {
            let web = ctx.container(&e.container)?;
            web.push("/pushed", "x", &PushOptions::new())?;
            Err(Error::fail("later step failed"))
        },
    );
    let harness = Harness::new(charm, METADATA);
    let state = State::default().container(web());
    let out = harness.run(state.get_container("web").pebble_ready(), state);
    assert!(!out.ok());
    assert_eq!(
        out.state
            .get_container("web")
            .read_text("/pushed")
            .as_deref(),
        Some("x")
    );
}

#[test]
#[should_panic(expected = "has check info \"ghost\", which its plan does not define")]
fn a_check_info_outside_the_plan_is_a_test_bug() {
    let (harness, _) = probe(|_, _| Ok(()));
    let state = State::default().container(web().check_info(Container::check_up("ghost", 3)));
    harness.run(Event::Install, state);
}

#[test]
fn push_many_writes_every_file_and_names_the_first_failure() {
    let (harness, seen) = probe(|web, _| {
        web.push_many(
            &[("/etc/a/one", b"1"), ("/etc/b/two", b"2")],
            &PushOptions::new().make_dirs(true).permissions(0o600),
        )?;
        web.push_many(
            &[("/ok", b"ok"), ("/no/parent", b"x"), ("/gone/too", b"y")],
            &PushOptions::new(),
        )
    });
    let state = State::default().container(web());
    let ready = state.get_container("web").pebble_ready();
    let out = harness.run(ready, state);
    assert!(out.ok(), "{:?}", out.error());
    let web = out.state.get_container("web");
    assert_eq!(web.read_text("/etc/a/one").as_deref(), Some("1"));
    assert_eq!(web.read_text("/etc/b/two").as_deref(), Some("2"));
    assert_eq!(web.fs["/etc/b/two"].permissions, 0o600);
    assert_eq!(web.read_text("/ok").as_deref(), Some("ok"));
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].contains("/no/parent"), "{seen:?}");
}
