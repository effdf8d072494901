//! Command line: `function-sco [serve] [FLAGS]`, `function-sco render XR [FILES]` and
//! `function-sco generate NAME`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::function::Sco;
use crate::sdk::{self, Runner, ServerArgs, render};

/// The Crossplane composition function of Stakater Cloud Orchestrator.
#[derive(Debug, Parser)]
#[command(name = "function-sco", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, serve (how Crossplane runs the image).
    #[command(flatten)]
    serve: ServerArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve RunFunction over gRPC (the default).
    Serve(ServerArgs),
    /// Render an XR offline through the server's own code path and print the result as YAML.
    Render(RenderArgs),
    /// Print a generated manifest: an XRD, or the function input CRD.
    Generate {
        /// What to print: `input`, or a composition's XRD by name (`virtualmachine`, ...).
        what: String,
    },
}

/// Flags of `function-sco render`.
#[derive(Debug, clap::Args)]
struct RenderArgs {
    /// The composite resource (XR) to render.
    xr: PathBuf,
    /// Observed composed resources (a YAML stream; each with the
    /// crossplane.io/composition-resource-name annotation).
    #[arg(long, short = 'o')]
    observed: Option<PathBuf>,
    /// EnvironmentConfig manifests (or plain data) making up the Crossplane environment.
    #[arg(long, short = 'e')]
    environment: Option<PathBuf>,
    /// The pipeline step's input (an sco.fn.stakater.com Input).
    #[arg(long, short = 'i')]
    input: Option<PathBuf>,
    /// Pipeline context: a YAML map of context keys to values.
    #[arg(long, short = 'c')]
    context: Option<PathBuf>,
    /// Objects the function's requirements may select (for example the KCP admin kubeconfig Secret).
    #[arg(long, short = 'r')]
    required: Option<PathBuf>,
    /// Function credentials: a YAML stream of Secret manifests, each named as the credential
    /// the Composition step lists (as `crossplane render --function-credentials`).
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Log each call (human-readable) to stderr.
    #[arg(long, short)]
    debug: bool,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Render(args)) => render_files(&args),
        Some(Command::Generate { what }) => match crate::function::generate(&what) {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("function-sco: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// The shape Crossplane gives the XR, from the XRD of the composition serving it.
pub fn shape(composite: &serde_json::Value) -> render::XrShape {
    let field = |key: &str| {
        composite
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    crate::compositions::for_xr(field("apiVersion"), field("kind"))
        .map_or(render::XrShape::Modern, |entry| {
            render::XrShape::of_definition(&(entry.definition)())
        })
}

fn serve(args: &ServerArgs) -> ExitCode {
    sdk::telemetry::init(args.debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("function-sco: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(sdk::server::serve(Sco, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The logger is installed: one structured line says why.
            tracing::error!(error = %e, "function-sco stopped");
            ExitCode::FAILURE
        }
    }
}

fn render_files(args: &RenderArgs) -> ExitCode {
    if args.debug {
        sdk::telemetry::init(true);
    }
    match load(args) {
        Ok(input) => {
            let runner = Runner::new(Sco, sdk::response::DEFAULT_TTL);
            let rsp = render::run(&runner, &input);
            print!(
                "{}",
                render::to_yaml(&render::documents(
                    &input.composite,
                    &rsp,
                    shape(&input.composite)
                ))
            );
            if sdk::response::has_fatal(&rsp) {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("function-sco render: {e}");
            ExitCode::from(2)
        }
    }
}

fn load(args: &RenderArgs) -> Result<render::RenderInput, render::FileError> {
    render::RenderFiles {
        xr: args.xr.clone(),
        observed: args.observed.clone(),
        environment: args.environment.clone(),
        input: args.input.clone(),
        context: args.context.clone(),
        required: args.required.clone(),
        credentials: args.credentials.clone(),
    }
    .load()
}
