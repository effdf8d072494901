//! The one code path every call takes, served or rendered: run the function, turn a panic
//! into a Fatal result, log one line and count it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::pbstruct::Struct;

use super::metrics::Metrics;
use super::proto::v1::{RunFunctionRequest, RunFunctionResponse, Severity};
use super::{request, response};

/// A composition function.
pub trait Function: Send + Sync + 'static {
    /// Runs one pipeline step. Never fails: a problem with the request (a bad XR, input or
    /// configuration) is a Fatal result in the response. `ttl` is the server's default TTL.
    fn run(&self, req: &RunFunctionRequest, ttl: Duration) -> Handled;
}

/// A response and the name of what produced it (for logs and metrics).
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// The response to send.
    pub response: RunFunctionResponse,
    /// Which handler served the call, e.g. a composition's name.
    pub handler: &'static str,
}

/// Runs a [`Function`] with panic isolation, logging and metrics.
pub struct Runner<F> {
    function: F,
    ttl: Duration,
    metrics: Option<Arc<Metrics>>,
}

impl<F: Function> Runner<F> {
    /// A runner for `function` whose responses default to `ttl`.
    pub fn new(function: F, ttl: Duration) -> Self {
        Self {
            function,
            ttl,
            metrics: None,
        }
    }

    pub(crate) fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Runs one call and returns its response.
    pub fn call(&self, req: &RunFunctionRequest) -> RunFunctionResponse {
        let started = Instant::now();
        let _in_flight = self.metrics.as_ref().map(|m| m.in_flight());
        let Handled {
            response: rsp,
            handler,
        } = match catch_unwind(AssertUnwindSafe(|| self.function.run(req, self.ttl))) {
            Ok(handled) => handled,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                let mut rsp = response::to(req, self.ttl);
                response::fatal(
                    &mut rsp,
                    format!("internal error in function-sco: {what}; please report this bug"),
                )
                .reason = Some("InternalError".to_owned());
                Handled {
                    response: rsp,
                    handler: "panic",
                }
            }
        };
        let elapsed = started.elapsed();
        let outcome = outcome(&rsp);
        let xr = req
            .observed
            .as_ref()
            .and_then(|o| o.composite.as_ref())
            .and_then(|c| c.resource.as_ref());
        tracing::info!(
            tag = request::tag(req),
            xr.api_version = field(xr, &["apiVersion"]),
            xr.kind = field(xr, &["kind"]),
            xr.namespace = field(xr, &["metadata", "namespace"]),
            xr.name = field(xr, &["metadata", "name"]),
            composition = handler,
            duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            outcome,
            "RunFunction"
        );
        if let Some(metrics) = &self.metrics {
            metrics.observe(handler, outcome, elapsed);
        }
        rsp
    }
}

/// `fatal`, `warning` or `ok`, by the most severe result.
fn outcome(rsp: &RunFunctionResponse) -> &'static str {
    let severities = rsp.results.iter().map(|r| r.severity());
    let mut outcome = "ok";
    for s in severities {
        match s {
            Severity::Fatal => return "fatal",
            Severity::Warning | Severity::Unspecified => outcome = "warning",
            Severity::Normal => {}
        }
    }
    outcome
}

/// A string field of an object, by path, without converting the whole Struct.
fn field<'a>(s: Option<&'a Struct>, path: &[&str]) -> &'a str {
    s.and_then(|s| s.str_at(path)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::proto::v1::{RequestMeta, Resource, State};
    use crate::sdk::structpb;
    use serde_json::json;

    struct Panics;
    impl Function for Panics {
        fn run(&self, _: &RunFunctionRequest, _: Duration) -> Handled {
            panic!("boom")
        }
    }

    #[test]
    fn a_panic_becomes_a_fatal_result_that_keeps_desired_state() {
        let mut desired = State::default();
        desired
            .resources
            .insert("earlier".into(), Resource::default());
        let req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: "t1".into(),
                capabilities: vec![],
            }),
            desired: Some(desired),
            ..Default::default()
        };
        let rsp = Runner::new(Panics, Duration::from_secs(5)).call(&req);
        assert_eq!(rsp.meta.as_ref().unwrap().tag, "t1");
        assert!(
            rsp.desired
                .as_ref()
                .unwrap()
                .resources
                .contains_key("earlier")
        );
        assert_eq!(rsp.results.len(), 1);
        assert_eq!(rsp.results[0].severity(), Severity::Fatal);
        assert!(
            rsp.results[0].message.contains("boom"),
            "{}",
            rsp.results[0].message
        );
    }

    #[test]
    fn fields_are_read_by_path() {
        let s = structpb::from_json_value(
            &json!({"kind": "VM", "metadata": {"name": "a", "labels": 3}}),
        )
        .unwrap();
        assert_eq!(field(Some(&s), &["kind"]), "VM");
        assert_eq!(field(Some(&s), &["metadata", "name"]), "a");
        assert_eq!(field(Some(&s), &["metadata", "namespace"]), "");
        assert_eq!(field(None, &["kind"]), "");
    }

    #[test]
    fn outcomes_follow_the_most_severe_result() {
        let mut rsp = RunFunctionResponse::default();
        assert_eq!(outcome(&rsp), "ok");
        response::normal(&mut rsp, "n");
        assert_eq!(outcome(&rsp), "ok");
        response::warning(&mut rsp, "w");
        assert_eq!(outcome(&rsp), "warning");
        response::fatal(&mut rsp, "f");
        assert_eq!(outcome(&rsp), "fatal");
    }
}
