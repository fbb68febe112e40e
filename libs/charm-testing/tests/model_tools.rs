//! The harness's side of the model tools: what a `State` describes, the charm sees; what the
//! charm asks, the run records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Charm, Ctx, Error, Event, Status, StatusCollector};
use charm_testing::{Harness, State};

const META: &str = "name: app\nrequires:\n  db: {interface: pg}\nextra-bindings:\n  admin:\n";

fn harness(charm: Charm) -> Harness {
    Harness::new(charm, META)
}

#[test]
fn escape_hatch_is_recorded_and_answered_by_the_state() {
    let mut charm = Charm::new();
    charm.collect_status(|ctx: &mut Ctx, s: &mut StatusCollector| {
        let addr = ctx.run_tool("unit-get", &["--", "private-address"])?;
        s.add_unit(Status::active(addr.trim()));
        Ok(())
    });
    let h = harness(charm);
    let out = h.run(
        Event::UpdateStatus,
        State::default().tool_answer("unit-get", "10.9.8.7\n"),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.unit_status, Some(Status::active("10.9.8.7")));
    assert_eq!(
        out.tool_argv,
        vec![(
            "unit-get".to_string(),
            vec!["--".to_string(), "private-address".to_string()]
        )]
    );
    assert_eq!(out.calls_to("unit-get"), 1);

    // A failure the test describes reaches the charm as the tool's error.
    let out = h.run(
        Event::UpdateStatus,
        State::default().tool_failure("unit-get", 1, "ERROR boom"),
    );
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("boom"));

    // A tool the test does not answer is missing, as from PATH.
    let out = h.run(Event::UpdateStatus, State::default());
    assert!(out.error().unwrap().contains("does not answer"));
}

#[test]
fn escape_hatch_refuses_a_name_that_is_not_a_tool() {
    fn run_path(ctx: &mut Ctx) -> Result<(), Error> {
        ctx.run_tool("../../bin/sh", &["-c", "true"])?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm.on(
        charm::EventKind::UpdateStatus,
        |ctx: &mut Ctx, _: &Event| run_path(ctx),
    );
    let out = harness(charm).run(Event::UpdateStatus, State::default());
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("not a hook tool name"));
    assert!(out.tool_argv.is_empty());
}

fn network_status(ctx: &mut Ctx, s: &mut StatusCollector) -> Result<(), Error> {
    let binding: String = ctx.config::<serde_json::Value>()?["binding"]
        .as_str()
        .unwrap_or("admin")
        .to_string();
    let net = ctx.network(&binding, None)?;
    let bind = net
        .bind_address()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let ingress = net
        .ingress_address()
        .map(|a| a.to_string())
        .unwrap_or_default();
    s.add_unit(Status::active(format!("{bind} {ingress}")));
    Ok(())
}

#[test]
fn networks_are_described_per_binding() {
    use charm::network::{Host, Network, Subnet};
    let mut charm = Charm::new();
    charm.collect_status(network_status);
    let h = harness(charm);
    let mut admin = charm_testing::default_network();
    admin.interfaces[0].addresses[0].address = "10.20.0.4".parse().unwrap();
    admin.ingress_addresses = vec![Host::Name("admin.example.com".into())];
    admin.egress_subnets = vec![Subnet::parse("10.20.0.0/16").unwrap()];

    let state = State::default()
        .network("admin", admin)
        .config("binding", "admin");
    let out = h.run(Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("10.20.0.4 admin.example.com"))
    );

    // A declared binding the test does not describe gets the default network.
    let out = h.run(
        Event::UpdateStatus,
        State::default().config("binding", "db"),
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("192.0.2.0 192.0.2.0"))
    );
    let _: Network = charm_testing::default_network();

    // An undeclared binding fails as on Juju.
    let out = h.run(
        Event::UpdateStatus,
        State::default().config("binding", "nope"),
    );
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("no network config found"));
}

const STORAGE_META: &str = "name: app\nstorage:\n  data:\n    type: filesystem\n    location: /srv/data\n    multiple: {range: 1-2}\n  raw:\n    type: block\n";

fn on_attached(ctx: &mut Ctx, ev: &charm::StorageEvent) -> Result<(), Error> {
    let id = charm::storage::StorageId::new(&ev.name, ev.index)
        .ok_or_else(|| Error::fail("bad storage id"))?;
    let info = ctx.storage(&id)?;
    let all = ctx.storages(&ev.name)?;
    ctx.set_unit_status(Status::active(format!(
        "{} {} {:?} of {}",
        id,
        info.location.display(),
        info.kind,
        all.len()
    )))?;
    if all.len() < 2 {
        ctx.add_storage(&ev.name, 1)?;
    }
    Ok(())
}

#[test]
fn storage_is_attached_listed_and_added() {
    use charm_testing::StorageInstance;
    let mut charm = Charm::new();
    charm.on(charm::EventKind::StorageAttached, on_attached);
    let h = Harness::new(charm, STORAGE_META);
    let data0 = StorageInstance::new("data", 0).at("/tmp/data-0");
    let out = h.run(data0.attached(), State::default().storage(data0.clone()));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("data/0 /tmp/data-0 Filesystem of 1"))
    );
    assert_eq!(out.state.storage_requests.get("data"), Some(&1));
    // add_storage's range check reused the list the handler read: one call each for the dispatch.
    assert_eq!(out.calls_to("storage-list"), 1, "{:?}", out.calls);
    assert_eq!(out.calls_to("storage-get"), 1, "{:?}", out.calls);

    // At the range's top, another storage-add is refused before it reaches Juju.
    let data1 = StorageInstance::new("data", 1);
    let state = State::default()
        .storage(data0.clone())
        .storage(data1.clone());
    let out = h.run(data1.attached(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.storage_requests.is_empty());

    // An event about an instance the state does not hold is a broken test.
    let err = h
        .check(
            &StorageInstance::new("data", 7).attached(),
            &State::default(),
        )
        .unwrap_err();
    assert!(err.contains("storage data/7"), "{err}");
}

#[test]
fn storage_answers_are_kept_for_the_dispatch_and_the_list_asked_again_after_storage_add() {
    fn twice(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        let id = charm::storage::StorageId::new("data", 0).unwrap();
        for _ in 0..2 {
            ctx.storage(&id)?;
            ctx.storages("data")?;
        }
        ctx.add_storage("data", 1)?;
        ctx.storages("data")?;
        Ok(())
    }
    use charm_testing::StorageInstance;
    let mut charm = Charm::new();
    charm.on(charm::EventKind::Install, twice);
    let data0 = StorageInstance::new("data", 0).at("/tmp/data-0");
    let out =
        Harness::new(charm, STORAGE_META).run(Event::Install, State::default().storage(data0));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("storage-get"), 1, "{:?}", out.calls);
    // Twice read, once for the range check (cached), once more after storage-add.
    assert_eq!(out.calls_to("storage-list"), 2, "{:?}", out.calls);
}

#[test]
fn storage_get_of_an_instance_not_attached_is_not_found() {
    fn get(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        let id = charm::storage::StorageId::new("data", 7).unwrap();
        match ctx.storage(&id) {
            Err(e) if e.is_not_found() => ctx.set_unit_status(Status::waiting("no data/7"))?,
            other => ctx.set_unit_status(Status::active(format!("{other:?}")))?,
        }
        Ok(())
    }
    let mut charm = Charm::new();
    charm.on(charm::EventKind::Install, get);
    let out = Harness::new(charm, STORAGE_META).run(Event::Install, State::default());
    assert_eq!(out.state.unit_status, Some(Status::waiting("no data/7")));
}

#[test]
fn storage_not_in_metadata_is_refused_by_the_model() {
    fn add_logs(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        ctx.add_storage("logs", 1)?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm.on(charm::EventKind::Install, add_logs);
    let out = Harness::new(charm, STORAGE_META).run(Event::Install, State::default());
    assert!(!out.ok());
    assert!(
        out.error()
            .unwrap()
            .contains("storage \"logs\": not declared")
    );
    assert_eq!(out.calls_to("storage-add"), 0);
}

#[test]
fn resources_are_paths_and_a_missing_one_is_typed() {
    fn show(ctx: &mut Ctx, s: &mut StatusCollector) -> Result<(), Error> {
        match ctx.resource("blob") {
            Ok(path) => s.add_unit(Status::active(path.display().to_string())),
            Err(e) if e.is_not_found() => s.add_unit(Status::blocked("attach the blob resource")),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
    let mut charm = Charm::new();
    charm.collect_status(show);
    let h = harness(charm);
    let out = h.run(
        Event::UpdateStatus,
        State::default().resource("blob", "/tmp/blob.tgz"),
    );
    assert_eq!(out.state.unit_status, Some(Status::active("/tmp/blob.tgz")));
    let out = h.run(Event::UpdateStatus, State::default());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("attach the blob resource"))
    );
    assert_eq!(out.calls_to("resource-get"), 1);
}

#[test]
fn leader_reads_the_app_status_with_its_units() {
    fn report(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        let r = ctx.app_status_report()?;
        let waiting = r
            .units
            .values()
            .filter(|s| s.kind == charm::StatusKind::Waiting)
            .count();
        ctx.set_unit_status(Status::active(format!(
            "{} units, {waiting} waiting",
            r.units.len()
        )))?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm.on(charm::EventKind::UpdateStatus, report);
    let h = harness(charm);
    let mut state = State::default().leader(true);
    state
        .peer_unit_statuses
        .insert("app/1".into(), Status::waiting("joining"));
    let out = h.run(Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("2 units, 1 waiting"))
    );
    // A follower may not: the model refuses before any tool runs.
    let out = h.run(Event::UpdateStatus, State::default());
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("not the leader"));
    assert_eq!(out.calls_to("status-get"), 0);
}

#[test]
fn cloud_spec_needs_trust_and_reboots_are_recorded() {
    fn go(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
        match ctx.cloud_spec() {
            Ok(spec) => ctx.set_unit_status(Status::active(spec.name))?,
            Err(charm::ModelError::HookTool(charm::HookToolError::NotTrusted { .. })) => {
                ctx.set_unit_status(Status::blocked("run juju trust"))?
            }
            Err(e) => return Err(e.into()),
        }
        ctx.reboot_after_hook()?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm.on(charm::EventKind::Install, go);
    let h = harness(charm);
    let out = h.run(Event::Install, State::default());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("run juju trust"))
    );
    assert_eq!(out.state.reboot, Some(false));
    let spec: charm::cloud::CloudSpec =
        serde_json::from_str(r#"{"type":"lxd","name":"home"}"#).unwrap();
    let state = State {
        cloud_spec: Some(spec),
        ..Default::default()
    };
    let out = h.run(Event::Install, state);
    assert_eq!(out.state.unit_status, Some(Status::active("home")));
}

#[test]
fn goal_state_is_typed_in_the_harness() {
    fn go(ctx: &mut Ctx, s: &mut StatusCollector) -> Result<(), Error> {
        let g = ctx.goal_state()?;
        s.add_unit(Status::active(format!(
            "{} planned, {} db units",
            g.planned_units(),
            g.planned_remote_units("db").len()
        )));
        Ok(())
    }
    let mut charm = Charm::new();
    charm.collect_status(go);
    let db = charm_testing::Relation::new("db", 1, "pg")
        .remote_unit(0, [("a", "b")])
        .remote_unit(1, [("a", "b")]);
    let out = harness(charm).run(Event::UpdateStatus, State::default().relation(db));
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("1 planned, 2 db units"))
    );
}

#[test]
fn the_host_environment_reaches_the_charm() {
    fn show(ctx: &mut Ctx, s: &mut StatusCollector) -> Result<(), Error> {
        let host = &ctx.env().host;
        let zone = host.availability_zone.clone().unwrap_or_default();
        let proxy = host.proxy.http.clone().unwrap_or_default();
        let secrets = ctx.env().juju_version.has_secrets();
        s.add_unit(Status::active(format!("{zone} {proxy} {secrets}")));
        Ok(())
    }
    let mut charm = Charm::new();
    charm.collect_status(show);
    let h = harness(charm).juju_version(charm::JujuVersion::parse("3.0.2").unwrap());
    let mut state = State::default();
    state.host.availability_zone = Some("az1".into());
    state.host.proxy.http = Some("http://squid:3128".into());
    let out = h.run(Event::UpdateStatus, state);
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("az1 http://squid:3128 false"))
    );
}
