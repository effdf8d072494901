//! Any bytes as a google.protobuf.Struct: decoding refuses or yields a Struct whose JSON
//! form encodes back to a Struct with the same JSON form. Seeds: every example's XR.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbstruct::Struct;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = Struct::decode(data) else {
        return;
    };
    let json = decoded.to_json();
    let again = Struct::from_json(&json);
    let bytes = again.encode_to_vec();
    let back = Struct::decode(bytes.as_slice()).expect("what we encode decodes");
    assert_eq!(
        back.to_json(),
        json,
        "a Struct changed on its way through JSON"
    );
});
