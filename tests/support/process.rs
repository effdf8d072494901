//! The built `function-sco` binary as a child process, serving on `127.0.0.1:0`. Its address
//! comes from its own "serving" log line (no port is guessed, so there is no race), and its
//! stderr is drained by a thread so that logging can never block it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Upper bound for waiting on the child; it guards against a hang and is not an assertion.
const PATIENCE: Duration = Duration::from_secs(120);

/// A running `function-sco serve`.
pub struct Served {
    child: Child,
    /// Where it serves gRPC.
    pub address: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    /// The thread draining stderr; it ends when the process has exited and its log is complete.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Starts the binary with `--address 127.0.0.1:0 --metrics-address ""` and `args`, and
    /// waits until it logs the address it serves on.
    pub fn start(args: &[&str]) -> Self {
        Self::start_binary(env!("CARGO_BIN_EXE_function-sco").as_ref(), args)
    }

    /// [`Served::start`] with another build of the binary (e.g. `target/release/function-sco`).
    pub fn start_binary(binary: &std::path::Path, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(["--address", "127.0.0.1:0", "--metrics-address", ""])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("DEBUG")
            .env_remove("TLS_SERVER_CERTS_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the function-sco binary");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = serving_address(&line) {
                    let _ = address_tx.send(address);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = match address_rx.recv_timeout(PATIENCE) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "function-sco did not report a serving address; its log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Self {
            child,
            address,
            log,
            reader: Some(reader),
        }
    }

    /// `http://ADDRESS`, for gRPC clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The JSON log lines so far, parsed (lines that are not JSON are left out).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Sends SIGTERM, as Kubernetes does to stop a pod.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.child.id());
    }

    /// Waits for the process to exit (polling, within a generous bound) and for the rest of its
    /// log.
    pub fn wait(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for function-sco") {
                if let Some(reader) = self.reader.take() {
                    reader.join().expect("the log reader");
                }
                return status;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "function-sco did not exit; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in the JSON log line `{"message":"serving RunFunction v1 and v1beta1","address":...}`.
fn serving_address(line: &str) -> Option<SocketAddr> {
    if let Ok(event) = serde_json::from_str::<serde_json::Value>(line) {
        let message = event.get("message")?.as_str()?;
        if !message.starts_with("serving RunFunction") {
            return None;
        }
        return event.get("address")?.as_str()?.parse().ok();
    }
    // The human-readable format of --debug: `... serving RunFunction ... address=127.0.0.1:1 ...`
    // with ANSI colours around the field names.
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            plain.push(c);
        }
    }
    if !plain.contains("serving RunFunction") {
        return None;
    }
    plain
        .split_whitespace()
        .find_map(|word| word.strip_prefix("address="))?
        .parse()
        .ok()
}
