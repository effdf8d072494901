//! Errors of the runtime itself: start-up, TLS files and transport. Problems with a request
//! never become one of these; they are Fatal results in the response.

use std::path::PathBuf;

/// A runtime error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither `--insecure` nor `--tls-certs-dir` was given.
    #[error(
        "refusing to serve without transport security: pass --tls-certs-dir (or set TLS_SERVER_CERTS_DIR) to a directory holding tls.crt, tls.key and ca.crt, or pass --insecure for local development"
    )]
    NoTransportSecurity,
    /// A TLS file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An address flag did not parse.
    #[error("invalid address {0:?}: expected host:port, [ipv6]:port or :port")]
    Address(String),
    /// Binding a listener failed.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC transport failed.
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be set up from the descriptors.
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}
