//! The `s3-integrator` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    s3_integrator::charm().run()
}
