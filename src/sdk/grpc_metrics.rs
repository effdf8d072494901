//! The `grpc_server_*` series that every function built on function-sdk-go serves, so that
//! dashboards and alerts written for those functions work for this one unchanged.
//!
//! function-sdk-go (v0.5.0+, `sdk.go` `Serve`) installs go-grpc-middleware's Prometheus unary
//! interceptor (`providers/prometheus`, `interceptors/server.go`) and pre-creates every
//! registered method's series at zero (`InitializeMetrics`). Per unary call that interceptor
//! counts `grpc_server_started_total` and `grpc_server_msg_received_total` before the handler,
//! then `grpc_server_msg_sent_total` (even when the handler failed) and
//! `grpc_server_handled_total{grpc_code}`; all are labelled `grpc_type`, `grpc_service` and
//! `grpc_method`, and `grpc_code` is grpc-go's name of the code (`OK`, `ResourceExhausted`).
//! Streams (health `Watch`, reflection) have series but are never counted, as there.
//!
//! This layer counts the same way, from the HTTP side: the status is the `grpc-status` of a
//! trailers-only response or of the trailers that end the body; a call whose caller went away
//! first counts as `Canceled`. One difference, on purpose: it sits outside the
//! [`super::limits`] layer, so a call refused before any handler (above
//! `--max-recv-message-size`, beyond `--max-concurrent-calls`, past its deadline) is counted
//! too, with its code, where grpc-go refuses an oversized request before its interceptors.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, SizeHint};

use super::metrics::{MethodCounters, Metrics};

/// gRPC's `Canceled` and `Unknown` codes.
const CANCELED: usize = 1;
const UNKNOWN: usize = 2;

/// A tower layer counting unary gRPC calls into [`Metrics`]' `grpc_server_*` series.
#[derive(Clone)]
pub struct GrpcMetrics {
    metrics: Arc<Metrics>,
}

impl GrpcMetrics {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for GrpcMetrics {
    type Service = Counting<S>;

    fn layer(&self, inner: S) -> Counting<S> {
        Counting {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`GrpcMetrics`] wraps.
#[derive(Clone)]
pub struct Counting<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// One counted call; counts as `Canceled` if dropped before its status was seen.
struct Call(Option<MethodCounters>);

impl Call {
    fn start(counters: &MethodCounters) -> Self {
        counters.started.inc();
        counters.received.inc();
        Self(Some(counters.clone()))
    }

    fn finish(&mut self, code: usize) {
        if let Some(counters) = self.0.take() {
            counters.sent.inc();
            counters.handled[code.min(counters.handled.len() - 1)].inc();
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(CANCELED);
    }
}

/// The code number a `grpc-status` value gives; `Unknown` when absent or not a known code.
fn code(status: Option<&http::HeaderValue>) -> usize {
    status
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n <= 16)
        .unwrap_or(UNKNOWN)
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for Counting<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<Counted<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let call = self.metrics.unary(req.uri().path()).map(Call::start);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut call = call;
            let rsp = match fut.await {
                Ok(rsp) => rsp,
                Err(e) => {
                    if let Some(call) = &mut call {
                        call.finish(UNKNOWN);
                    }
                    return Err(e);
                }
            };
            // A trailers-only response carries its status in the headers.
            if let Some(status) = rsp.headers().get("grpc-status")
                && let Some(call) = &mut call
            {
                call.finish(code(Some(status)));
            }
            Ok(rsp.map(|inner| Counted { inner, call }))
        })
    }
}

/// A response body that counts its call when the trailers carrying its status go by.
pub struct Counted<B> {
    inner: B,
    call: Option<Call>,
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(call) = &mut this.call {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        call.finish(code(trailers.get("grpc-status")));
                    }
                }
                // An error, or an end without a status: gRPC clients see these as Unknown
                // (or Internal), never as success.
                Poll::Ready(Some(Err(_)) | None) => call.finish(UNKNOWN),
                Poll::Pending => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::convert::Infallible;
    use tower::{Layer, ServiceExt};

    const RUN_V1: &str = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";

    /// A body of one data frame and, if `status` is set, trailers carrying it.
    struct Reply {
        frames: Vec<Frame<hyper::body::Bytes>>,
    }

    impl Body for Reply {
        type Data = hyper::body::Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<hyper::body::Bytes>, Infallible>>> {
            Poll::Ready(if self.frames.is_empty() {
                None
            } else {
                Some(Ok(self.frames.remove(0)))
            })
        }
    }

    /// Answers every call as `how` says: a status in the headers (trailers-only), or a
    /// message then trailers with a status, or a message and no trailers.
    #[derive(Clone, Copy)]
    enum How {
        TrailersOnly(&'static str),
        Trailers(&'static str),
        NoStatus,
    }

    #[derive(Clone)]
    struct Answer(How);

    impl tower::Service<http::Request<()>> for Answer {
        type Response = http::Response<Reply>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<http::Response<Reply>, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            let data = Frame::data(hyper::body::Bytes::from_static(b"message"));
            let rsp = match self.0 {
                How::TrailersOnly(status) => {
                    let mut rsp = http::Response::new(Reply { frames: vec![] });
                    rsp.headers_mut()
                        .insert("grpc-status", http::HeaderValue::from_static(status));
                    rsp
                }
                How::Trailers(status) => {
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", http::HeaderValue::from_static(status));
                    http::Response::new(Reply {
                        frames: vec![data, Frame::trailers(trailers)],
                    })
                }
                How::NoStatus => http::Response::new(Reply { frames: vec![data] }),
            };
            std::future::ready(Ok(rsp))
        }
    }

    async fn run(metrics: &Arc<Metrics>, how: How, path: &str, read_body: bool) {
        let rsp = GrpcMetrics::new(metrics.clone())
            .layer(Answer(how))
            .oneshot(http::Request::builder().uri(path).body(()).unwrap())
            .await
            .unwrap();
        if read_body {
            rsp.into_body().collect().await.unwrap();
        }
    }

    fn series(text: &str, name: &str, labels: &str) -> Option<u64> {
        let prefix = format!("{name}{{{labels}}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.parse().unwrap())
    }

    const V1: &str = r#"grpc_type="unary",grpc_service="apiextensions.fn.proto.v1.FunctionRunnerService",grpc_method="RunFunction""#;

    #[test]
    fn every_served_method_has_its_series_at_zero_from_the_start() {
        let text = Metrics::new().encode();
        for labels in [
            V1,
            r#"grpc_type="unary",grpc_service="apiextensions.fn.proto.v1beta1.FunctionRunnerService",grpc_method="RunFunction""#,
            r#"grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check""#,
            r#"grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch""#,
            r#"grpc_type="bidi_stream",grpc_service="grpc.reflection.v1.ServerReflection",grpc_method="ServerReflectionInfo""#,
            r#"grpc_type="bidi_stream",grpc_service="grpc.reflection.v1alpha.ServerReflection",grpc_method="ServerReflectionInfo""#,
        ] {
            for name in [
                "grpc_server_started_total",
                "grpc_server_msg_received_total",
                "grpc_server_msg_sent_total",
            ] {
                assert_eq!(series(&text, name, labels), Some(0), "{name}{{{labels}}}");
            }
            for code in super::super::metrics::GRPC_CODES {
                let labels = format!(r#"{labels},grpc_code="{code}""#);
                assert_eq!(
                    series(&text, "grpc_server_handled_total", &labels),
                    Some(0),
                    "{labels}\n{text}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_call_counts_by_the_status_it_ends_with() {
        let metrics = Arc::new(Metrics::new());
        run(&metrics, How::Trailers("0"), RUN_V1, true).await;
        run(&metrics, How::Trailers("0"), RUN_V1, true).await;
        run(&metrics, How::TrailersOnly("8"), RUN_V1, false).await;
        run(&metrics, How::Trailers("13"), RUN_V1, true).await;
        run(&metrics, How::NoStatus, RUN_V1, true).await;
        run(&metrics, How::Trailers("99"), RUN_V1, true).await;
        // The caller went away before the trailers.
        run(&metrics, How::Trailers("0"), RUN_V1, false).await;
        let text = metrics.encode();
        let handled = |code: &str| {
            series(
                &text,
                "grpc_server_handled_total",
                &format!(r#"{V1},grpc_code="{code}""#),
            )
        };
        assert_eq!(handled("OK"), Some(2), "{text}");
        assert_eq!(handled("ResourceExhausted"), Some(1));
        assert_eq!(handled("Internal"), Some(1));
        assert_eq!(handled("Unknown"), Some(2));
        assert_eq!(handled("Canceled"), Some(1));
        for name in [
            "grpc_server_started_total",
            "grpc_server_msg_received_total",
            "grpc_server_msg_sent_total",
        ] {
            assert_eq!(series(&text, name, V1), Some(7), "{name}");
        }
    }

    #[tokio::test]
    async fn streams_and_unknown_paths_are_not_counted() {
        let metrics = Arc::new(Metrics::new());
        let watch =
            r#"grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch""#;
        run(
            &metrics,
            How::Trailers("0"),
            "/grpc.health.v1.Health/Watch",
            true,
        )
        .await;
        run(&metrics, How::TrailersOnly("12"), "/no.Such/Method", false).await;
        run(
            &metrics,
            How::Trailers("0"),
            "/grpc.health.v1.Health/Check",
            true,
        )
        .await;
        let text = metrics.encode();
        assert_eq!(series(&text, "grpc_server_started_total", watch), Some(0));
        assert!(!text.contains("no.Such"), "{text}");
        assert_eq!(
            series(
                &text,
                "grpc_server_handled_total",
                r#"grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK""#
            ),
            Some(1),
            "{text}"
        );
    }
}
