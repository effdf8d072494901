//! Overload protection: a bound on RunFunction calls in flight across all connections, and
//! the gRPC status codes that overload and deadlines have in grpc-go (which Crossplane uses).
//!
//! A call beyond `--max-concurrent-calls` is answered at once with RESOURCE_EXHAUSTED (a
//! trailers-only response) rather than queued: Crossplane retries the XR on its next
//! reconcile, while a queue without bound would turn a burst into latency for every XR and
//! memory for the process. Health checks and reflection are never refused.
//!
//! Deadlines: every RunFunction call has `--call-timeout`, shortened by the caller's
//! `grpc-timeout` header; when it expires the call is dropped and answered with
//! DEADLINE_EXCEEDED. (tonic's own server timeout answers CANCELLED, the code for a caller
//! that gave up.) Rendering is synchronous and short (tens of microseconds) and is not
//! interrupted, so the deadline bounds what can wait: a request body that arrives slowly, a
//! stalled client.
//!
//! tonic reports a request above the decoding limit as OUT_OF_RANGE; gRPC calls that
//! RESOURCE_EXHAUSTED, so that is rewritten. The handlers never return OUT_OF_RANGE.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::metrics::{Metrics, Refusal};

/// The path prefix of the RunFunction services, the only calls the in-flight bound counts.
const RUN_FUNCTION_PREFIX: &str = "/apiextensions.fn.proto.";

/// gRPC status codes, as the `grpc-status` header writes them.
mod code {
    pub const DEADLINE_EXCEEDED: &str = "4";
    pub const RESOURCE_EXHAUSTED: &str = "8";
    pub const OUT_OF_RANGE: &str = "11";
}

/// A tower layer bounding RunFunction calls in flight and mapping statuses to gRPC's codes.
#[derive(Clone)]
pub struct Limits {
    in_flight: Arc<Semaphore>,
    timeout: Duration,
    metrics: Option<Arc<Metrics>>,
}

impl Limits {
    /// At most `max_calls` RunFunction calls in flight at once, each for at most `timeout`
    /// (or the caller's `grpc-timeout`, if shorter).
    pub fn new(max_calls: usize, timeout: Duration) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(max_calls.min(Semaphore::MAX_PERMITS))),
            timeout,
            metrics: None,
        }
    }

    /// Counts every refusal in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

impl<S> tower::Layer<S> for Limits {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited {
            inner,
            in_flight: self.in_flight.clone(),
            timeout: self.timeout,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`Limits`] wraps.
#[derive(Clone)]
pub struct Limited<S> {
    inner: S,
    in_flight: Arc<Semaphore>,
    timeout: Duration,
    metrics: Option<Arc<Metrics>>,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for Limited<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if !req.uri().path().starts_with(RUN_FUNCTION_PREFIX) {
            return Box::pin(self.inner.call(req));
        }
        let refused = {
            let metrics = self.metrics.clone();
            move |why| {
                if let Some(metrics) = &metrics {
                    metrics.refused(why);
                }
            }
        };
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            refused(Refusal::InFlightLimit);
            tracing::warn!(
                path = req.uri().path(),
                "refusing a call: too many RunFunction calls in flight (--max-concurrent-calls)"
            );
            return Box::pin(std::future::ready(Ok(status_only(
                code::RESOURCE_EXHAUSTED,
                "function-sco%20is%20at%20its%20limit%20of%20calls%20in%20flight;%20retry%20later",
            ))));
        };
        let timeout = req
            .headers()
            .get("grpc-timeout")
            .and_then(|v| parse_grpc_timeout(v.as_bytes()))
            .map_or(self.timeout, |asked| asked.min(self.timeout));
        let fut = self.inner.call(req);
        Box::pin(async move {
            let Ok(rsp) = tokio::time::timeout(timeout, fut).await else {
                drop(permit);
                refused(Refusal::Deadline);
                tracing::warn!(?timeout, "a RunFunction call passed its deadline");
                return Ok(status_only(
                    code::DEADLINE_EXCEEDED,
                    "the%20call%20passed%20its%20deadline",
                ));
            };
            drop(permit);
            let mut rsp = rsp?;
            let headers = rsp.headers_mut();
            if headers
                .get("grpc-status")
                .is_some_and(|v| v == code::OUT_OF_RANGE)
            {
                refused(Refusal::TooLarge);
                headers.insert(
                    "grpc-status",
                    http::HeaderValue::from_static(code::RESOURCE_EXHAUSTED),
                );
            }
            Ok(rsp)
        })
    }
}

/// A trailers-only response with gRPC status `status` and the percent-encoded `message`.
fn status_only<B: Default>(status: &'static str, message: &'static str) -> http::Response<B> {
    let mut rsp = http::Response::new(B::default());
    let headers = rsp.headers_mut();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", http::HeaderValue::from_static(status));
    headers.insert("grpc-message", http::HeaderValue::from_static(message));
    rsp
}

/// The `grpc-timeout` header's duration: at most 8 digits and a unit (`H`, `M`, `S`, `m`,
/// `u`, `n`); `None` when malformed, as gRPC servers then ignore it.
pub fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::{Layer, Service, ServiceExt};

    /// A service that answers with `status` once `gate` is open.
    #[derive(Clone)]
    struct Gated {
        gate: Arc<tokio::sync::Notify>,
        status: &'static str,
    }

    impl Service<http::Request<()>> for Gated {
        type Response = http::Response<()>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<http::Response<()>, Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let (gate, status) = (self.gate.clone(), self.status);
            Box::pin(async move {
                gate.notified().await;
                let mut rsp = http::Response::new(());
                rsp.headers_mut()
                    .insert("grpc-status", http::HeaderValue::from_static(status));
                Ok(rsp)
            })
        }
    }

    /// A service that is never ready (a full buffer, a closed connection).
    struct Busy;

    impl Service<http::Request<()>> for Busy {
        type Response = http::Response<()>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<http::Response<()>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Pending
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            std::future::ready(Ok(http::Response::new(())))
        }
    }

    #[test]
    fn the_limits_are_ready_only_when_the_service_they_wrap_is() {
        let mut service = Limits::new(1, Duration::from_secs(1)).layer(Busy);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Service::<http::Request<()>>::poll_ready(&mut service, &mut cx).is_pending());
    }

    fn call(path: &str) -> http::Request<()> {
        http::Request::builder().uri(path).body(()).unwrap()
    }

    fn status(rsp: &http::Response<()>) -> &str {
        rsp.headers()["grpc-status"].to_str().unwrap()
    }

    #[tokio::test]
    async fn calls_beyond_the_limit_are_refused_at_once_and_health_never() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let metrics = Arc::new(Metrics::new());
        let service = Limits::new(1, Duration::from_secs(60))
            .with_metrics(metrics.clone())
            .layer(Gated {
                gate: gate.clone(),
                status: "0",
            });
        let run = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
        let first = tokio::spawn(service.clone().oneshot(call(run)));
        tokio::task::yield_now().await;
        let refused = service.clone().oneshot(call(run)).await.unwrap();
        assert_eq!(status(&refused), code::RESOURCE_EXHAUSTED);
        let health = tokio::spawn(
            service
                .clone()
                .oneshot(call("/grpc.health.v1.Health/Check")),
        );
        tokio::task::yield_now().await;
        gate.notify_waiters();
        assert_eq!(status(&first.await.unwrap().unwrap()), "0");
        assert_eq!(status(&health.await.unwrap().unwrap()), "0");
        // The slot is free again.
        let again = tokio::spawn(service.clone().oneshot(call(run)));
        tokio::task::yield_now().await;
        gate.notify_waiters();
        assert_eq!(status(&again.await.unwrap().unwrap()), "0");
        assert!(
            metrics
                .encode()
                .contains(r#"function_sco_run_function_refused_total{reason="in_flight_limit"} 1"#),
            "{}",
            metrics.encode()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_deadline_is_deadline_exceeded_and_frees_its_slot() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let metrics = Arc::new(Metrics::new());
        let service = Limits::new(1, Duration::from_secs(20))
            .with_metrics(metrics.clone())
            .layer(Gated {
                gate: gate.clone(),
                status: "0",
            });
        let run = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
        // The server's limit.
        let late = service.clone().oneshot(call(run)).await.unwrap();
        assert_eq!(status(&late), code::DEADLINE_EXCEEDED);
        // The caller's, when shorter; and the slot was given back.
        let mut asked = call(run);
        asked
            .headers_mut()
            .insert("grpc-timeout", http::HeaderValue::from_static("50m"));
        let started = tokio::time::Instant::now();
        let late = service.clone().oneshot(asked).await.unwrap();
        assert_eq!(status(&late), code::DEADLINE_EXCEEDED);
        assert_eq!(started.elapsed(), Duration::from_millis(50));
        assert!(
            metrics
                .encode()
                .contains(r#"function_sco_run_function_refused_total{reason="deadline"} 2"#),
            "{}",
            metrics.encode()
        );
    }

    #[test]
    fn grpc_timeouts_parse_as_grpc_defines_them() {
        assert_eq!(parse_grpc_timeout(b"50m"), Some(Duration::from_millis(50)));
        assert_eq!(parse_grpc_timeout(b"2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout(b"3M"), Some(Duration::from_secs(180)));
        assert_eq!(
            parse_grpc_timeout(b"250u"),
            Some(Duration::from_micros(250))
        );
        assert_eq!(
            parse_grpc_timeout(b"99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in [&b""[..], b"S", b"123456789S", b"10x", b"-1S", b"1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn oversize_gets_the_grpc_code() {
        for (from, to) in [(code::OUT_OF_RANGE, code::RESOURCE_EXHAUSTED), ("0", "0")] {
            let gate = Arc::new(tokio::sync::Notify::new());
            let service = Limits::new(4, Duration::from_secs(60)).layer(Gated {
                gate: gate.clone(),
                status: from,
            });
            let pending = tokio::spawn(service.oneshot(call(
                "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
            )));
            tokio::task::yield_now().await;
            gate.notify_waiters();
            assert_eq!(status(&pending.await.unwrap().unwrap()), to);
        }
    }
}
