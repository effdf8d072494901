//! The `function-sco` binary: `serve` (the default), `render` or `generate`.

fn main() -> std::process::ExitCode {
    function_sco::cli::main()
}
