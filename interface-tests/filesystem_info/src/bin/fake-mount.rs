//! `fake-mount`: stands in for `mount`, `umount` and `mountpoint` in the local model and in
//! `make demo` (`FILESYSTEM_CLIENT_WRAPPER=fake-mount`). State in `$FAKE_MOUNT_DIR`, one mount
//! table and log per `$JUJU_UNIT_NAME`; see `fake_mount` for what it answers.

use filesystem_info_contract::{FAKE_DIR_ENV, fake_mount};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::var_os(FAKE_DIR_ENV).map(PathBuf::from) else {
        eprintln!("fake-mount: set {FAKE_DIR_ENV} to the double's state directory");
        return ExitCode::from(2);
    };
    let unit = std::env::var("JUJU_UNIT_NAME").unwrap_or_else(|_| "machine".into());
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match fake_mount(&dir, &unit, &argv) {
        Ok(outcome) => {
            if !outcome.stderr.is_empty() {
                eprintln!("{}", outcome.stderr);
            }
            ExitCode::from(outcome.code)
        }
        Err(e) => {
            eprintln!("fake-mount: {e}");
            ExitCode::from(2)
        }
    }
}
