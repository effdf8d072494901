//! The `function-sco` binary: `serve` (the default) or `render`.

fn main() -> std::process::ExitCode {
    function_sco::cli::main()
}
