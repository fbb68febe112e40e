//! The `manifests-tester` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    manifests_tester::charm().run()
}
