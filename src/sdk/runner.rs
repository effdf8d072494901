//! The one code path every call takes, served or rendered: run the function, turn a panic
//! into a Fatal result, log one line and count it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let ([api_version, kind], [namespace, name]) = request::observed_composite_struct(req)
            .map(|xr| {
                (
                    xr.strs_at(&[], ["apiVersion", "kind"]),
                    xr.strs_at(&["metadata"], ["namespace", "name"]),
                )
            })
            .unwrap_or_default();
        tracing::info!(
            tag = request::tag(req),
            xr.api_version = api_version,
            xr.kind = kind,
            xr.namespace = namespace,
            xr.name = name,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::proto::v1::{RequestMeta, Resource, State};

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
    fn each_call_logs_one_line_naming_the_xr() {
        struct Answers;
        impl Function for Answers {
            fn run(&self, req: &RunFunctionRequest, ttl: Duration) -> Handled {
                Handled {
                    response: response::to(req, ttl),
                    handler: "Answers",
                }
            }
        }
        let lines = crate::sdk::telemetry::Lines::default();
        let writer = lines.clone();
        let subscriber = crate::sdk::telemetry::json_lines(
            tracing_subscriber::EnvFilter::new("info"),
            move || writer.clone(),
        );
        let xr = pbstruct::from_json_value(&serde_json::json!({
            "apiVersion": "sco.stakater.com/v1alpha1",
            "kind": "VirtualMachine",
            "metadata": {"name": "web", "namespace": "team-a", "labels": {"name": "not this"}},
            "spec": {"name": "nor this"},
        }))
        .unwrap();
        let req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: "t1".into(),
                capabilities: vec![],
            }),
            observed: Some(State {
                composite: Some(Resource {
                    resource: Some(xr),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        tracing::subscriber::with_default(subscriber, || {
            Runner::new(Answers, Duration::from_secs(5)).call(&req)
        });
        let text = lines.take();
        let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        for (field, want) in [
            ("message", "RunFunction"),
            ("tag", "t1"),
            ("xr.api_version", "sco.stakater.com/v1alpha1"),
            ("xr.kind", "VirtualMachine"),
            ("xr.namespace", "team-a"),
            ("xr.name", "web"),
            ("composition", "Answers"),
            ("outcome", "ok"),
        ] {
            assert_eq!(line[field], want, "{field} in {text}");
        }
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
