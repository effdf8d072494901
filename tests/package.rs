//! Packaging: the package metadata, the input CRD shipped with it, the Function manifests in
//! `functions/` and the runtime image's Dockerfile agree with each other and with the code.
//! The package metadata and Function manifests are strictly valid against their upstream
//! schemas (schemas/ has no CRD schema for the input CRD itself).

mod support;

use function_sco::function::INPUT_API_VERSION;
use serde_json::{Value, json};
use support::golden::{assert_golden, update_requested};
use support::root;

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

#[test]
fn the_package_metadata_names_function_sco_for_compositions() {
    let meta = yaml("package/crossplane.yaml");
    assert_eq!(meta["apiVersion"], "meta.pkg.crossplane.io/v1");
    assert_eq!(meta["kind"], "Function");
    assert_eq!(meta["metadata"]["name"], env!("CARGO_PKG_NAME"));
    assert_eq!(meta["spec"]["capabilities"], json!(["composition"]));
    assert_eq!(meta["spec"]["crossplane"]["version"], ">=v2.0.0-0");
    let annotations = &meta["metadata"]["annotations"];
    assert_eq!(
        annotations["meta.crossplane.io/license"],
        env!("CARGO_PKG_LICENSE")
    );
    for key in ["maintainer", "source", "description", "readme"] {
        let value = annotations[format!("meta.crossplane.io/{key}")]
            .as_str()
            .unwrap_or_default();
        assert!(
            !value.trim().is_empty(),
            "annotation meta.crossplane.io/{key} is missing"
        );
    }
    // The package's readme (what `crossplane xpkg` and registries show) names every
    // composition the function renders.
    let readme = annotations["meta.crossplane.io/readme"].as_str().unwrap();
    for entry in function_sco::compositions::REGISTRY {
        assert!(
            readme.contains(entry.name),
            "the package readme does not name {}",
            entry.name
        );
    }
}

#[test]
fn the_packaged_input_crd_is_the_generated_one() {
    let generated = function_sco::function::generate("input").expect("generate input");
    assert_golden(
        &root().join("package/input/sco.fn.stakater.com_inputs.yaml"),
        &generated,
    );
    let crd = yaml("package/input/sco.fn.stakater.com_inputs.yaml");
    let (group, version) = INPUT_API_VERSION.split_once('/').unwrap();
    assert_eq!(crd["spec"]["group"], group);
    assert_eq!(crd["spec"]["versions"][0]["name"], version);
    assert_eq!(crd["spec"]["names"]["kind"], "Input");
}

#[test]
fn the_function_manifests_install_and_render_the_same_package() {
    let cluster = yaml("functions/function.yaml");
    let render = yaml("functions/functions.yaml");
    for (path, function) in [
        ("functions/function.yaml", &cluster),
        ("functions/functions.yaml", &render),
    ] {
        assert_eq!(function["apiVersion"], "pkg.crossplane.io/v1", "{path}");
        assert_eq!(function["kind"], "Function", "{path}");
        assert_eq!(
            function["metadata"]["name"],
            env!("CARGO_PKG_NAME"),
            "{path}"
        );
    }
    let package = cluster["spec"]["package"].as_str().expect("spec.package");
    assert_eq!(
        package,
        format!(
            "ghcr.io/stakater/function-sco:v{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(render["spec"]["package"], package);
    assert!(
        cluster["metadata"].get("annotations").is_none(),
        "the cluster manifest is plain"
    );
    let annotations = &render["metadata"]["annotations"];
    assert_eq!(annotations["render.crossplane.io/runtime"], "Development");
    assert_eq!(
        annotations["render.crossplane.io/runtime-development-target"],
        "localhost:9443"
    );
}

#[test]
fn the_image_runs_the_binary_as_entrypoint_as_non_root_on_9443() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
    for line in [
        "FROM gcr.io/distroless/cc-debian12:nonroot",
        "USER 65532:65532",
        "EXPOSE 9443 8080",
        r#"ENTRYPOINT ["/function-sco"]"#,
    ] {
        assert!(lines.contains(&line), "Dockerfile lacks {line:?}");
    }
    assert!(
        dockerfile.contains("cargo build --release --locked"),
        "the image builds from Cargo.lock"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("CMD")),
        "crossplane render passes --insecure as the command"
    );
}

#[test]
fn the_package_manifests_are_strictly_valid() {
    for path in [
        "package/crossplane.yaml",
        "functions/function.yaml",
        "functions/functions.yaml",
    ] {
        let manifest = yaml(path);
        if let Err(errors) = support::schema::validate(&manifest) {
            panic!("{path} is not valid:\n{}", errors.join("\n"));
        }
    }
}

#[test]
fn golden_files_are_rewritten_only_on_request_and_never_in_ci() {
    assert!(update_requested(Some("1"), None));
    assert!(update_requested(Some("1"), Some("false")));
    for update in [None, Some("0"), Some(""), Some("yes")] {
        assert!(!update_requested(update, None), "{update:?}");
    }
    assert!(!update_requested(None, Some("true")));
    assert!(std::panic::catch_unwind(|| update_requested(Some("0"), Some("true"))).is_err());
}
