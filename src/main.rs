//! Entry point: everything lives in the library; this only maps the result to an exit code.

fn main() {
    std::process::exit(warpdrive::run(std::env::args_os().collect()));
}
