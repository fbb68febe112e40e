//! `hello-k8s`: the sample Kubernetes sidecar charm of the framework.
//!
//! The workload container `web` (metadata: `containers`, with the `web-image` oci-image
//! resource) runs a small web server under Pebble. On `web-pebble-ready` and `config-changed` the
//! charm:
//!
//! 1. waits (Waiting, event deferred) while the container's Pebble cannot be reached;
//! 2. pushes the server's configuration to [`CONFIG_PATH`] (mode 600, parents created);
//! 3. adds (or combines into) the Pebble layer `hello` with the `hello` service, and replans,
//!    which starts it, or restarts it when the layer changed;
//! 4. runs `hello-server --version` in the container and reports it as the workload version.
//!
//! On `web-pebble-check-failed` it restarts the service. `collect_status` reports Waiting while
//! Pebble is away, Active with the port once the service runs. A bad port is Blocked.

use charm::pebble::PushOptions;
use charm::pebble::plan::{Check, Layer, Override, Service, Startup, TcpCheck};
use charm::{Charm, Ctx, Error, EventKind, PebbleCheckEvent, Status, StatusCollector};
use serde::Deserialize;

/// `metadata.yaml` as written, for tests and tools (the charm reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`).
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");

/// The workload container.
pub const CONTAINER: &str = "web";
/// The Pebble service (and layer label).
pub const SERVICE: &str = "hello";
/// The server's configuration file in the container.
pub const CONFIG_PATH: &str = "/etc/hello/hello.conf";
/// The server binary in the image.
pub const SERVER: &str = "/usr/bin/hello-server";

/// The charm's config.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// What the server answers.
    pub greeting: String,
    /// The port it listens on.
    pub port: i64,
}

impl Config {
    /// The port, when it is one a server can listen on.
    fn port(&self) -> Result<u16, Error> {
        u16::try_from(self.port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                Error::blocked(format!("config port {} is not a port (1-65535)", self.port))
            })
    }
}

/// The server's configuration file. The greeting is written as a JSON string (valid YAML), so
/// that no config value can add keys of its own.
pub fn server_config(greeting: &str, port: u16) -> String {
    let quoted = serde_json::Value::from(greeting).to_string();
    format!("listen: {port}\ngreeting: {quoted}\n")
}

/// The Pebble layer: the service, started by replan, and a TCP check on its port.
pub fn layer(port: u16) -> Layer {
    let mut service = Service::replace(format!("{SERVER} --config {CONFIG_PATH}"));
    service.summary = "hello web server".into();
    service.startup = Some(Startup::Enabled);
    service
        .environment
        .insert("HELLO_PORT".into(), port.to_string());
    let check = Check {
        r#override: Some(Override::Replace),
        tcp: Some(TcpCheck {
            port: port.into(),
            ..TcpCheck::default()
        }),
        ..Check::default()
    };
    Layer {
        summary: "hello-k8s".into(),
        services: [(SERVICE.to_string(), service)].into(),
        checks: [("hello-up".to_string(), check)].into(),
        ..Layer::default()
    }
}

/// Converges the container on the config (pebble-ready and config-changed).
fn configure(ctx: &mut Ctx, _event: &charm::Event) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    let port = config.port()?;
    let web = ctx.container_or_defer(CONTAINER)?;
    web.push(
        CONFIG_PATH,
        server_config(&config.greeting, port),
        &PushOptions::new().make_dirs(true).permissions(0o600),
    )?;
    // `combine`: later hooks merge into the same layer instead of failing on its label.
    web.add_layer(SERVICE, &layer(port), true)?;
    web.replan()?;
    let version = web.exec([SERVER, "--version"]).output()?;
    ctx.set_workload_version(version.stdout_text().trim())?;
    Ok(())
}

/// A failed check: restart the service.
fn check_failed(ctx: &mut Ctx, event: &PebbleCheckEvent) -> Result<(), Error> {
    let web = ctx.container(&event.workload.container)?;
    tracing::warn!("check {} failed: restarting {SERVICE}", event.check);
    web.restart(&[SERVICE])?;
    Ok(())
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    let port = config.port()?;
    let web = ctx.container(CONTAINER)?;
    if !web.can_connect() {
        statuses.add_unit(Status::waiting("waiting for Pebble in container web"));
        return Ok(());
    }
    match web.get_service(SERVICE)? {
        Some(service) if service.is_running() => {
            statuses.add_unit(Status::active(format!("serving on port {port}")))
        }
        _ => statuses.add_unit(Status::maintenance("starting the web server")),
    }
    Ok(())
}

/// The charm: handlers registered on a dispatcher.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .on(EventKind::PebbleReady.on(CONTAINER), configure)
        .on(EventKind::ConfigChanged, configure)
        .on(EventKind::PebbleCheckFailed.on(CONTAINER), check_failed)
        .collect_status(status);
    charm
}
