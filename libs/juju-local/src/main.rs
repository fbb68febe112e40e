//! The `juju-local` binary: the driver CLI, or a hook tool when invoked under a hook-tool name.

use std::io::Write;

fn main() {
    // Arguments that are not UTF-8 are converted lossily rather than aborting.
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<String> = argv.collect();
    let base = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if juju_local::tools::TOOL_NAMES.contains(&base.as_str()) {
        std::process::exit(juju_local::tools::main_tool(&base, &args));
    }
    if args.first().map(String::as_str) == Some("tool") {
        let Some(name) = args.get(1) else {
            eprintln!("ERROR tool needs a hook-tool name");
            std::process::exit(2);
        };
        if !juju_local::tools::TOOL_NAMES.contains(&name.as_str()) {
            eprintln!("ERROR unknown hook tool {name:?}");
            std::process::exit(2);
        }
        std::process::exit(juju_local::tools::main_tool(name, &args[2..]));
    }
    match juju_local::cli::run(&args) {
        Ok(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        Err(e) => {
            let code = if matches!(e, juju_local::Error::Usage(_)) {
                2
            } else {
                1
            };
            eprintln!("ERROR {e}");
            std::process::exit(code);
        }
    }
}
