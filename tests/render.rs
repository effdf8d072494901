//! Golden render tests: every case under `tests/fixtures/<composition>/<case>/` and every
//! example under `examples/<composition>/<case>/` renders to its committed `expected.yaml`,
//! twice byte-identically, and every composed manifest it emits is strictly valid against the
//! upstream schemas in `schemas/`.

mod support;

use function_sco::sdk::render;
use support::golden::assert_golden;
use support::{cases, render_case, root, schema};

#[test]
fn fixtures_and_examples_match_their_golden_output() {
    let dirs = cases();
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
    let dirs = cases();
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

/// A requirement with a misspelt apiVersion or kind would never be answered, and a fixture
/// object no requirement selects tests nothing: every requirement of every case names a kind
/// with an upstream schema (or one of our XRDs, or one of `schema::WITHOUT_SCHEMA`), and every
/// object a case's `required.yaml` holds is fetched by one of them.
#[test]
fn requirements_name_real_kinds_and_fixtures_hold_only_what_is_asked_for() {
    use function_sco::compositions::for_xr;
    use function_sco::function::Sco;
    use function_sco::sdk::{Runner, response};

    let dirs = cases();
    let runner = Runner::new(Sco, response::DEFAULT_TTL);
    let mut problems = Vec::new();
    for dir in &dirs {
        let input = support::case_input(dir);
        let (last, rsp) = render::settle(&runner, &input);
        let case = dir.strip_prefix(root()).unwrap().display().to_string();
        #[allow(deprecated)]
        let selectors = rsp
            .requirements
            .iter()
            .flat_map(|r| r.resources.iter().chain(&r.extra_resources));
        for (name, selector) in selectors {
            let (api_version, kind) = (selector.api_version.as_str(), selector.kind.as_str());
            if !schema::WITHOUT_SCHEMA.contains(&(api_version, kind))
                && for_xr(api_version, kind).is_none()
                && let Err(e) = schema::load(api_version, kind)
            {
                problems.push(format!("{case}: requirement {name}: {e}"));
            }
        }
        let fetched: Vec<serde_json::Value> = last
            .required_resources
            .values()
            .flat_map(|r| &r.items)
            .filter_map(|r| r.resource.as_ref().map(pbstruct::to_json_value))
            .collect();
        for object in &input.required {
            if !fetched.contains(object) {
                problems.push(format!(
                    "{case}: required.yaml holds {} {} {}/{}, which no requirement fetches",
                    object["apiVersion"].as_str().unwrap_or_default(),
                    object["kind"].as_str().unwrap_or_default(),
                    object["metadata"]["namespace"].as_str().unwrap_or_default(),
                    object["metadata"]["name"].as_str().unwrap_or_default(),
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Crossplane writes the status a function returns to the XR's status subresource, which the
/// API server validates against the XRD: a field the XRD does not declare is pruned, a value
/// of the wrong type refuses the whole status. So every case's desired composite status is
/// strictly valid against the composition's XRD, applied to the case's XR.
#[test]
fn every_desired_status_is_valid_against_its_xrd() {
    let dirs = cases();
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let (input, rsp) = render_case(dir);
        let xr = &input.composite;
        let field = |name: &str| xr[name].as_str().unwrap_or_default();
        let Some(entry) = function_sco::compositions::for_xr(field("apiVersion"), field("kind"))
        else {
            continue;
        };
        let desired = rsp
            .desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .and_then(|c| c.resource.as_ref())
            .map(pbstruct::to_json_value);
        let Some(status) = desired.as_ref().and_then(|d| d.get("status")) else {
            if !function_sco::sdk::response::has_fatal(&rsp) {
                failures.push(format!("{}: no status, and no Fatal", dir.display()));
            }
            continue;
        };
        let mut with_status = xr.clone();
        with_status["status"] = status.clone();
        let definition = (entry.definition)();
        checked += 1;
        if let Err(errors) = schema::validate_against(
            &definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
            &with_status,
        ) {
            failures.push(format!("{}:\n    {}", dir.display(), errors.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "invalid statuses:\n{}",
        failures.join("\n")
    );
    assert!(checked > 0, "no status was checked");
}
