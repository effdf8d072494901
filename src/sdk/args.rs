//! Server flags, named as function-template-go names them, with function-sdk-go's environment
//! variables (`ADDRESS`, `NETWORK`, `INSECURE`, `MAX_RECV_MESSAGE_SIZE`, `TLS_SERVER_CERTS_DIR`,
//! `DEBUG`), so a DeploymentRuntimeConfig written for a Go function works here too.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::FalseyValueParser;

/// Flags of `function-sco serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to serve gRPC on (host:port, or :port for all interfaces).
    #[arg(long, env = "ADDRESS", default_value = "0.0.0.0:9443", value_parser = parse_address)]
    pub address: SocketAddr,

    /// Network to listen on, as Go's `net.Listen` names it: tcp, tcp4 or tcp6 (the address
    /// says which family).
    #[arg(long, env = "NETWORK", default_value = "tcp", value_parser = parse_network)]
    pub network: String,

    /// Serve plaintext HTTP/2 without TLS (for `crossplane render` and local development).
    /// Wins over --tls-certs-dir.
    #[arg(long, env = "INSECURE", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub insecure: bool,

    /// Directory holding tls.crt, tls.key and ca.crt: serve mTLS and require client
    /// certificates signed by ca.crt. Crossplane mounts its Secret at /tls/server.
    #[arg(long, env = "TLS_SERVER_CERTS_DIR")]
    pub tls_certs_dir: Option<PathBuf>,

    /// Human-readable debug logs instead of JSON lines.
    #[arg(long, short, env = "DEBUG", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub debug: bool,

    /// Largest request accepted, in MiB (as the Go SDK's flag) or with a unit (16MiB, 512KiB).
    #[arg(long, env = "MAX_RECV_MESSAGE_SIZE", default_value = "8", value_parser = parse_size)]
    pub max_recv_message_size: usize,

    /// Default response TTL: how long Crossplane may reuse a response before calling again
    /// (with realtime compositions, the resync period). 500ms, 30s, 5m, 1h.
    #[arg(long, default_value = "60s", value_parser = parse_ttl)]
    pub ttl: Duration,

    /// RunFunction calls in flight at once, over all connections; a call beyond it is
    /// answered at once with RESOURCE_EXHAUSTED instead of waiting.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_calls: u32,

    /// Longest a RunFunction call may take (shortened by the caller's grpc-timeout); past it
    /// the call is answered with DEADLINE_EXCEEDED.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub call_timeout: Duration,

    /// HTTP/2 streams a client may have open on one connection.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_streams: u32,

    /// Interval of HTTP/2 keepalive pings (and TCP keepalive) on idle connections.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub http2_keepalive_interval: Duration,

    /// How long a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub http2_keepalive_timeout: Duration,

    /// Address to serve Prometheus metrics on at /metrics (host:port or :port); empty disables.
    #[arg(long, default_value = ":8080", value_parser = parse_metrics_address)]
    pub metrics_address: MetricsAddress,
}

/// Where to serve metrics, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsAddress(pub Option<SocketAddr>);

impl ServerArgs {
    /// Defaults, as if no flag was given, but insecure: for tests and tools.
    pub fn insecure_defaults() -> Self {
        use clap::{Args, FromArgMatches};
        let matches = Self::augment_args(clap::Command::new("function-sco"))
            .no_binary_name(true)
            .get_matches_from(["--insecure"]);
        Self::from_arg_matches(&matches).expect("defaults parse")
    }
}

/// Parses `ip:port`, `[v6]:port`, Go's `:port`, or `host:port` (resolved once, first address).
pub fn parse_address(s: &str) -> Result<SocketAddr, String> {
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| format!("invalid port in {s:?}"))?;
        return Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    if let Ok(address) = s.parse() {
        return Ok(address);
    }
    let invalid = || format!("invalid address {s:?}: expected host:port, [ipv6]:port or :port");
    let (host, port) = s.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    std::net::ToSocketAddrs::to_socket_addrs(s)
        .ok()
        .and_then(|mut found| found.next())
        .ok_or_else(|| format!("cannot resolve address {s:?}"))
}

/// Accepts the TCP networks of Go's `net.Listen` (function-sdk-go's `--network`).
fn parse_network(s: &str) -> Result<String, String> {
    match s {
        "tcp" | "tcp4" | "tcp6" => Ok(s.to_owned()),
        _ => Err(format!(
            "unsupported network {s:?}: function-sco serves gRPC over tcp, tcp4 or tcp6"
        )),
    }
}

fn parse_metrics_address(s: &str) -> Result<MetricsAddress, String> {
    if s.trim().is_empty() {
        return Ok(MetricsAddress(None));
    }
    parse_address(s).map(|a| MetricsAddress(Some(a)))
}

/// Parses a size: a plain number is MiB; `B`, `KiB`, `MiB`, `GiB` (and `K`, `M`, `G`) are accepted.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: usize = number
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected a number of MiB or e.g. 16MiB"))?;
    let factor = match unit.trim() {
        "" | "Mi" | "MiB" | "M" | "MB" => 1 << 20,
        "B" => 1,
        "Ki" | "KiB" | "K" | "KB" => 1 << 10,
        "Gi" | "GiB" | "G" | "GB" => 1 << 30,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {s:?}: use B, KiB, MiB or GiB"
            ));
        }
    };
    n.checked_mul(factor)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("invalid size {s:?}: must be above zero"))
}

/// Parses a duration: a number followed by `ms`, `s`, `m` or `h` (`90s`, `1m`, `0s`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected e.g. 60s, 5m, 500ms"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => {
            return Err(format!(
                "invalid duration {s:?}: the unit must be ms, s, m or h"
            ));
        }
    })
}

/// Parses a response TTL: a [`parse_duration`] above zero. Crossplane calls again after a
/// TTL only when it is above zero (the composite reconciler's `RequeueAfter`), so a zero TTL
/// would leave an XR that waits for something never rendered again.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let ttl = parse_duration(s)?;
    if ttl.is_zero() {
        return Err(format!(
            "invalid TTL {s:?}: must be above zero, or Crossplane never calls again"
        ));
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ttl_is_above_zero() {
        assert_eq!(parse_ttl("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_ttl("0s").unwrap_err().contains("above zero"));
        assert!(parse_ttl("0ms").is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address(":9443").unwrap(),
            "0.0.0.0:9443".parse().unwrap()
        );
        assert_eq!(parse_address("127.0.0.1:0").unwrap().port(), 0);
        assert!(parse_address("[::1]:9443").is_ok());
        assert!(parse_address("localhost").is_err());
        assert!(parse_address("localhost:9443").unwrap().ip().is_loopback());
        assert!(parse_address("localhost:http").is_err());
        assert_eq!(parse_network("tcp6"), Ok("tcp6".to_owned()));
        assert!(parse_network("unix").unwrap_err().contains("tcp"));
        assert_eq!(parse_metrics_address("").unwrap(), MetricsAddress(None));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8").unwrap(), 8 << 20);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert!(parse_size("0").is_err());
        assert!(parse_size("8 parsecs").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("60").is_err());
    }

    #[test]
    fn defaults_follow_the_function_conventions() {
        let args = ServerArgs::insecure_defaults();
        assert_eq!(args.address, "0.0.0.0:9443".parse().unwrap());
        assert_eq!(args.max_recv_message_size, 8 << 20);
        assert_eq!(args.ttl, Duration::from_secs(60));
        assert_eq!(
            args.metrics_address,
            MetricsAddress(Some("0.0.0.0:8080".parse().unwrap()))
        );
        assert!(args.insecure);
        assert_eq!(args.max_concurrent_calls, 256);
        assert_eq!(args.call_timeout, Duration::from_secs(30));
        assert_eq!(args.max_concurrent_streams, 1024);
    }
}
