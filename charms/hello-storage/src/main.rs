//! The `hello-storage` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    hello_storage::charm().run()
}
