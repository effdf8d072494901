//! Golden render tests: every case under `tests/fixtures/<composition>/<case>/` and every
//! example under `examples/<composition>/<case>/` renders to its committed `expected.yaml`,
//! twice byte-identically, and every composed manifest it emits is strictly valid against the
//! upstream schemas in `schemas/`.

mod support;

use function_sco::sdk::render;
use support::golden::assert_golden;
use support::{case_dirs, render_case, root, schema};

#[test]
fn fixtures_and_examples_match_their_golden_output() {
    let mut dirs = case_dirs(&root().join("tests/fixtures"));
    dirs.extend(case_dirs(&root().join("examples")));
    for dir in &dirs {
        let (input, rsp) = render_case(dir);
        let first = render::to_yaml(&render::documents(
            &input.composite,
            &rsp,
            function_sco::cli::shape(&input.composite),
        ));
        let (_, again) = render_case(dir);
        let second = render::to_yaml(&render::documents(
            &input.composite,
            &again,
            function_sco::cli::shape(&input.composite),
        ));
        assert_eq!(
            first,
            second,
            "{}: rendering twice gave different output",
            dir.display()
        );
        assert_golden(&dir.join("expected.yaml"), &first);
    }
}

#[test]
fn every_composed_manifest_is_strictly_valid() {
    let mut dirs = case_dirs(&root().join("tests/fixtures"));
    dirs.extend(case_dirs(&root().join("examples")));
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let (_, rsp) = render_case(dir);
        let desired = rsp.desired.unwrap_or_default();
        for (name, resource) in &desired.resources {
            let manifest = resource
                .resource
                .as_ref()
                .map(pbstruct::to_json_value)
                .unwrap_or_default();
            checked += 1;
            if let Err(errors) = schema::validate(&manifest) {
                failures.push(format!(
                    "{} {name}:\n    {}",
                    dir.display(),
                    errors.join("\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "invalid manifests:\n{}",
        failures.join("\n")
    );
    // Once compositions exist, their fixtures must compose something.
    assert!(
        dirs.is_empty() || checked > 0,
        "no composed manifests were checked"
    );
}
