//! The `resource-dispatcher` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    resource_dispatcher::charm().run()
}
