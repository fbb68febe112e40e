//! The `microcluster-node` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    microcluster_node::charm().run()
}
