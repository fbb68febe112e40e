//! The `microcluster-token-distributor` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    microcluster_token_distributor::charm().run()
}
