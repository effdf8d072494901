//! Loopback load benchmark of the server binary, driven by a gRPC (HTTP/2) client over one
//! connection, as Crossplane holds one connection per function.
//!
//! `cargo bench --bench load -- [--binary PATH] [--duration S] [--max-requests N]
//! [--concurrency 1,16,64] [--soak S] [--startups N] [--client-threads N] [--no-h2load]` measures the
//! release binary (`target/release/function-sco` by default) started with `--insecure` on
//! 127.0.0.1: startup time to SERVING (gRPC health), idle RSS, then per composition (its
//! example with the largest request) and concurrency: requests/s, p50/p99/p999 latency, CPU
//! seconds per 1,000 requests (utime+stime from /proc) and peak RSS; then a soak at the
//! highest concurrency over every case, sampling RSS each second. Every response is checked
//! byte for byte against the first one for its request. Each run stops after its duration or
//! request count, whichever comes first; figures go to stdout and `benches/out/load.json`.
//!
//! When h2load (Debian's nghttp2-client) is installed, each run is repeated with it as the
//! load generator (`--no-h2load` skips that): a C client costs the two shared cores less
//! than this Rust one, so its figures are closer to what the server alone can do. h2load
//! cannot read gRPC trailers; its runs are checked against the server's own call counter.
//! h2load also runs a `grpc.health.v1.Health/Check` with an empty request at each
//! concurrency: the transport's floor on this machine, under every RunFunction figure.
//!
//! Without `--bench` (under `cargo test --all-targets`) it is a smoke test of the same code:
//! the test build of the binary, a few dozen requests per example, no timing figures.

mod common;
#[path = "../tests/support/raw.rs"]
mod raw;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use function_sco::sdk::proto::v1::{RunFunctionResponse, Severity};
use function_sco::sdk::response;
use function_sco::sdk::server::V1_SERVICE;
use prost::Message;
use prost::bytes::Bytes;
use serde_json::{Value, json};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const RUN_FUNCTION: &str = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
/// The transport's floor: a health check with an empty request does no work of ours.
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// What to run.
#[derive(Debug, Clone)]
struct Options {
    binary: PathBuf,
    duration: Duration,
    max_requests: u64,
    concurrency: Vec<usize>,
    soak: Duration,
    startups: usize,
    client_threads: usize,
    /// Also drive each run with h2load (nghttp2), when it is installed.
    h2load: bool,
    /// Whether this is the full benchmark (figures written) or the smoke test.
    full: bool,
}

impl Options {
    fn smoke() -> Self {
        Self {
            binary: PathBuf::from(env!("CARGO_BIN_EXE_function-sco")),
            duration: Duration::from_secs(5),
            max_requests: 20,
            concurrency: vec![1, 8],
            soak: Duration::ZERO,
            startups: 1,
            client_threads: 1,
            h2load: false,
            full: false,
        }
    }

    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self {
            binary: common::root().join("target/release/function-sco"),
            duration: Duration::from_secs(10),
            max_requests: 5_000_000,
            concurrency: vec![1, 16, 64],
            soak: Duration::from_secs(60),
            startups: 20,
            client_threads: 2,
            h2load: which("h2load"),
            full: true,
        };
        let mut args = args.iter().filter(|a| *a != "--bench");
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            let number = |v: &String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: {v:?} is not a number"))
            };
            match flag.as_str() {
                "--binary" => options.binary = PathBuf::from(value()?),
                "--duration" => options.duration = Duration::from_secs(number(value()?)?),
                "--max-requests" => options.max_requests = number(value()?)?,
                "--soak" => options.soak = Duration::from_secs(number(value()?)?),
                "--startups" => options.startups = number(value()?)? as usize,
                "--client-threads" => options.client_threads = number(value()?)? as usize,
                "--no-h2load" => options.h2load = false,
                "--concurrency" => {
                    options.concurrency = value()?
                        .split(',')
                        .map(|c| number(&c.to_owned()).map(|n| n as usize))
                        .collect::<Result<_, _>>()?;
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(options)
    }
}

async fn call(channel: &Channel, body: Bytes) -> Result<Bytes, tonic::Status> {
    raw::call(channel, RUN_FUNCTION, body).await
}

/// The server process.
struct Server {
    child: Child,
    address: SocketAddr,
    metrics: SocketAddr,
    tls: Option<Tls>,
}

/// Certificates for an mTLS run, as Crossplane deploys them: a CA signing the server's
/// certificate (in the `--tls-certs-dir` directory, with the CA) and the client's.
#[derive(Clone)]
struct Tls {
    dir: PathBuf,
    ca: String,
    client_cert: String,
    client_key: String,
}

impl Tls {
    fn generate() -> Result<Self, String> {
        let e = |e: rcgen::Error| e.to_string();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().map_err(e)?)
                .map_err(e)?;
        let issue = |names: Vec<String>, usage| -> Result<(String, String), String> {
            let mut params = rcgen::CertificateParams::new(names).map_err(e)?;
            params.extended_key_usages = vec![usage];
            let key = rcgen::KeyPair::generate().map_err(e)?;
            let cert = params.signed_by(&key, &ca).map_err(e)?;
            Ok((cert.pem(), key.serialize_pem()))
        };
        let (server_cert, server_key) = issue(
            vec!["localhost".into(), "127.0.0.1".into()],
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let (client_cert, client_key) = issue(
            vec!["crossplane".into()],
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        let dir =
            std::env::temp_dir().join(format!("function-sco-load-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (file, text) in [
            ("tls.crt", &server_cert),
            ("tls.key", &server_key),
            ("ca.crt", &ca.pem()),
        ] {
            std::fs::write(dir.join(file), text).map_err(|e| e.to_string())?;
        }
        Ok(Self {
            dir,
            ca: ca.pem(),
            client_cert,
            client_key,
        })
    }

    fn endpoint(&self, address: SocketAddr) -> Result<Endpoint, String> {
        Endpoint::from_shared(format!("https://{address}"))
            .map_err(|e| e.to_string())?
            .tls_config(
                ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(&self.ca))
                    .identity(Identity::from_pem(&self.client_cert, &self.client_key))
                    .domain_name("localhost"),
            )
            .map_err(|e| e.to_string())
    }
}

impl Server {
    /// Starts the binary and waits until its health check says SERVING; returns how long that took.
    async fn start(binary: &Path, tls: Option<&Tls>) -> Result<(Self, Duration), String> {
        let address = free_address()?;
        let metrics = free_address()?;
        let started = Instant::now();
        let transport = match tls {
            Some(tls) => vec!["--tls-certs-dir".to_owned(), tls.dir.display().to_string()],
            None => vec!["--insecure".to_owned()],
        };
        let child = Command::new(binary)
            .args(transport)
            .args([
                "--address",
                &address.to_string(),
                "--metrics-address",
                &metrics.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Self {
            child,
            address,
            metrics,
            tls: tls.cloned(),
        };
        let deadline = started + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server.serving().await {
                return Ok((server, started.elapsed()));
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        Err(format!(
            "{} did not report SERVING within 10 s",
            binary.display()
        ))
    }

    fn endpoint(&self) -> Result<Endpoint, String> {
        match &self.tls {
            Some(tls) => tls.endpoint(self.address),
            None => {
                Endpoint::from_shared(format!("http://{}", self.address)).map_err(|e| e.to_string())
            }
        }
    }

    async fn serving(&self) -> bool {
        let Ok(endpoint) = self.endpoint() else {
            return false;
        };
        let Ok(channel) = endpoint.connect().await else {
            return false;
        };
        let check = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: V1_SERVICE.into(),
            })
            .await;
        check.is_ok_and(|r| r.into_inner().status() == ServingStatus::Serving)
    }

    async fn channel(&self) -> Result<Channel, String> {
        self.endpoint()?
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", self.address))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_address() -> Result<SocketAddr, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok();
        out.and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// A `/proc/<pid>/status` value in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples a process's RSS every `every` until dropped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<(f64, u64)>>>,
}

impl RssSampler {
    fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                samples.push((started.elapsed().as_secs_f64(), status_kib(pid, "VmRSS")));
                std::thread::sleep(every);
            }
            samples
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<(f64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

/// What one load run measured.
#[derive(Debug, Default)]
struct Run {
    requests: u64,
    errors: u64,
    seconds: f64,
    latencies_ns: Vec<u64>,
    cpu_seconds: f64,
    peak_rss_kib: u64,
    rss: Vec<(f64, u64)>,
    first_error: Option<String>,
}

impl Run {
    /// What went wrong in the run `what`, if any call failed or none was answered.
    fn failure(&self, what: &str) -> Option<String> {
        (self.errors > 0 || self.requests == 0).then(|| {
            format!(
                "{what}: {} errors of {} ({})",
                self.errors,
                self.requests,
                self.first_error.as_deref().unwrap_or_default()
            )
        })
    }

    /// Counts and sorts the latencies and takes the peak RSS, once the run is over.
    fn finish(&mut self, pid: u32) {
        self.peak_rss_kib = self
            .rss
            .iter()
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
            .max(status_kib(pid, "VmRSS"));
        self.requests = self.latencies_ns.len() as u64;
        self.latencies_ns.sort_unstable();
    }

    fn percentile_us(&self, p: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_ns.len() as f64 * p).ceil() as usize)
            .clamp(1, self.latencies_ns.len())
            - 1;
        self.latencies_ns[i] as f64 / 1_000.0
    }

    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn summary(&self, scenario: Value) -> Value {
        let mut out = scenario;
        let extra = json!({
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.per_second(), 0),
            "p50_us": round(self.percentile_us(0.50), 1),
            "p99_us": round(self.percentile_us(0.99), 1),
            "p999_us": round(self.percentile_us(0.999), 1),
            "cpu_seconds_per_1000": round(self.cpu_seconds / self.requests.max(1) as f64 * 1_000.0, 4),
            "peak_rss_kib": self.peak_rss_kib,
        });
        response::merge(&mut out, &extra);
        out
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Runs `concurrency` callers, each sending requests in a loop (caller `i` sends
/// `bodies[i % n]`) until `duration` passes or `max_requests` have been sent.
async fn load(
    server: &Server,
    bodies: &[(Bytes, Bytes)],
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
    rss_every: Duration,
) -> Result<Run, String> {
    let channel = server.channel().await?;
    let remaining = Arc::new(AtomicI64::new(
        i64::try_from(max_requests).unwrap_or(i64::MAX),
    ));
    let pid = server.pid();
    let cpu_before = cpu_seconds(pid);
    let sampler = RssSampler::start(pid, rss_every);
    let started = Instant::now();
    let stop_at = started + duration;
    let mut callers = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let (body, expected) = bodies[i % bodies.len()].clone();
        let (channel, remaining) = (channel.clone(), remaining.clone());
        callers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let (mut errors, mut first_error) = (0u64, None);
            while Instant::now() < stop_at && remaining.fetch_sub(1, Ordering::Relaxed) > 0 {
                let sent = Instant::now();
                let outcome = call(&channel, body.clone()).await;
                latencies.push(u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX));
                let problem = match outcome {
                    Ok(got) if got == expected => None,
                    Ok(_) => Some(
                        "a response differs from the first response to the same request".to_owned(),
                    ),
                    Err(status) => Some(format!("gRPC error: {status}")),
                };
                if let Some(problem) = problem {
                    errors += 1;
                    first_error.get_or_insert(problem);
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut run = Run::default();
    for caller in callers {
        let (latencies, errors, first_error) = caller.await.map_err(|e| e.to_string())?;
        run.latencies_ns.extend(latencies);
        run.errors += errors;
        if run.first_error.is_none() {
            run.first_error = first_error;
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run.cpu_seconds = cpu_seconds(pid) - cpu_before;
    run.rss = sampler.finish();
    run.finish(pid);
    Ok(run)
}

/// Whether `program` is on the PATH.
fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The server's `function_sco_run_function_calls_total`, summed: (ok, any other outcome).
fn calls_counted(server: &Server) -> Result<(u64, u64), String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.metrics)
        .map_err(|e| format!("cannot reach the metrics endpoint: {e}"))?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let (mut ok, mut other) = (0, 0);
    for line in text.lines() {
        let Some(labels) = line.strip_prefix("function_sco_run_function_calls_total{") else {
            continue;
        };
        let count: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        if labels.contains("outcome=\"ok\"") {
            ok += count as u64;
        } else {
            other += count as u64;
        }
    }
    Ok((ok, other))
}

/// What an h2load run calls: `path` with `body` (a gRPC message, unframed), named `name`.
struct Call<'a> {
    name: &'a str,
    path: &'static str,
    body: &'a [u8],
}

/// One run driven by h2load (nghttp2's HTTP/2 load generator, written in C: it costs the
/// shared cores less than a Rust gRPC client): one connection, `concurrency` streams, for
/// `duration`. Latencies come from its per-request log. h2load sees HTTP status codes only,
/// not gRPC trailers, so for RunFunction the server's own call counter must grow by exactly
/// the number of requests, all with outcome `ok`.
async fn h2load(
    server: &Server,
    call: &Call<'_>,
    concurrency: usize,
    duration: Duration,
) -> Result<Run, String> {
    let (body, counted) = (call.body, call.path == RUN_FUNCTION);
    let dir = common::out_dir();
    // Kept after the run (one per case), for running h2load by hand as BENCHMARKS.md does.
    let body_file = dir.join(format!("h2load-{}.bin", call.name.replace('/', "-")));
    let log_file = dir.join("h2load-log.tsv");
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    framed.extend_from_slice(body);
    std::fs::write(&body_file, framed).map_err(|e| e.to_string())?;
    let url = format!("http://{}{}", server.address, call.path);
    let generator = |extra: &[String]| {
        let mut command = Command::new("h2load");
        command
            .args(["--clients=1", "--threads=1"])
            .arg(format!("--max-concurrent-streams={concurrency}"))
            .arg(format!("--data={}", body_file.display()))
            .args([
                "--header=content-type: application/grpc",
                "--header=te: trailers",
            ])
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    // Warm-up, then the measured run.
    generator(&["--requests=2000".to_owned()])
        .output()
        .map_err(|e| format!("cannot run h2load: {e}"))?;
    let counted_before = if counted {
        calls_counted(server)?
    } else {
        (0, 0)
    };
    let pid = server.pid();
    let cpu_before = cpu_seconds(pid);
    let sampler = RssSampler::start(pid, Duration::from_millis(50));
    let started = Instant::now();
    let output = generator(&[
        format!("--duration={}", duration.as_secs().max(1)),
        format!("--log-file={}", log_file.display()),
    ])
    .output()
    .map_err(|e| format!("cannot run h2load: {e}"))?;
    let mut run = Run {
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu_seconds(pid) - cpu_before,
        rss: sampler.finish(),
        ..Run::default()
    };
    let counted_after = if counted {
        calls_counted(server)?
    } else {
        (0, 0)
    };
    if !output.status.success() {
        return Err(format!(
            "h2load failed: {}",
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    let log = std::fs::read_to_string(&log_file).map_err(|e| e.to_string())?;
    for line in log.lines() {
        let mut columns = line.split('\t');
        let (status, micros) = (columns.nth(1), columns.next());
        match (status, micros.and_then(|m| m.trim().parse::<u64>().ok())) {
            (Some("200"), Some(us)) => run.latencies_ns.push(us * 1_000),
            _ => {
                run.errors += 1;
                run.first_error
                    .get_or_insert_with(|| format!("h2load logged {line:?}"));
            }
        }
    }
    let _ = std::fs::remove_file(&log_file);
    // "finished in 10.00s, 14459.18 req/s, ...": the measured period, without process start.
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(seconds) = stdout
        .split("finished in ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse::<f64>().ok())
    {
        run.seconds = seconds;
    }
    let (ok, other) = (
        counted_after.0 - counted_before.0,
        counted_after.1 - counted_before.1,
    );
    let answered = run.latencies_ns.len() as u64;
    if counted && (other > 0 || ok < answered) {
        run.errors += other.max(answered - ok.min(answered));
        run.first_error.get_or_insert_with(|| {
            format!("the server counted {ok} ok and {other} other calls for {answered} HTTP 200 responses")
        });
    }
    run.finish(pid);
    Ok(run)
}

/// A case's encoded request and the response the server gives to it, checked to be a
/// rendered (not Fatal) response.
async fn prepare(server: &Server, case: &common::Case) -> Result<(Bytes, Bytes), String> {
    let body = Bytes::from(case.encoded());
    let channel = server.channel().await?;
    let expected = call(&channel, body.clone())
        .await
        .map_err(|e| format!("{}: {e}", case.name))?;
    let rsp =
        RunFunctionResponse::decode(expected.clone()).map_err(|e| format!("{}: {e}", case.name))?;
    if let Some(fatal) = rsp.results.iter().find(|r| r.severity() == Severity::Fatal) {
        return Err(format!(
            "{}: the server returned a Fatal result: {}",
            case.name, fatal.message
        ));
    }
    Ok((body, expected))
}

/// Startup to SERVING over `n` starts, and the idle RSS after each.
async fn startups(options: &Options) -> Result<Value, String> {
    let mut times = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..options.startups {
        let (server, took) = Server::start(&options.binary, None).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        times.push(took.as_secs_f64() * 1_000.0);
        idle.push(status_kib(server.pid(), "VmRSS"));
    }
    times.sort_by(f64::total_cmp);
    idle.sort_unstable();
    Ok(json!({
        "starts": times.len(),
        "startup_ms_median": round(times[times.len() / 2], 2),
        "startup_ms_max": round(times[times.len() - 1], 2),
        "idle_rss_kib_median": idle[idle.len() / 2],
        "idle_rss_kib_max": idle[idle.len() - 1],
    }))
}

/// RSS over a soak: samples, and the spread after the first 10 s.
fn flatness(run: &Run) -> Value {
    let settled: Vec<u64> = run
        .rss
        .iter()
        .filter(|(t, _)| *t >= 10.0)
        .map(|(_, kib)| *kib)
        .collect();
    let (min, max) = (
        settled.iter().min().copied().unwrap_or(0),
        settled.iter().max().copied().unwrap_or(0),
    );
    json!({
        "rss_kib_samples": run.rss.iter().map(|(t, kib)| json!([round(*t, 1), kib])).collect::<Vec<_>>(),
        "rss_kib_after_10s_min": min,
        "rss_kib_after_10s_max": max,
        "rss_kib_first": run.rss.first().map_or(0, |s| s.1),
        "rss_kib_last": run.rss.last().map_or(0, |s| s.1),
    })
}

async fn run(options: Options) -> Result<(), String> {
    let mut cases = common::largest_example_per_composition();
    if options.full
        && let Some(vm) = common::example_of("VirtualMachine")
    {
        let request = common::full_virtual_machine(vm.request);
        cases.push(common::Case {
            name: "vm-64KiB-cloud-init-full-status".into(),
            request,
        });
    }
    if !options.binary.is_file() {
        return Err(format!(
            "{} does not exist: run cargo build --release first",
            options.binary.display()
        ));
    }
    let binary_bytes = std::fs::metadata(&options.binary)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "binary {} ({:.1} MiB)",
        options.binary.display(),
        binary_bytes as f64 / (1 << 20) as f64
    );

    let startup = startups(&options).await?;
    println!("startup to SERVING and idle RSS: {startup}");

    let (server, _) = Server::start(&options.binary, None).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = status_kib(server.pid(), "VmRSS");
    let mut bodies = Vec::new();
    for case in &cases {
        bodies.push(prepare(&server, case).await?);
    }

    let mut runs = Vec::new();
    let mut h2load_runs = Vec::new();
    let mut failed = Vec::new();
    for (case, body) in cases.iter().zip(&bodies) {
        for &concurrency in &options.concurrency {
            // A short warm-up so every run starts with warm connections and allocator.
            load(
                &server,
                std::slice::from_ref(body),
                concurrency,
                Duration::from_millis(300),
                2_000,
                Duration::from_millis(100),
            )
            .await?;
            let run = load(
                &server,
                std::slice::from_ref(body),
                concurrency,
                options.duration,
                options.max_requests,
                Duration::from_millis(50),
            )
            .await?;
            let summary = run.summary(json!({"composition": case.composition(), "case": case.name, "concurrency": concurrency, "request_bytes": body.0.len(), "response_bytes": body.1.len()}));
            println!("{summary}");
            failed.extend(run.failure(&format!("{} at concurrency {concurrency}", case.name)));
            runs.push(summary);
            if options.h2load {
                let call = Call {
                    name: &case.name,
                    path: RUN_FUNCTION,
                    body: &body.0,
                };
                let run = h2load(&server, &call, concurrency, options.duration).await?;
                let summary = run.summary(json!({"generator": "h2load", "composition": case.composition(), "case": case.name, "concurrency": concurrency, "request_bytes": body.0.len(), "response_bytes": body.1.len()}));
                println!("{summary}");
                let what = format!("h2load: {} at concurrency {concurrency}", case.name);
                failed.extend(run.failure(&what));
                h2load_runs.push(summary);
            }
        }
    }

    if options.h2load {
        // The same runs against a health check: what the transport alone costs on this
        // machine (an HTTP/2 round trip through loopback, tonic, and the wake-ups of both
        // processes), the floor under every RunFunction figure above.
        let call = Call {
            name: "health-check",
            path: HEALTH_CHECK,
            body: &[],
        };
        for &concurrency in &options.concurrency {
            let run = h2load(&server, &call, concurrency, options.duration).await?;
            let summary = run.summary(json!({"generator": "h2load", "composition": "transport floor", "case": "grpc.health.v1.Health/Check, empty request", "concurrency": concurrency, "request_bytes": 0, "response_bytes": 2}));
            println!("{summary}");
            let what = format!("h2load: health check at concurrency {concurrency}");
            failed.extend(run.failure(&what));
            h2load_runs.push(summary);
        }
    }

    // The same Rust-client runs for the VirtualMachine example over mTLS, as Crossplane
    // calls a function it deploys: what the TLS layer adds to a call.
    let mut mtls_runs = Vec::new();
    if let Some((case, _)) = cases
        .iter()
        .zip(&bodies)
        .find(|(c, _)| c.composition() == "VirtualMachine")
    {
        let tls = Tls::generate()?;
        let (secure, _) = Server::start(&options.binary, Some(&tls)).await?;
        let body = prepare(&secure, case).await?;
        for &concurrency in &options.concurrency {
            let warm = Duration::from_millis(300);
            load(
                &secure,
                std::slice::from_ref(&body),
                concurrency,
                warm,
                2_000,
                Duration::from_millis(100),
            )
            .await?;
            let run = load(
                &secure,
                std::slice::from_ref(&body),
                concurrency,
                options.duration,
                options.max_requests,
                Duration::from_millis(50),
            )
            .await?;
            let summary = run.summary(json!({"generator": "Rust client, mTLS", "composition": case.composition(), "case": case.name, "concurrency": concurrency, "request_bytes": body.0.len(), "response_bytes": body.1.len()}));
            println!("{summary}");
            failed
                .extend(run.failure(&format!("mTLS: {} at concurrency {concurrency}", case.name)));
            mtls_runs.push(summary);
        }
        drop(secure);
        let _ = std::fs::remove_dir_all(&tls.dir);
    }

    let mut soak = Value::Null;
    if !options.soak.is_zero() {
        let concurrency = options.concurrency.iter().copied().max().unwrap_or(64);
        let run = load(
            &server,
            &bodies,
            concurrency,
            options.soak,
            u64::MAX,
            Duration::from_secs(1),
        )
        .await?;
        let mut summary =
            run.summary(json!({"case": "all cases mixed", "concurrency": concurrency}));
        response::merge(&mut summary, &flatness(&run));
        println!(
            "soak: {}",
            json!({"requests_per_second": summary["requests_per_second"], "p99_us": summary["p99_us"], "rss_kib_first": summary["rss_kib_first"], "rss_kib_after_10s_min": summary["rss_kib_after_10s_min"], "rss_kib_after_10s_max": summary["rss_kib_after_10s_max"], "rss_kib_last": summary["rss_kib_last"], "errors": summary["errors"]})
        );
        if run.errors > 0 {
            failed.push(format!(
                "soak: {} errors ({})",
                run.errors,
                run.first_error.unwrap_or_default()
            ));
        }
        soak = summary;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let report = json!({
        "binary": options.binary.display().to_string(),
        "binary_bytes": binary_bytes,
        "startup": startup,
        "idle_rss_kib_before_load": idle_rss,
        "idle_rss_kib_after_load": status_kib(server.pid(), "VmRSS"),
        "peak_rss_kib": status_kib(server.pid(), "VmHWM"),
        "client_threads": options.client_threads,
        "runs": runs,
        "h2load_runs": h2load_runs,
        "mtls_runs": mtls_runs,
        "soak": soak,
    });
    if options.full {
        let path = common::out_dir().join("load.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report).expect("JSON"))
            .map_err(|e| e.to_string())?;
        println!(
            "peak RSS (VmHWM) {} KiB; written to {}",
            report["peak_rss_kib"],
            path.display()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = if args.iter().any(|a| a == "--bench") {
        match Options::parse(&args) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("load: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        Options::smoke()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .enable_all()
        .build();
    let outcome = runtime
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(run(options)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}
