//! Compiles the vendored protocol definitions with protox (pure Rust, no system `protoc`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/apiextensions/fn/proto/v1/run_function.proto",
        "proto/apiextensions/fn/proto/v1beta1/run_function.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("function_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    // Maps are BTreeMaps so that a message encodes to the same bytes every time (prost
    // encodes map entries in iteration order; a HashMap's differs per instance).
    tonic_prost_build::configure()
        .btree_map(".")
        // Struct with an encoder linear in the tree's size (see crates/pbstruct).
        .extern_path(".google.protobuf.Struct", "::pbstruct::Struct")
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
