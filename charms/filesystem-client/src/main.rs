//! The `filesystem-client` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    filesystem_client::charm().run()
}
