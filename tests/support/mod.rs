//! Shared test support: rendering a case directory through the function, golden files, the
//! built binary as a server process (`process`) and (in `schema`) strict validation against the
//! upstream schemas in `../shared/schemas`.

#![allow(dead_code)]

pub mod golden;
pub mod process;
pub mod schema;

use std::path::{Path, PathBuf};

use function_sco::function::Sco;
use function_sco::sdk::proto::v1::RunFunctionResponse;
use function_sco::sdk::{Runner, render, response};
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A render case: a directory with `xr.yaml` and optionally `observed.yaml`,
/// `environment.yaml`, `input.yaml`, `context.yaml` and `required.yaml` (the same files
/// `function-sco render` takes).
pub fn case_input(dir: &Path) -> render::RenderInput {
    let file = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
    let mut input = render::RenderInput {
        composite: render::read_document(&dir.join("xr.yaml")).expect("xr.yaml"),
        ..Default::default()
    };
    if let Some(p) = file("observed.yaml") {
        input.observed = render::read_documents(&p).expect("observed.yaml");
    }
    if let Some(p) = file("input.yaml") {
        input.input = Some(render::read_document(&p).expect("input.yaml"));
    }
    if let Some(p) = file("required.yaml") {
        input.required = render::read_documents(&p).expect("required.yaml");
    }
    if let Some(p) = file("context.yaml") {
        if let Value::Object(map) = render::read_document(&p).expect("context.yaml") {
            input.context = map;
        }
    }
    if let Some(p) = file("environment.yaml") {
        input = input.with_environment(render::environment_from(
            &render::read_documents(&p).expect("environment.yaml"),
        ));
    }
    input
}

/// Renders a case through the server's code path (requirements loop included).
pub fn render_case(dir: &Path) -> (render::RenderInput, RunFunctionResponse) {
    let input = case_input(dir);
    let runner = Runner::new(Sco, response::DEFAULT_TTL);
    let rsp = render::run(&runner, &input);
    (input, rsp)
}

/// The render output of a case as YAML, exactly as `function-sco render` prints it.
pub fn render_yaml(dir: &Path) -> String {
    let (input, rsp) = render_case(dir);
    render::to_yaml(&render::documents(&input.composite, &rsp))
}

/// Every directory below `base` (recursively) that holds an `xr.yaml`, sorted.
pub fn case_dirs(base: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "xr.yaml") {
                out.push(dir.clone());
            }
        }
    }
    out.sort();
    out
}
