//! The `hello` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    hello::charm().run()
}
