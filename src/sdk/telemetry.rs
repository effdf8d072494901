//! Logging: JSON lines on stderr by default, human-readable with `--debug`. `RUST_LOG`
//! overrides the level. Panics are logged too, so a panic inside a composition leaves a line
//! beside the Fatal result it turns into.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = if debug {
        builder.try_init().is_ok()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
            .is_ok()
    };
    if installed {
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(panic = %info, "panic (turned into a Fatal result)");
        }));
    }
}
