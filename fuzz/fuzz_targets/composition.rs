//! Any JSON as an example's `spec`, for every composition: the first byte picks the example
//! (so every composition's examples are reached), the rest is the spec. Every XR gets an
//! answer. Seeds: every example's spec, prefixed with its index.
#![no_main]

use function_sco::sdk::render;
use function_sco_fuzz::{assert_answered, examples, runner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(spec) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let examples = examples();
    let mut input = examples[usize::from(pick) % examples.len()].clone();
    input.composite["spec"] = spec;
    assert_answered(&render::run(runner(), &input));
});
