//! Pebble, the service manager in every workload container of a Kubernetes sidecar charm.
//!
//! A charm drives its workload through the Pebble of each container, over the Unix socket Juju
//! mounts at `/charm/containers/<container>/pebble.socket`. [`Client`] speaks Pebble's HTTP API
//! there, blocking and without an async runtime: one connection per call, every call bounded by
//! [`Timeouts`], every buffered answer by [`Limits`]. A container that is not up yet is an
//! [`Error::Connection`], never a hang.
//!
//! ```no_run
//! use pebble::plan::{Layer, Service, Startup};
//! use pebble::{Client, Error, PushOptions};
//!
//! fn configure(client: &Client, config: &str) -> Result<(), Error> {
//!     // Describe the workload: one service, started by replan.
//!     let mut web = Service::replace("/usr/bin/web --config /etc/web/web.yaml");
//!     web.startup = Some(Startup::Enabled);
//!     web.environment.insert("WEB_LOG".into(), "info".into());
//!     let layer = Layer {
//!         summary: "web server".into(),
//!         services: [("web".to_string(), web)].into(),
//!         ..Layer::default()
//!     };
//!     client.push(
//!         "/etc/web/web.yaml",
//!         config.as_bytes(),
//!         &PushOptions::new().make_dirs(true).permissions(0o600),
//!     )?;
//!     client.add_layer("web", &layer, true)?;
//!     client.replan_services()?;
//!     // Run a command in the container and read its output.
//!     let version = client.exec(["/usr/bin/web", "--version"]).output()?;
//!     println!("running {}", version.stdout_text().trim());
//!     Ok(())
//! }
//!
//! let client = Client::new("/charm/containers/web/pebble.socket");
//! match configure(&client, "port: 8080\n") {
//!     // Not up yet: a charm sets Waiting and defers.
//!     Err(e) if e.is_connection() => eprintln!("waiting for Pebble: {e}"),
//!     Err(e) => eprintln!("failed: {e}"),
//!     Ok(()) => {}
//! }
//! ```
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`client`] | [`Client`] and its options; [`Exec`] for commands |
//! | [`error`] | [`Error`]: connection, API, change, exec and path errors, as ops tells them apart |
//! | [`plan`] | layers and plans (serde, YAML) and Pebble's rules for combining them |
//! | [`types`] | the JSON of the HTTP API: envelope, errors, services, changes, checks, notices, files, exec |
//! | [`duration`] | Go duration text, as Pebble reads and writes it |
//!
//! [`plan`], [`types`] and [`duration`] hold no transport code: a test Pebble can share them.

pub mod client;
pub mod duration;
pub mod error;
pub mod plan;
pub mod types;
mod wire;

pub use client::{
    CONTAINERS_DIR_ENV, Client, Exec, ExecOutput, ExecProcess, Limits, MakeDirOptions, PushOptions,
    Signaller, Timeouts, container_socket,
};
pub use duration::GoDuration;
pub use error::Error;

/// The README's examples, compiled as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
