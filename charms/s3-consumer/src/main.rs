//! The `s3-consumer` charm's `dispatch` binary.

fn main() -> std::process::ExitCode {
    s3_consumer::charm().run()
}
