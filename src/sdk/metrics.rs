//! Prometheus metrics: calls by composition and outcome, call latency, calls in flight, and
//! the `grpc_server_*` series every function-sdk-go function serves (counted by
//! [`super::grpc_metrics`]). Served as text on `--metrics-address` at `/metrics`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    composition: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CompositionLabel {
    composition: &'static str,
}

type HistogramFamily = Family<CompositionLabel, Histogram, fn() -> Histogram>;

/// A gRPC method's labels, as go-grpc-middleware's Prometheus provider names them.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
    grpc_code: &'static str,
}

/// gRPC status codes by number, as grpc-go spells them (its `codes.Code.String()`), which is
/// how the `grpc_code` label reads.
pub(super) const GRPC_CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// A served gRPC method: service, method and kind (`unary`, `server_stream`, `bidi_stream`).
#[derive(Debug, Clone, Copy)]
pub(super) struct GrpcMethod {
    pub service: &'static str,
    pub method: &'static str,
    pub kind: &'static str,
}

/// Every method the server serves. Each gets its `grpc_server_*` series at zero from the
/// start, as function-sdk-go's `InitializeMetrics` gives them.
pub(super) const SERVED: [GrpcMethod; 6] = [
    GrpcMethod {
        service: "apiextensions.fn.proto.v1.FunctionRunnerService",
        method: "RunFunction",
        kind: "unary",
    },
    GrpcMethod {
        service: "apiextensions.fn.proto.v1beta1.FunctionRunnerService",
        method: "RunFunction",
        kind: "unary",
    },
    GrpcMethod {
        service: "grpc.health.v1.Health",
        method: "Check",
        kind: "unary",
    },
    GrpcMethod {
        service: "grpc.health.v1.Health",
        method: "Watch",
        kind: "server_stream",
    },
    GrpcMethod {
        service: "grpc.reflection.v1.ServerReflection",
        method: "ServerReflectionInfo",
        kind: "bidi_stream",
    },
    GrpcMethod {
        service: "grpc.reflection.v1alpha.ServerReflection",
        method: "ServerReflectionInfo",
        kind: "bidi_stream",
    },
];

/// One method's `grpc_server_*` counters, looked up once at start.
#[derive(Clone)]
pub(super) struct MethodCounters {
    pub started: Counter,
    pub received: Counter,
    pub sent: Counter,
    /// By gRPC code number.
    pub handled: [Counter; 17],
}

/// The function's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    duration: HistogramFamily,
    in_flight: Gauge,
    refused: Family<RefusedLabel, Counter>,
    /// [`SERVED`]'s counters, in its order.
    grpc: Vec<MethodCounters>,
}

/// Why a RunFunction call was answered with an error status before or instead of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// RESOURCE_EXHAUSTED: `--max-concurrent-calls` calls were already in flight.
    InFlightLimit,
    /// DEADLINE_EXCEEDED: the call outlived `--call-timeout` or the caller's deadline.
    Deadline,
    /// RESOURCE_EXHAUSTED: the request was larger than `--max-recv-message-size`.
    TooLarge,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Self::InFlightLimit => "in_flight_limit",
            Self::Deadline => "deadline",
            Self::TooLarge => "too_large",
        }
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn latency_histogram() -> Histogram {
    // 10 µs to ~2.6 s.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 19))
}

impl Metrics {
    /// A fresh registry with the function's metrics.
    pub fn new() -> Self {
        let mut root = Registry::default();
        let grpc = grpc_server_counters(&mut root);
        let registry = root.sub_registry_with_prefix("function_sco");
        let calls = Family::<CallLabels, Counter>::default();
        let duration = HistogramFamily::new_with_constructor(latency_histogram);
        let in_flight = Gauge::default();
        let refused = Family::<RefusedLabel, Counter>::default();
        registry.register(
            "run_function_refused",
            "RunFunction calls answered with an error status, by reason (in_flight_limit, deadline, too_large)",
            refused.clone(),
        );
        registry.register(
            "run_function_calls",
            "RunFunction calls by composition and outcome (ok, warning, fatal)",
            calls.clone(),
        );
        registry.register(
            "run_function_duration_seconds",
            "RunFunction handling time by composition",
            duration.clone(),
        );
        registry.register(
            "run_function_in_flight",
            "RunFunction calls being handled",
            in_flight.clone(),
        );
        Self {
            registry: root,
            calls,
            duration,
            in_flight,
            refused,
            grpc,
        }
    }

    /// The `grpc_server_*` counters of `path` (`/<service>/<method>`), if it is a served
    /// unary method (function-sdk-go counts only those: it installs a unary interceptor).
    pub(super) fn unary(&self, path: &str) -> Option<&MethodCounters> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        SERVED
            .iter()
            .position(|m| m.kind == "unary" && m.service == service && m.method == method)
            .map(|i| &self.grpc[i])
    }

    /// Counts a call refused for `why`.
    pub fn refused(&self, why: Refusal) {
        self.refused
            .get_or_create(&RefusedLabel {
                reason: why.label(),
            })
            .inc();
    }

    /// Counts a call as in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Records a finished call.
    pub fn observe(&self, composition: &'static str, outcome: &'static str, elapsed: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                composition,
                outcome,
            })
            .inc();
        self.duration
            .get_or_create(&CompositionLabel { composition })
            .observe(elapsed.as_secs_f64());
    }

    /// The metrics in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Registers the `grpc_server_*` families unprefixed, as go-grpc-middleware names them, and
/// creates every served method's series.
fn grpc_server_counters(registry: &mut Registry) -> Vec<MethodCounters> {
    let started = Family::<MethodLabels, Counter>::default();
    let handled = Family::<HandledLabels, Counter>::default();
    let received = Family::<MethodLabels, Counter>::default();
    let sent = Family::<MethodLabels, Counter>::default();
    registry.register(
        "grpc_server_started",
        "Total number of RPCs started on the server.",
        started.clone(),
    );
    registry.register(
        "grpc_server_handled",
        "Total number of RPCs completed on the server, regardless of success or failure.",
        handled.clone(),
    );
    registry.register(
        "grpc_server_msg_received",
        "Total number of RPC stream messages received on the server.",
        received.clone(),
    );
    registry.register(
        "grpc_server_msg_sent",
        "Total number of gRPC stream messages sent by the server.",
        sent.clone(),
    );
    SERVED
        .iter()
        .map(|m| {
            let labels = MethodLabels {
                grpc_type: m.kind,
                grpc_service: m.service,
                grpc_method: m.method,
            };
            MethodCounters {
                started: started.get_or_create(&labels).clone(),
                received: received.get_or_create(&labels).clone(),
                sent: sent.get_or_create(&labels).clone(),
                handled: GRPC_CODES.map(|code| {
                    handled
                        .get_or_create(&HandledLabels {
                            grpc_type: m.kind,
                            grpc_service: m.service,
                            grpc_method: m.method,
                            grpc_code: code,
                        })
                        .clone()
                }),
            }
        })
        .collect()
}

/// Serves `/metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    metrics: Arc<Metrics>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: accept failed");
                    continue;
                }
            },
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(respond(&metrics, &req)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut rsp = if req.method() == Method::GET && req.uri().path() == "/metrics" {
        let mut rsp = Response::new(Full::new(Bytes::from(metrics.encode())));
        rsp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
        );
        rsp
    } else {
        Response::new(Full::new(Bytes::from_static(
            b"not found; metrics are at /metrics\n",
        )))
    };
    if req.uri().path() != "/metrics" {
        *rsp.status_mut() = StatusCode::NOT_FOUND;
    }
    rsp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_latency_and_in_flight_are_exported() {
        let m = Metrics::new();
        {
            let _guard = m.in_flight();
            assert!(m.encode().contains("function_sco_run_function_in_flight 1"));
        }
        m.observe("VirtualMachine", "ok", Duration::from_micros(40));
        m.observe("VirtualMachine", "fatal", Duration::from_micros(40));
        let text = m.encode();
        assert!(
            text.contains("function_sco_run_function_in_flight 0"),
            "{text}"
        );
        assert!(text.contains(r#"function_sco_run_function_calls_total{composition="VirtualMachine",outcome="ok"} 1"#), "{text}");
        assert!(text.contains(r#"function_sco_run_function_duration_seconds_count{composition="VirtualMachine"} 2"#), "{text}");
    }
}
