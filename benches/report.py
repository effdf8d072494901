"""Prints the figures of a benches/run.sh run as the Markdown tables of BENCHMARKS.md.

Reads criterion's estimates (target/criterion/**/new/{benchmark,estimates}.json) and
benches/out/{machine.txt,sizes.json,instructions.json,kcl.json,load.json}. Standard library only.
"""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "benches", "out")


def load(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def criterion():
    """{full_id: (median ns, lower, upper)} of every criterion benchmark."""
    results = {}
    for path in glob.glob(os.path.join(ROOT, "target", "criterion", "**", "new", "benchmark.json"), recursive=True):
        with open(path) as f:
            bench = json.load(f)
        with open(os.path.join(os.path.dirname(path), "estimates.json")) as f:
            median = json.load(f)["median"]
        ci = median["confidence_interval"]
        results[bench["full_id"]] = (median["point_estimate"], ci["lower_bound"], ci["upper_bound"])
    return results


def us(ns):
    return f"{ns / 1000:.1f}" if ns < 10_000_000 else f"{ns / 1000:,.0f}"


def kib(n):
    return f"{n / 1024:,.1f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    out = []
    machine = os.path.join(OUT, "machine.txt")
    if os.path.exists(machine):
        with open(machine) as f:
            out += ["## Machine", "", "```", f.read().rstrip(), "```", ""]

    results = criterion()
    sizes = {s["case"]: s for s in load("sizes.json") or []}
    cases = sorted({k.split("/", 1)[1] for k in results if k.startswith(("render/", "handler/"))})
    rows = []
    for case in cases:
        render = results.get(f"render/{case}")
        handler = results.get(f"handler/{case}")
        size = sizes.get(case, {})
        rows.append(
            [
                f"`{case}`",
                us(render[0]) if render else "",
                us(handler[0]) if handler else "",
                f"{us(handler[1])}–{us(handler[2])}" if handler else "",
                kib(size["request_bytes"]) if size else "",
                kib(size["response_bytes"]) if size else "",
            ]
        )
    instructions = {i["case"]: i["instructions"] for i in load("instructions.json") or []}
    for row, case in zip(rows, cases):
        row.insert(4, f"{instructions[case]:,}" if case in instructions else "")
    out += [
        "## One call (criterion medians, µs; instructions per handler call counted by callgrind)",
        "",
        table(["case", "render", "handler", "handler 95% CI", "handler instructions", "request KiB", "response KiB"], rows),
        "",
    ]

    for dimension, unit in [("passthrough-resources", "resources"), ("observed-KiB", "KiB"), ("cloud-init-KiB", "KiB")]:
        points = sorted(
            (int(k.rsplit("/", 1)[1]), v[0]) for k, v in results.items() if k.startswith(f"growth/{dimension}/")
        )
        if not points:
            continue
        rows = []
        base = points[0][1]
        for size, ns in points:
            s = sizes.get(f"growth/{dimension}/{size}", {})
            extra = (ns - base) / size if size else None
            rows.append(
                [
                    size,
                    us(ns),
                    f"{extra:.0f}" if extra is not None else "",
                    kib(s["request_bytes"]) if s else "",
                    kib(s["response_bytes"]) if s else "",
                    f"{ns / s['request_bytes']:.1f}" if s else "",
                ]
            )
        out += [
            f"## Growth: {dimension}",
            "",
            table([unit, "handler µs", f"ns per added {unit[:-1] if unit.endswith('s') else unit}", "request KiB", "response KiB", "ns per request byte"], rows),
            "",
        ]

    kcl = load("kcl.json")
    if kcl:
        rows = [
            [
                f"`{c['case']}`",
                c["kcl_engine_ms_median"],
                c["kcl_engine_ms_p90"],
                c["kcl_call_ms_median"],
                c["function_sco_handler_us_median"],
                c["function_sco_render_us_median"],
                f"{c['ratio_kcl_engine_to_handler']:,.0f}×",
                f"{c['ratio_kcl_engine_to_render']:,.0f}×",
            ]
            for c in kcl["cases"]
        ]
        out += [
            f"## KCL anchor (kcl-lib {kcl['kcl_version']}, same run)",
            "",
            table(
                ["case", "KCL engine ms (median)", "p90", "KCL whole call ms", "function-sco handler µs", "render µs", "engine / handler", "engine / render"],
                rows,
            ),
            "",
        ]

    report = load("load.json")
    if report:
        startup = report["startup"]
        out += [
            "## Server",
            "",
            table(
                ["binary (stripped)", "startup to SERVING (median / max of %d)" % startup["starts"], "idle RSS", "idle RSS after load", "peak RSS (VmHWM)"],
                [
                    [
                        f"{report['binary_bytes'] / 2**20:.1f} MiB",
                        f"{startup['startup_ms_median']} / {startup['startup_ms_max']} ms",
                        f"{report['idle_rss_kib_before_load']:,} KiB",
                        f"{report['idle_rss_kib_after_load']:,} KiB",
                        f"{report['peak_rss_kib']:,} KiB",
                    ]
                ],
            ),
            "",
        ]
        rows = [
            [
                r.get("generator", "Rust client"),
                r["composition"],
                f"`{r['case']}`",
                r["concurrency"],
                f"{r['requests']:,}",
                r["errors"],
                f"{r['requests_per_second']:,.0f}",
                r["p50_us"],
                r["p99_us"],
                r["p999_us"],
                r["cpu_seconds_per_1000"],
                f"{r['peak_rss_kib']:,}",
            ]
            for r in report["runs"] + report.get("h2load_runs", []) + report.get("mtls_runs", [])
        ]
        out += [
            f"## Loopback load (Rust client threads: {report['client_threads']}; h2load: one thread)",
            "",
            table(["generator", "composition", "case", "concurrency", "requests", "errors", "req/s", "p50 µs", "p99 µs", "p999 µs", "CPU s / 1,000 req", "peak RSS KiB"], rows),
            "",
        ]
        soak = report.get("soak")
        if soak:
            samples = soak["rss_kib_samples"]
            marks = [s for s in samples if int(s[0]) in (1, 10, 20, 30, 40, 50, 59) or s is samples[-1]]
            out += [
                f"## Soak: {soak['seconds']} s at concurrency {soak['concurrency']}, all cases mixed",
                "",
                f"{soak['requests']:,} requests, {soak['errors']} errors, {soak['requests_per_second']:,.0f} req/s, "
                f"p50 {soak['p50_us']} µs, p99 {soak['p99_us']} µs; RSS after the first 10 s between "
                f"{soak['rss_kib_after_10s_min']:,} and {soak['rss_kib_after_10s_max']:,} KiB.",
                "",
                table(["second", "RSS KiB"], [[f"{t:.0f}", f"{k:,}"] for t, k in marks]),
                "",
            ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
