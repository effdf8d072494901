//! Logging: JSON lines on stderr by default, human-readable with `--debug`. `RUST_LOG`
//! overrides the level. Panics are logged too, so a panic inside a composition leaves a line
//! beside the Fatal result it turns into.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber, logging to stderr; later calls are no-ops.
pub fn init(debug: bool) {
    init_with_writer(debug, std::io::stderr);
}

/// [`init`] with another destination (benchmarks log to a sink to time the line itself).
pub fn init_with_writer<W>(debug: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let default = if debug {
        "debug,h2=info,hyper=info,tower=info"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let installed = if debug {
        let human = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer);
        human.try_init().is_ok()
    } else {
        json_lines(filter, writer).try_init().is_ok()
    };
    if installed {
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(panic = %info, "panic (turned into a Fatal result)");
        }));
    }
}

/// The production format: one JSON object a line, the event's fields at the top level
/// beside `timestamp`, `level`, `message` and `target`, no span context.
pub(crate) fn json_lines<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .finish()
}
