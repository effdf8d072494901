//! Interop with the official Crossplane Python SDK: `tests/interop/interop.py` calls the built
//! binary over v1 and v1beta1 with the SDK's generated stubs. It runs in the `.venv` that
//! `bash .ci/run` creates; without it this test fails rather than pass unchecked.

mod support;

use std::process::Command;

use support::process::Served;
use support::root;

#[test]
fn the_python_sdk_calls_function_sco_over_v1_and_v1beta1() {
    let python = root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `bash .ci/run` once (it creates .venv and installs crossplane-function-sdk-python from tests/interop/requirements.txt)",
        python.display()
    );
    let mut server = Served::start(&["--insecure", "--ttl", "42s"]);
    let output = Command::new(&python)
        .arg(root().join("tests/interop/interop.py"))
        .args([server.address.to_string(), "42".to_owned()])
        .output()
        .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "interop.py failed:\n{stdout}{stderr}\nfunction-sco's log:\n{}",
        server.log()
    );
    assert!(stdout.contains("interop ok"), "{stdout}");
    for version in ["v1", "v1beta1"] {
        let tag = format!("interop-{version}");
        let handled = server
            .events()
            .iter()
            .any(|e| e["message"] == "RunFunction" && e["tag"] == tag.as_str());
        assert!(
            handled,
            "function-sco did not log the {version} call {tag:?}:\n{}",
            server.log()
        );
    }
    server.terminate();
    assert_eq!(server.wait().code(), Some(0), "{}", server.log());
}
