//! What the embedder (juju-local) must hear about: custom notices, checks crossing their
//! threshold, the daemon starting and shutting down. Delivered to a callback and/or appended to a
//! JSON-lines file, always after the daemon's lock is released.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Something that happened in the daemon that Juju turns into a hook (or a restart).
///
/// In the events file each event is one JSON line, e.g.
/// `{"event":"custom-notice","id":"3","type":"custom","key":"example.com/a","occurrences":1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The daemon answers on its socket; `boot-id` is new for every start (Juju's
    /// `pebble-ready` trigger).
    Started {
        /// The boot id `GET /v1/system-info` reports.
        #[serde(rename = "boot-id")]
        boot_id: String,
    },
    /// A custom notice was recorded for the first time or repeated (its `last-repeated` moved):
    /// Juju fires `<container>-pebble-custom-notice`.
    CustomNotice {
        /// The notice id (`JUJU_NOTICE_ID`).
        id: String,
        /// The notice type (`JUJU_NOTICE_TYPE`), always `custom`.
        #[serde(rename = "type")]
        notice_type: String,
        /// The notice key (`JUJU_NOTICE_KEY`).
        key: String,
        /// Occurrences so far.
        occurrences: u64,
    },
    /// A check reached its failure threshold (its `perform-check` change ended in `Error`):
    /// Juju fires `<container>-pebble-check-failed`.
    CheckFailed {
        /// The check name (`JUJU_PEBBLE_CHECK_NAME`).
        check: String,
    },
    /// A failed check passed again (its `recover-check` change is `Done`): Juju fires
    /// `<container>-pebble-check-recovered`.
    CheckRecovered {
        /// The check name (`JUJU_PEBBLE_CHECK_NAME`).
        check: String,
    },
    /// The daemon is shutting down. `reason` is `stopped` (the embedder asked), or the service
    /// action that asked for it (`on-success: shutdown` of service "x", ...); on Kubernetes the
    /// container would restart.
    Shutdown {
        /// Why.
        reason: String,
        /// Whether Pebble would exit with a failure status (a `failure-shutdown`-like action).
        failure: bool,
    },
}

/// A callback receiving every event.
pub type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Where events go.
#[derive(Clone, Default)]
pub(crate) struct EventSink {
    callback: Option<EventCallback>,
    file: Option<Arc<Mutex<File>>>,
}

impl EventSink {
    pub fn new(callback: Option<EventCallback>, file: Option<&Path>) -> std::io::Result<EventSink> {
        let file = match file {
            Some(p) => Some(Arc::new(Mutex::new(
                OpenOptions::new().create(true).append(true).open(p)?,
            ))),
            None => None,
        };
        Ok(EventSink { callback, file })
    }

    /// Delivers one event. Never call this with the daemon's lock held: a callback may call the
    /// daemon back.
    pub fn emit(&self, event: &Event) {
        if let Some(file) = &self.file
            && let Ok(mut line) = serde_json::to_vec(event)
        {
            line.push(b'\n');
            if let Ok(mut f) = file.lock() {
                // One write per line keeps lines whole for readers tailing the file.
                let _ = f.write_all(&line);
                let _ = f.flush();
            }
        }
        if let Some(cb) = &self.callback {
            cb(event);
        }
    }
}
