//! A generic Crossplane composition function runtime. It knows the protocol, not SCO: nothing
//! in here names a composition.
//!
//! The module names mirror function-sdk-go: [`request`] reads a `RunFunctionRequest`,
//! [`response`] builds a `RunFunctionResponse` (always starting from [`response::to`], so that
//! what earlier pipeline steps composed is kept), [`resource`] holds names and readiness
//! helpers. `google.protobuf.Struct` is the `pbstruct` crate's (crates/pbstruct): kept as its
//! wire bytes, read straight into JSON or typed values, written from them. [`server`] serves
//! v1 and v1beta1 over gRPC with mTLS, health, reflection and metrics; [`render`] runs the very
//! same [`Runner`] offline on files.

pub mod args;
mod beta;
pub mod error;
mod grpc_metrics;
mod limits;
mod metrics;
pub mod proto;
pub mod render;
pub mod request;
pub mod resource;
pub mod response;
mod runner;
pub mod server;
pub mod telemetry;

pub use args::ServerArgs;
pub use error::Error;
pub use runner::{Function, Handled, Runner};
