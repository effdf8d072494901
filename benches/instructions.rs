//! Instructions per RunFunction handler call (decode, `Runner::call`, encode, drop), counted by
//! callgrind: a figure that does not move with the machine's load, so a change's effect can be
//! read off at once, before and after.
//!
//! `cargo bench --bench instructions [-- --calls N] [CASE...]` runs, for each case (every
//! example and large request, or those whose name contains a CASE), this program under
//! `valgrind --tool=callgrind` twice: once with one warm-up call, once with the warm-up and N
//! more (100 by default). The difference divided by N is the cost of a call; it goes to stdout
//! and `benches/out/instructions.json`. Without `--bench` (under `cargo test --all-targets`)
//! it calls the handler once per case and counts nothing.

mod common;

use std::hint::black_box;
use std::process::{Command, ExitCode};

use common::Case;
use function_sco::sdk::proto::v1::RunFunctionRequest;
use function_sco::sdk::telemetry;
use prost::Message;
use serde_json::json;

/// What the child process is told: run `calls` calls of `case` after one warm-up call.
const CHILD: &str = "--calls-of";

fn cases() -> Vec<Case> {
    let mut cases = common::examples();
    cases.extend(common::large_cases());
    cases
}

fn call(runner: &function_sco::sdk::Runner<function_sco::function::Sco>, encoded: &[u8]) {
    let req = RunFunctionRequest::decode(encoded).expect("the request decodes");
    black_box(runner.call(&req).encode_to_vec());
}

/// In the child: one warm-up call (thread-local caches, lazy statics), then `calls` calls.
fn run_calls(case: &str, calls: u64) -> ExitCode {
    let Some(case) = cases().into_iter().find(|c| c.name == case) else {
        eprintln!("no case {case}");
        return ExitCode::FAILURE;
    };
    let runner = common::runner();
    let encoded = case.encoded();
    for _ in 0..=calls {
        call(&runner, &encoded);
    }
    ExitCode::SUCCESS
}

/// Instructions callgrind counted in a child running `calls` calls of `case`.
fn count(case: &str, calls: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([CHILD, case, &calls.to_string()])
        .output()
        .map_err(|e| format!("cannot run valgrind (Debian package valgrind): {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{case}: valgrind failed:\n{stderr}"));
    }
    // "==123== Collected : 4567890"
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().parse().ok())
        })
        .flatten()
        .ok_or_else(|| format!("{case}: no instruction count in valgrind's output:\n{stderr}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, case, calls] = args.as_slice()
        && flag == CHILD
    {
        telemetry::init_with_writer(false, std::io::sink);
        return run_calls(case, calls.parse().unwrap_or(0));
    }
    telemetry::init_with_writer(false, std::io::sink);
    let cases = cases();
    if !args.iter().any(|a| a == "--bench") {
        let runner = common::runner();
        for case in &cases {
            call(&runner, &case.encoded());
        }
        println!(
            "instructions: called the handler once per case ({})",
            cases.len()
        );
        return ExitCode::SUCCESS;
    }
    let mut calls = 20;
    let mut wanted = Vec::new();
    let mut rest = args.iter().filter(|a| *a != "--bench");
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--calls" => match rest.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => calls = n,
                _ => {
                    eprintln!("--calls needs a positive number");
                    return ExitCode::FAILURE;
                }
            },
            name => wanted.push(name.to_owned()),
        }
    }
    let mut figures = Vec::new();
    for case in cases
        .iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|w| c.name.contains(w.as_str())))
    {
        let per_call = count(&case.name, 0).and_then(|base| {
            count(&case.name, calls).map(|total| total.saturating_sub(base) / calls)
        });
        match per_call {
            Ok(n) => {
                println!("{:<40} {n:>12} instructions per call", case.name);
                figures.push(json!({"case": case.name, "instructions": n, "calls": calls}));
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let path = common::out_dir().join("instructions.json");
    std::fs::write(&path, serde_json::to_string_pretty(&figures).expect("JSON"))
        .expect("benches/out is writable");
    ExitCode::SUCCESS
}
