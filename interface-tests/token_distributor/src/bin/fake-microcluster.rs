//! `fake-microcluster`: a stand-in for a microcluster CLI (`microovn cluster`, ...) in tests
//! and in the local model. State in `$FAKE_MICROCLUSTER_STATE`, caller `$MICROCLUSTER_NODE_NAME`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use token_distributor_contract::{NODE_ENV, STATE_ENV, run_with_file};

fn main() -> ExitCode {
    let Some(path) = std::env::var_os(STATE_ENV).map(PathBuf::from) else {
        eprintln!("Error: set {STATE_ENV} to the fake cluster's state file");
        return ExitCode::from(2);
    };
    let node = match token_distributor::hostname::from_env_or_system(NODE_ENV) {
        Ok(node) => node,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run_with_file(&path, &node, &args) {
        Ok(out) => {
            let _ = std::io::stdout().write_all(out.stdout.as_bytes());
            let _ = std::io::stderr().write_all(out.stderr.as_bytes());
            let code = out.code.unwrap_or(1).clamp(0, 255);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(2)
        }
    }
}
