#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md and prints them as its tables
# (benches/out/report.md). Run from anywhere; takes about 15 minutes on 2 cores.
#
#   benches/run.sh            # everything
#   QUICK=1 benches/run.sh    # shorter runs (3 s per load run, 10 s soak), for a look
#
# Steps: install kcl-lib into benches/.venv (gitignored), build the release binary and the
# benchmarks first, wait for a quiet machine, then run criterion (render, handler, growth),
# the KCL anchor (equality check, then timing side by side), and the loopback load benchmark
# against target/release/function-sco.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benches/out
mkdir -p "$out"

KCL_LIB_VERSION=0.13.2
if ! benches/.venv/bin/python -c 'import kcl_lib' 2>/dev/null; then
    python3 -m venv benches/.venv
    benches/.venv/bin/pip install --quiet "kcl-lib==$KCL_LIB_VERSION"
fi

# h2load (nghttp2's HTTP/2 load generator) drives the load runs a second time; install it
# from Debian's packages when missing and possible.
if ! command -v h2load >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q nghttp2-client >/dev/null || echo "h2load not installed: its load runs are skipped"
    else
        echo "h2load (Debian package nghttp2-client) is missing: its load runs are skipped"
    fi
fi

# Build everything before measuring anything.
cargo build --release
cargo bench --no-run

# Measure on a quiet machine: wait (up to 10 minutes) for the 1-minute load average to drop
# below 0.7 and for no compiler to run.
for _ in $(seq 120); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" 'BEGIN { exit !(l < 0.7) }' && ! pgrep -x rustc >/dev/null && ! pgrep -x cargo-clippy >/dev/null; then
        break
    fi
    sleep 5
done

{
    echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src benches Cargo.toml || echo ' (modified)')"
    echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)"
    echo "memory:  $(free -h | awk '/^Mem:/ { print $2 }')"
    echo "kernel:  $(uname -r)"
    echo "rustc:   $(rustc --version)"
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
    echo "binary:  $(stat -c %s target/release/function-sco) bytes; $(file -b target/release/function-sco | grep -o 'stripped\|not stripped')"
} | tee "$out/machine.txt"

if [ -n "${QUICK:-}" ]; then
    criterion_args=(--warm-up-time 1 --measurement-time 1)
    load_args=(--duration 3 --soak 10 --startups 5)
else
    criterion_args=()
    load_args=(--duration 10 --soak 60 --startups 20)
fi

cargo bench --bench instructions
cargo bench --bench render -- "${criterion_args[@]}"
cargo bench --bench kcl
cargo bench --bench load -- "${load_args[@]}"

python3 benches/report.py | tee "$out/report.md"
