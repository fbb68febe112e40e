//! A Pebble-compatible daemon for the local model.

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
