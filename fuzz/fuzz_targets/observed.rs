//! Any JSON as part of an observed or required object of an example, for every composition:
//! what the controllers report back (a provider-kubernetes Object's `status.atProvider`, a
//! Keycloak resource's conditions, an MTO Tenant's namespaces, a fetched Namespace's labels)
//! is read by every composition, typed, on every call. Every XR gets an answer, however odd
//! what comes back.
//!
//! Bytes: the example, then which object (its observed composed resources, then its
//! required resources), then where the JSON goes (`status`, `spec`, `metadata`, or the whole
//! object with its composition resource name kept), then the JSON. Seeds: every object's
//! `status` of every example.
#![no_main]

use function_sco::sdk::render;
use function_sco_fuzz::{assert_answered, examples, replace_part, runner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [pick, object, part, rest @ ..] = data else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let examples = examples();
    let mut input = examples[usize::from(*pick) % examples.len()].clone();
    if !replace_part(&mut input, usize::from(*object), *part, value) {
        return;
    }
    assert_answered(&render::run(runner(), &input));
});
