//! The gRPC server: v1 and v1beta1 `RunFunction`, mTLS or insecure, health, reflection,
//! metrics, request size, in-flight, deadline and HTTP/2 limits, and graceful shutdown.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::net::TcpListener;
use tonic::codegen::tokio_stream::Stream;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;

use super::args::ServerArgs;
use super::beta::{V1, V1Beta1};
use super::error::Error;
use super::grpc_metrics::GrpcMetrics;
use super::limits::Limits;
use super::metrics::{self, Metrics};
use super::proto::{FILE_DESCRIPTOR_SET, v1, v1beta1};
use super::runner::{Function, Runner};

/// How many streams a client may open and reset before the server has accepted them.
const MAX_PENDING_RESETS: usize = 64;

/// gRPC service names, as health checks name them.
pub const V1_SERVICE: &str = "apiextensions.fn.proto.v1.FunctionRunnerService";
/// The v1beta1 service name.
pub const V1BETA1_SERVICE: &str = "apiextensions.fn.proto.v1beta1.FunctionRunnerService";

/// Serves `function` as `args` say until SIGTERM or SIGINT, then drains in-flight calls.
pub async fn serve<F: Function>(function: F, args: &ServerArgs) -> Result<(), Error> {
    // Say what is wrong with the TLS flags before a busy port can hide it.
    tls_config(args)?;
    let grpc = bind(args.address).await?;
    let metrics = match args.metrics_address.0 {
        Some(address) => Some(bind(address).await?),
        None => None,
    };
    serve_with_incoming(function, args, grpc, metrics, shutdown_signal()).await
}

async fn bind(address: std::net::SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(address)
        .await
        .map_err(|source| Error::Listen {
            address: address.to_string(),
            source,
        })
}

/// Resolves on SIGTERM (how Kubernetes stops a pod) or SIGINT. The handlers are installed
/// when this is called, before the server announces itself, so that an early signal drains the
/// server instead of killing it with the default action.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        let wait = |registered: std::io::Result<tokio::signal::unix::Signal>| async move {
            match registered {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot handle a shutdown signal");
                    std::future::pending::<()>().await;
                }
            }
        };
        let (term, interrupt) = (
            wait(signal(SignalKind::terminate())),
            wait(signal(SignalKind::interrupt())),
        );
        async move {
            tokio::select! {
                () = term => {},
                () = interrupt => {},
            }
        }
    };
    #[cfg(not(unix))]
    let signals = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    async move {
        signals.await;
        tracing::info!("shutting down: no new connections, finishing calls in flight");
    }
}

/// Serves on listeners the caller bound (tests bind `127.0.0.1:0`) until `shutdown` resolves.
/// `args.address` and `args.metrics_address` are not used; the listeners are.
pub async fn serve_with_incoming<F: Function>(
    function: F,
    args: &ServerArgs,
    grpc: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let tls = tls_config(args)?;
    let metrics = Arc::new(Metrics::new());
    let runner = Arc::new(Runner::new(function, args.ttl).with_metrics(metrics.clone()));
    let metrics_for_limits = metrics.clone();
    let grpc_metrics = GrpcMetrics::new(metrics.clone());

    let (health, health_service) = tonic_health::server::health_reporter();
    for service in [V1_SERVICE, V1BETA1_SERVICE] {
        health
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let limit = args.max_recv_message_size;
    let v1 =
        v1::function_runner_service_server::FunctionRunnerServiceServer::new(V1(runner.clone()))
            .max_decoding_message_size(limit);
    let v1beta1 =
        v1beta1::function_runner_service_server::FunctionRunnerServiceServer::new(V1Beta1(runner))
            .max_decoding_message_size(limit);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_metrics = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    if let Some(listener) = metrics_listener {
        tracing::info!(address = %local(&listener), "serving metrics at /metrics");
        tokio::spawn(metrics::serve(metrics, listener, stop_metrics));
    }

    let address = local(&grpc);
    // HTTP/2 limits, set deliberately rather than left to defaults: streams per connection
    // (Crossplane multiplexes every XR's calls over one connection), keepalive pings so a
    // half-open connection is noticed, and a bound on streams a client may open and reset
    // before they are accepted (the HTTP/2 rapid-reset attack).
    let mut builder = Server::builder()
        .max_concurrent_streams(args.max_concurrent_streams)
        .http2_keepalive_interval(Some(args.http2_keepalive_interval))
        .http2_keepalive_timeout(Some(args.http2_keepalive_timeout))
        .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
        .tcp_keepalive(Some(args.http2_keepalive_interval));
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    tracing::info!(%address, tls = !args.insecure, max_recv_message_size = limit, ttl = ?args.ttl,
        max_concurrent_calls = args.max_concurrent_calls, call_timeout = ?args.call_timeout,
        max_concurrent_streams = args.max_concurrent_streams, "serving RunFunction v1 and v1beta1");
    let drain = async move {
        shutdown.await;
        for service in ["", V1_SERVICE, V1BETA1_SERVICE] {
            health
                .set_service_status(service, ServingStatus::NotServing)
                .await;
        }
        let _ = stop_tx.send(true);
    };
    // The incoming stream ends (closing the listener) when `drain` does; tonic then shuts down
    // gracefully, so its own shutdown signal is never needed.
    // Accepted connections get TCP_NODELAY, as Server::serve would set (tonic leaves it off
    // for listeners passed in): without it, small frames such as WINDOW_UPDATE wait for
    // delayed ACKs and a request above the 64 KiB flow-control window takes 40 ms.
    let incoming = UntilShutdown {
        incoming: Some(TcpIncoming::from(grpc).with_nodelay(Some(true))),
        shutdown: Box::pin(drain),
    };
    // The gRPC metrics outside the limits, so that what the limits refuse is counted.
    builder
        .layer(grpc_metrics)
        .layer(
            Limits::new(
                usize::try_from(args.max_concurrent_calls).unwrap_or(usize::MAX),
                args.call_timeout,
            )
            .with_metrics(metrics_for_limits),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(v1)
        .add_service(v1beta1)
        .serve_with_incoming_shutdown(incoming, std::future::pending())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

fn local(listener: &TcpListener) -> String {
    listener
        .local_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string())
}

/// Accepted connections until shutdown starts; then the listener is closed, so that new
/// connections are refused at once. (tonic keeps the stream it accepts from, and so the
/// listener, until every connection has drained: connections made meanwhile would wait in the
/// kernel's backlog, never served, and be reset when the process exits.)
struct UntilShutdown {
    incoming: Option<TcpIncoming>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Stream for UntilShutdown {
    type Item = <TcpIncoming as Stream>::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.incoming.is_some() && self.shutdown.as_mut().poll(cx).is_ready() {
            self.incoming = None;
        }
        match self.incoming.as_mut() {
            Some(incoming) => Pin::new(incoming).poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

/// The TLS configuration `args` ask for: `None` for `--insecure`.
fn tls_config(args: &ServerArgs) -> Result<Option<ServerTlsConfig>, Error> {
    if args.insecure {
        return Ok(None);
    }
    let Some(dir) = args.tls_certs_dir.as_deref() else {
        return Err(Error::NoTransportSecurity);
    };
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| Error::ReadCertificate { path, source })
    };
    let (cert, key, ca) = (read("tls.crt")?, read("tls.key")?, read("ca.crt")?);
    // rustls speaks TLS 1.2 and 1.3 only; tonic advertises ALPN h2, which grpc-go requires.
    Ok(Some(
        ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, key))
            .client_ca_root(Certificate::from_pem(ca))
            .client_auth_optional(false),
    ))
}

/// Whether `dir` holds the three files `--tls-certs-dir` needs.
pub fn has_tls_files(dir: &Path) -> bool {
    ["tls.crt", "tls.key", "ca.crt"]
        .iter()
        .all(|f| dir.join(f).is_file())
}
