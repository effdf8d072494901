//! What the fuzz targets share: the examples, loaded once, and the checks every answer must
//! pass (an answer, never a panic).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use function_sco::function::Sco;
use function_sco::sdk::proto::v1::{RunFunctionResponse, Severity};
use function_sco::sdk::render::{self, RenderInput, RenderFiles};
use function_sco::sdk::{Runner, response};

/// The project root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The function, as the server runs it.
pub fn runner() -> &'static Runner<Sco> {
    static RUNNER: OnceLock<Runner<Sco>> = OnceLock::new();
    RUNNER.get_or_init(|| Runner::new(Sco, response::DEFAULT_TTL))
}

/// Every example of every composition, in a stable order.
pub fn examples() -> &'static [RenderInput] {
    static EXAMPLES: OnceLock<Vec<RenderInput>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        render::case_dirs(&root().join("examples"))
            .iter()
            .map(|dir| RenderFiles::in_dir(dir).load().expect("the examples load"))
            .collect()
    })
}

/// Panics (which libFuzzer reports as a crash) when the function panicked: the runner turns
/// a panic into a Fatal with reason InternalError so that the server keeps serving.
pub fn assert_answered(rsp: &RunFunctionResponse) {
    for result in &rsp.results {
        assert!(
            !(result.severity() == Severity::Fatal && result.reason.as_deref() == Some("InternalError")),
            "the function panicked: {}",
            result.message
        );
    }
}
