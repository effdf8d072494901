//! Prometheus metrics: calls by composition and outcome, call latency, calls in flight.
//! Served as text on `--metrics-address` at `/metrics`.

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

/// The function's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    duration: HistogramFamily,
    in_flight: Gauge,
    refused: Family<RefusedLabel, Counter>,
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
        let mut registry = Registry::with_prefix("function_sco");
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
            registry,
            calls,
            duration,
            in_flight,
            refused,
        }
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
