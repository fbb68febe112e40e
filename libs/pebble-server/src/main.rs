//! `pebble-server`: one Pebble daemon for one workload container of the local model.
//!
//! ```text
//! pebble-server --socket PATH --root DIR [--layers-dir DIR] [--events FILE] [--autostart]
//! ```
//!
//! Serves until SIGTERM/SIGINT (SIGHUP is ignored) or a service's shutdown action, then stops every service
//! and removes the socket. Exit status: 0, or 1 when the shutdown was a failure (a
//! `failure-shutdown`-like action), 2 on bad arguments or when it cannot start.

use std::path::PathBuf;
use std::process::ExitCode;

use pebble_server::{Server, ServerConfig};

const USAGE: &str = "usage: pebble-server --socket PATH --root DIR [--layers-dir DIR] [--events FILE] [--autostart]";

fn parse_args(args: &[String]) -> Result<ServerConfig, String> {
    let mut socket: Option<PathBuf> = None;
    let mut root: Option<PathBuf> = None;
    let mut layers: Option<PathBuf> = None;
    let mut events: Option<PathBuf> = None;
    let mut autostart = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--socket" => socket = Some(value("--socket")?),
            "--root" => root = Some(value("--root")?),
            "--layers-dir" => layers = Some(value("--layers-dir")?),
            "--events" => events = Some(value("--events")?),
            "--autostart" => autostart = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let socket = socket.ok_or("--socket is required")?;
    let root = root.ok_or("--root is required")?;
    let mut config = ServerConfig::new(socket, root);
    config.layers_dir = layers;
    config.events_file = events;
    config.autostart = autostart;
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pebble-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = pebble_server::block_termination_signals() {
        eprintln!("pebble-server: cannot block signals: {e}");
        return ExitCode::from(2);
    }
    let server = match Server::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pebble-server: {e}");
            return ExitCode::from(2);
        }
    };
    let stop = server.stop_handle();
    std::thread::spawn(move || {
        // SIGHUP is swallowed: a daemon that outlives the CLI must not die with its terminal.
        while let Ok(sig) = pebble_server::wait_termination_signal() {
            if sig != libc::SIGHUP {
                stop.stop();
                return;
            }
        }
    });
    let shutdown = server.serve();
    if shutdown.failure {
        eprintln!("pebble-server: shut down: {}", shutdown.reason);
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
