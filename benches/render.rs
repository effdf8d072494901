//! Criterion benchmarks of one RunFunction call, without gRPC:
//! - `render/<case>`: a composition's pure render (typed XR decode, render), from observed
//!   state already read out of the request;
//! - `handler/<case>`: the whole handler: protobuf decode of the encoded request,
//!   `Runner::call` (input, platform configuration, render, response, the JSON log line) and
//!   protobuf encode of the response;
//! - `growth/<dimension>/<size>`: the handler as the work grows (desired resources passed
//!   through, observed-state size, cloud-init size).
//!
//! Cases are every example plus large requests built in code (`common`). `cargo bench
//! --bench render` also writes request and response sizes to `benches/out/sizes.json`;
//! `cargo test --all-targets` runs each benchmark once.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::Case;
use criterion::{BenchmarkId, Criterion, Throughput};
use function_sco::function::Prepared;
use function_sco::sdk::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use function_sco::sdk::telemetry;
use prost::Message;
use serde_json::json;

/// How the handler's cost grows, per dimension: `(dimension, size, request)`.
fn growth_cases() -> Vec<(&'static str, usize, RunFunctionRequest)> {
    let Some(vm) = common::example_of("VirtualMachine") else {
        return Vec::new();
    };
    let mut cases = Vec::new();
    for count in [0, 10, 100, 1_000, 4_000] {
        cases.push((
            "passthrough-resources",
            count,
            common::with_passthrough(vm.request.clone(), count),
        ));
    }
    for kib in [0, 64, 256, 1_024] {
        cases.push((
            "observed-KiB",
            kib,
            common::with_observed_bytes(vm.request.clone(), kib << 10),
        ));
    }
    // 64 KiB is the most the API takes (`cloudInit.userData` maxLength 65536).
    for kib in [1, 16, 64] {
        cases.push((
            "cloud-init-KiB",
            kib,
            common::with_cloud_init(vm.request.clone(), kib << 10),
        ));
    }
    cases
}

fn handle(
    runner: &function_sco::sdk::Runner<function_sco::function::Sco>,
    encoded: &[u8],
) -> Vec<u8> {
    let req = RunFunctionRequest::decode(encoded).expect("the request decodes");
    runner.call(&req).encode_to_vec()
}

fn bench_render(c: &mut Criterion, cases: &[Case]) {
    let mut group = c.benchmark_group("render");
    for case in cases {
        let prepared =
            Prepared::of(&case.request).unwrap_or_else(|f| panic!("{}: {}", case.name, f.message));
        prepared
            .render()
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        group.bench_function(&case.name, |b| b.iter(|| black_box(prepared.render())));
    }
    group.finish();
}

fn bench_handler(c: &mut Criterion, cases: &[Case]) {
    let runner = common::runner();
    let mut group = c.benchmark_group("handler");
    for case in cases {
        let encoded = case.encoded();
        check(&case.name, &runner.call(&case.request));
        group.bench_function(&case.name, |b| {
            b.iter(|| black_box(handle(&runner, black_box(&encoded))))
        });
    }
    group.finish();
}

fn bench_growth(c: &mut Criterion, cases: &[(&'static str, usize, RunFunctionRequest)]) {
    let runner = common::runner();
    for dimension in ["passthrough-resources", "observed-KiB", "cloud-init-KiB"] {
        let mut group = c.benchmark_group(format!("growth/{dimension}"));
        for (_, size, request) in cases.iter().filter(|(d, ..)| *d == dimension) {
            let encoded = request.encode_to_vec();
            check(dimension, &runner.call(request));
            group.throughput(Throughput::Bytes(encoded.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), &encoded, |b, encoded| {
                b.iter(|| black_box(handle(&runner, black_box(encoded))))
            });
        }
        group.finish();
    }
}

/// A benchmark of a failing render would measure the wrong thing.
fn check(name: &str, rsp: &RunFunctionResponse) {
    let fatal = rsp
        .results
        .iter()
        .find(|r| r.severity() == function_sco::sdk::proto::v1::Severity::Fatal);
    assert!(
        fatal.is_none(),
        "{name}: the function returned a Fatal result: {}",
        fatal.map_or("", |r| &r.message)
    );
}

/// Request and response sizes of every case, for BENCHMARKS.md.
fn write_sizes(cases: &[Case], growth: &[(&'static str, usize, RunFunctionRequest)]) {
    let runner = common::runner();
    let size = |name: &str, req: &RunFunctionRequest| json!({"case": name, "request_bytes": req.encoded_len(), "response_bytes": runner.call(req).encoded_len()});
    let mut sizes: Vec<_> = cases.iter().map(|c| size(&c.name, &c.request)).collect();
    sizes.extend(
        growth
            .iter()
            .map(|(d, s, r)| size(&format!("growth/{d}/{s}"), r)),
    );
    let path = common::out_dir().join("sizes.json");
    std::fs::write(&path, serde_json::to_string_pretty(&sizes).expect("JSON"))
        .expect("sizes.json is writable");
}

fn main() {
    // The per-call JSON log line is part of the handler; log it to a sink, not the terminal.
    telemetry::init_with_writer(false, std::io::sink);
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let mut cases = common::examples();
    cases.extend(common::large_cases());
    let growth = growth_cases();
    if benchmarking {
        write_sizes(&cases, &growth);
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench_render(&mut c, &cases);
    bench_handler(&mut c, &cases);
    bench_growth(&mut c, &growth);
    c.final_summary();
}
