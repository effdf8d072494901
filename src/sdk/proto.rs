//! Generated protocol types for `apiextensions.fn.proto.v1` and `v1beta1`.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// The current protocol package.
pub mod v1 {
    // prost escapes the `fn` keyword in the file name.
    include!(concat!(env!("OUT_DIR"), "/apiextensions.r#fn.proto.v1.rs"));
}

/// The older package Crossplane 1.14 to 1.16 calls; wire-identical to [`v1`].
pub mod v1beta1 {
    include!(concat!(
        env!("OUT_DIR"),
        "/apiextensions.r#fn.proto.v1beta1.rs"
    ));
}

/// Encoded descriptors of both packages (and their imports), for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/function_descriptor.bin"));
