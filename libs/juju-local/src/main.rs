//! The `juju-local` binary: the driver CLI, or a hook tool when invoked under a hook-tool name.

fn main() {
    // Arguments that are not UTF-8 are converted lossily rather than aborting.
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<String> = argv.collect();
    std::process::exit(juju_local::main(&argv0, &args));
}
