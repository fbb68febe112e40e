//! A Pebble for the local model: the Pebble HTTP API on a Unix socket, with services that run as
//! real local processes, files under a per-container root directory, exec over websockets,
//! checks, changes and notices, following Pebble v1.32.1 as `../shared/docs/pebble-protocol.md`
//! describes it (one server per unit and container).
//!
//! | module | job |
//! | --- | --- |
//! | `server` | [`ServerConfig`], [`Server`], [`StopHandle`], [`RunningServer`]; accept loop |
//! | `http`, `response`, `api` | HTTP/1.1 requests, the JSON envelope, routing |
//! | `planstate` | layers and plan, on `pebble::plan::LayerStack` |
//! | `services` | processes, their state machine, backoff, service changes |
//! | `checks` | exec/tcp/http checks driven by `perform-check`/`recover-check` changes |
//! | `exec` | `POST /v1/exec` and its websockets |
//! | `files`, `root`, `multipart`, `glob` | the files API under the container root |
//! | `changes`, `notices`, `identities` | the daemon's records |
//! | `events` | [`Event`]s for the embedder (callback and/or JSON-lines file) |
//! | `process`, `users`, `sys` | process groups, user look-ups; `sys` holds all `unsafe` |
//!
//! ```no_run
//! use pebble_server::{Server, ServerConfig};
//!
//! # fn main() -> Result<(), pebble_server::Error> {
//! let config = ServerConfig::new("/model/unit-0/containers/web/pebble.socket", "/model/unit-0/rootfs/web")
//!     .events_file("/model/unit-0/containers/web/events.jsonl");
//! let server = Server::new(config)?.spawn(); // serves on its own thread
//! // ... charms talk to the socket; events arrive in the file ...
//! let why = server.stop(); // stops services (SIGTERM, then SIGKILL) and removes the socket
//! assert_eq!(why.reason, "stopped");
//! # Ok(())
//! # }
//! ```
//!
//! See the crate's `README.md` for what this Pebble does and does not do compared with Pebble.

mod api;
mod changes;
mod checks;
mod daemon;
mod duration;
mod events;
mod exec;
mod files;
mod glob;
mod http;
mod identities;
mod multipart;
mod notices;
mod planstate;
mod process;
mod response;
mod root;
mod server;
mod services;
mod sys;
mod timefmt;
mod users;

pub use daemon::Shutdown;
pub use events::{Event, EventCallback};
pub use server::{
    DEFAULT_MAX_BODY, Error, RunningServer, Server, ServerConfig, StopHandle, VERSION,
};
pub use sys::{block_termination_signals, wait_termination_signal};

/// The README's examples, compiled and run as doc-tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
