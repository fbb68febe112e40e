//! A Pebble-compatible daemon for the local model.
#![allow(dead_code)]

mod changes;
mod duration;
mod events;
mod files;
mod glob;
mod http;
mod multipart;
mod notices;
mod process;
mod response;
mod root;
mod sys;
mod timefmt;
mod users;

pub use events::{Event, EventCallback};
