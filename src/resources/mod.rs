//! Typed builders for the Kubernetes objects the compositions emit. No protocol types here:
//! each builder returns a serialisable value whose fields follow the upstream schema in
//! `../shared/schemas` (the tests validate every rendered manifest against it).

pub mod kubevirt;
