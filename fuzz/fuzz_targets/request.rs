//! Any bytes as a RunFunctionRequest: decoding refuses or yields a request, and every
//! request gets an answer. Seeds: every example's settled request (`cargo run --bin seed`).
#![no_main]

use function_sco::sdk::proto::v1::RunFunctionRequest;
use function_sco_fuzz::{assert_answered, runner};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = RunFunctionRequest::decode(data) {
        assert_answered(&runner().call(&req));
    }
});
