//! The KCL anchor: the VirtualMachine composition written as a KCL program
//! (`benches/kcl/virtual_machine.k`), run by the real KCL engine as function-kcl runs it on
//! every call, side by side with function-sco on the same requests in the same run.
//!
//! For every VirtualMachine example and test fixture that renders (and, with `--bench`, the
//! large VM request) this builds
//! the `option("params")` function-kcl builds from the request, and function-sco's desired
//! state; `benches/kcl/anchor.py` (in `benches/.venv`, with kcl-lib) checks the KCL output
//! equals ours and times the engine per call, while this binary times our handler (decode,
//! `Runner::call` with its log line, encode) and pure render on the same requests.
//! `cargo bench --bench kcl` prints the ratio and writes `benches/out/kcl.json`; without
//! `--bench` (under `cargo test --all-targets`) it checks equality only, one call per case,
//! and says it skipped when the venv is missing (`benches/run.sh` makes it).

mod common;

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use common::Case;
use function_sco::function::Prepared;
use function_sco::sdk::proto::v1::{Ready, RunFunctionRequest, RunFunctionResponse, Status};
use function_sco::sdk::{request, response, telemetry};
use k8s_openapi::ByteString;
use prost::Message;
use serde_json::{Map, Value, json};

const COMPOSITION: &str = "VirtualMachine";

/// `option("params")` as function-kcl's `RunFunction` builds it (fn.go): the Go SDK's types
/// marshalled to JSON, so composed resources sit under `Resource`.
fn params(req: &RunFunctionRequest) -> Value {
    let oxr = request::observed_composite(req).unwrap_or_else(|| json!({}));
    let mut dxr = request::desired_composite(req).unwrap_or_else(|| json!({}));
    dxr["apiVersion"] = oxr["apiVersion"].clone();
    dxr["kind"] = oxr["kind"].clone();
    let ocds: Map<String, Value> = request::observed_composed(req)
        .into_iter()
        .map(|(name, o)| {
            let details: Map<String, Value> = o
                .connection_details
                .iter()
                .map(|(k, v)| (k.clone(), json!(ByteString(v.clone()))))
                .collect();
            (
                name.as_str().to_owned(),
                json!({"Resource": o.resource(), "ConnectionDetails": details}),
            )
        })
        .collect();
    let dcds: Map<String, Value> = request::desired_composed(req)
        .into_iter()
        .map(|(name, d)| {
            (
                name.as_str().to_owned(),
                json!({"Resource": d.resource, "Ready": ready(d.ready)}),
            )
        })
        .collect();
    let required: Map<String, Value> = request::all_required_resources(req)
        .into_iter()
        .map(|(name, found)| {
            (
                name,
                found.into_iter().map(|r| json!({"Resource": r})).collect(),
            )
        })
        .collect();
    let ctx = req
        .context
        .as_ref()
        .map_or_else(|| json!({}), pbstruct::to_json_value);
    json!({"oxr": oxr, "dxr": dxr, "ocds": ocds, "dcds": dcds, "ctx": ctx, "extraResources": {}, "requiredResources": required})
}

fn ready(r: Ready) -> &'static str {
    match r {
        Ready::True => "True",
        Ready::False => "False",
        Ready::Unspecified => "Unspecified",
    }
}

/// function-sco's desired state in the shape `anchor.py` gives the KCL output: composed
/// resources this step added, the XR's desired status, and the conditions.
fn expected(req: &RunFunctionRequest, rsp: &RunFunctionResponse) -> Value {
    let before = req
        .desired
        .as_ref()
        .map(|d| d.resources.clone())
        .unwrap_or_default();
    let desired = rsp.desired.clone().unwrap_or_default();
    let resources: Map<String, Value> = desired
        .resources
        .iter()
        .filter(|(name, _)| !before.contains_key(*name))
        .map(|(name, r)| {
            let manifest = r
                .resource
                .as_ref()
                .map_or_else(|| json!({}), pbstruct::to_json_value);
            (
                name.clone(),
                json!({"manifest": manifest, "ready": ready(r.ready())}),
            )
        })
        .collect();
    let status = desired
        .composite
        .and_then(|c| c.resource)
        .map(|s| pbstruct::to_json_value(&s))
        .and_then(|xr| xr.get("status").cloned())
        .unwrap_or_else(|| json!({}));
    let conditions: Vec<Value> = rsp
        .conditions
        .iter()
        .map(|c| {
            let status = match c.status() {
                Status::ConditionTrue => "True",
                Status::ConditionFalse => "False",
                Status::ConditionUnknown | Status::ConditionUnspecified => "Unknown",
            };
            let mut condition = json!({"type": c.r#type, "status": status, "reason": c.reason});
            if let Some(message) = &c.message {
                condition["message"] = json!(message);
            }
            condition
        })
        .collect();
    json!({"resources": resources, "status": status, "conditions": conditions})
}

/// Median time of one call of `f`, in nanoseconds, over 31 batches of 200 after a warm-up.
fn median_ns(mut f: impl FnMut()) -> f64 {
    const BATCH: u32 = 200;
    for _ in 0..BATCH {
        f();
    }
    let mut per_call: Vec<f64> = (0..31)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[per_call.len() / 2]
}

/// Runs anchor.py on the cases; returns its report.
fn run_kcl(python: &std::path::Path, cases: &[Case], iterations: usize) -> Result<Value, String> {
    let runner = common::runner();
    let cases: Vec<Value> = cases
        .iter()
        .map(|case| {
            let rsp = runner.call(&case.request);
            let xr = request::observed_composite(&case.request).unwrap_or_default();
            json!({
                "name": case.name,
                "params": params(&case.request).to_string(),
                "composite": {"apiVersion": xr["apiVersion"], "kind": xr["kind"]},
                "expected": expected(&case.request, &rsp),
            })
        })
        .collect();
    let program = common::root().join("benches/kcl/virtual_machine.k");
    let input = json!({"program": program, "iterations": iterations, "cases": cases});
    let mut child = Command::new(python)
        .arg(common::root().join("benches/kcl/anchor.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("anchor.py failed ({})", out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("anchor.py printed no report: {e}"))
}

fn main() -> ExitCode {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let python = common::root().join("benches/.venv/bin/python");
    if !python.is_file() {
        eprintln!(
            "kcl: {} is missing; benches/run.sh installs kcl-lib there",
            python.display()
        );
        return if benchmarking {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    telemetry::init_with_writer(false, std::io::sink);
    // Examples and test fixtures that render (the fixtures of bad input end in a Fatal
    // result, which function-kcl would turn an assert into).
    let runner = common::runner();
    let mut cases: Vec<Case> = common::examples()
        .into_iter()
        .chain(common::cases_under(&common::root().join("tests/fixtures")))
        .filter(|c| {
            c.composition() == COMPOSITION && !response::has_fatal(&runner.call(&c.request))
        })
        .collect();
    if benchmarking && let Some(vm) = common::example_of(COMPOSITION) {
        cases.push(Case {
            name: "vm-64KiB-cloud-init-full-status".into(),
            request: common::full_virtual_machine(vm.request),
        });
    }
    let report = match run_kcl(&python, &cases, if benchmarking { 200 } else { 0 }) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("kcl: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    let mut rows = Vec::new();
    for (case, kcl) in cases
        .iter()
        .zip(report["cases"].as_array().into_iter().flatten())
    {
        if kcl["equal"] != json!(true) {
            eprintln!(
                "kcl: {}: the KCL program's output differs from function-sco's:\n{}",
                case.name,
                kcl["diff"].as_str().unwrap_or("")
            );
            failed = true;
        }
        if !benchmarking {
            println!("kcl: {}: output equal to function-sco's", case.name);
            continue;
        }
        let encoded = case.encoded();
        let handler_ns = median_ns(|| {
            let req = RunFunctionRequest::decode(black_box(encoded.as_slice())).expect("decodes");
            black_box(runner.call(&req).encode_to_vec());
        });
        let prepared =
            Prepared::of(&case.request).unwrap_or_else(|f| panic!("{}: {}", case.name, f.message));
        let render_ns = median_ns(|| {
            black_box(prepared.render().ok());
        });
        let engine_ms = kcl["engine_ms_median"].as_f64().unwrap_or(f64::NAN);
        let row = json!({
            "case": case.name,
            "kcl_engine_ms_median": engine_ms,
            "kcl_engine_ms_p90": kcl["engine_ms_p90"],
            "kcl_call_ms_median": kcl["call_ms_median"],
            "function_sco_handler_us_median": (handler_ns / 100.0).round() / 10.0,
            "function_sco_render_us_median": (render_ns / 100.0).round() / 10.0,
            "ratio_kcl_engine_to_handler": (engine_ms * 1e6 / handler_ns).round(),
            "ratio_kcl_engine_to_render": (engine_ms * 1e6 / render_ns).round(),
            "iterations": kcl["iterations"],
        });
        println!("{row}");
        rows.push(row);
    }
    if benchmarking {
        let out = json!({"kcl_version": report["kcl_version"], "cases": rows});
        let path = common::out_dir().join("kcl.json");
        if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&out).expect("JSON")) {
            eprintln!("kcl: cannot write {}: {e}", path.display());
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
