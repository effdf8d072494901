//! Shared test support: rendering a case directory through the function, golden files, and
//! (in `schema`) strict validation against the upstream schemas in `schemas/`.

#![allow(dead_code)]

pub mod golden;
pub mod outcome;
pub mod process;
pub mod raw;
pub mod schema;

use std::path::{Path, PathBuf};

use function_sco::function::Sco;
use function_sco::sdk::proto::v1::RunFunctionResponse;
use function_sco::sdk::{Runner, render, response};

pub use function_sco::sdk::render::case_dirs;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every render case: each example (`examples/<composition>/<case>/`), then each golden stage
/// (`tests/fixtures/<composition>/<stage>/`).
pub fn cases() -> Vec<PathBuf> {
    let mut dirs = case_dirs(&root().join("examples"));
    dirs.extend(case_dirs(&root().join("tests/fixtures")));
    dirs
}

/// A render case: a directory with `xr.yaml` and optionally `observed.yaml`,
/// `environment.yaml`, `input.yaml`, `context.yaml` and `required.yaml` (the same files
/// `function-sco render` takes).
pub fn case_input(dir: &Path) -> render::RenderInput {
    render::RenderFiles::in_dir(dir)
        .load()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Renders a case through the server's code path (requirements loop included).
pub fn render_case(dir: &Path) -> (render::RenderInput, RunFunctionResponse) {
    let input = case_input(dir);
    let rsp = render_input(&input);
    (input, rsp)
}

/// Renders `input` through the server's code path (requirements loop included).
pub fn render_input(input: &render::RenderInput) -> RunFunctionResponse {
    render::run(&Runner::new(Sco, response::DEFAULT_TTL), input)
}

/// The composition resource name of an observed object (its
/// `crossplane.io/composition-resource-name` annotation); empty without one.
pub fn composed_name(object: &serde_json::Value) -> &str {
    object["metadata"]["annotations"][render::COMPOSITION_RESOURCE_NAME]
        .as_str()
        .unwrap_or_default()
}

/// The observed composed resource `name` of `input`, to edit; panics when it is not observed.
pub fn observed_mut<'a>(
    input: &'a mut render::RenderInput,
    name: &str,
) -> &'a mut serde_json::Value {
    input
        .observed
        .iter_mut()
        .find(|o| composed_name(o) == name)
        .unwrap_or_else(|| panic!("no observed {name}"))
}

/// The render output of a case as YAML, exactly as `function-sco render` prints it.
pub fn render_yaml(dir: &Path) -> String {
    let (input, rsp) = render_case(dir);
    render::to_yaml(&render::documents(
        &input.composite,
        &rsp,
        function_sco::cli::shape(&input.composite),
    ))
}

/// An external tool's path from environment variable `var` (built by
/// `tests/crossplane/tools.sh`); `None`, after saying so on stderr past the harness's capture,
/// when it is not set outside CI. Under `CI=true` a missing tool fails `test`.
pub fn external_tool(var: &str, test: &str) -> Option<PathBuf> {
    use std::io::Write as _;
    match std::env::var_os(var).map(PathBuf::from) {
        Some(path) => {
            assert!(path.is_file(), "{var}: {} does not exist", path.display());
            Some(path)
        }
        None if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "{var} is not set: under CI {test} must run (.ci/run sets it from \
             `bash tests/crossplane/tools.sh`)"
        ),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {var} is not set; run `eval \"$(bash tests/crossplane/tools.sh)\"` \
                 and export it to run it"
            );
            None
        }
    }
}
