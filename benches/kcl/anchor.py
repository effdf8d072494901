"""Runs a KCL program the way function-kcl runs it on every RunFunction call, checks its
output against function-sco's, and times it.

function-kcl (crossplane-contrib/function-kcl, render.go `renderInline`, its fast path for an
inline source) writes the program to a fresh temporary directory, builds the top-level
arguments `resource_list` (a ResourceList whose functionConfig is the KCLInput, program and
params included), `items`, `params` (`oxr`, `dxr`, `ocds`, `dcds`, `ctx`, `extraResources`,
`requiredResources`), `PATH` and `env`, and has the KCL engine compile and evaluate the
program. This script does the same through kcl-lib, the engine's Python binding (the same
native library function-kcl reaches through kcl-go).

Input on stdin (JSON): {"program": path, "iterations": n, "cases": [{"name", "params",
"composite": {"apiVersion", "kind"}, "expected"}]}, where `params` is the params JSON text
and `expected` is function-sco's desired state in the shape `canonical` gives.
Output on stdout (JSON): per case, whether the outputs are equal (and a diff if not), and the
median and 90th percentile of the engine time (`exec_program`) and of the whole call.
"""

import difflib
import json
import os
import statistics
import sys
import tempfile
import time

from kcl_lib import api

NAME = "krm.kcl.dev/composition-resource-name"
READY = "krm.kcl.dev/ready"
META = "meta.krm.kcl.dev/v1alpha1"


def arguments(source, params):
    """function-kcl's kclArguments: the ResourceList, items, params, PATH and env."""
    function_config = {
        "apiVersion": "krm.kcl.dev/v1alpha1",
        "kind": "KCLRun",
        "metadata": {"name": "virtual-machine"},
        "spec": {"source": source, "params": json.loads(params)},
    }
    resource_list = json.dumps(
        {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [], "functionConfig": function_config}
    )
    return [
        api.Argument(name="resource_list", value=resource_list),
        api.Argument(name="items", value="[]"),
        api.Argument(name="params", value=params),
        api.Argument(name="PATH", value=os.environ.get("PATH", "")),
        api.Argument(name="env", value=json.dumps(dict(os.environ))),
    ]


def run(engine, source, params):
    """One call: returns the program's output and the engine's share of the time."""
    with tempfile.TemporaryDirectory(prefix="kcl-sandbox") as sandbox:
        program = os.path.join(sandbox, "prog.k")
        with open(program, "w") as f:
            f.write(source)
        args = api.ExecProgramArgs(k_filename_list=[program], args=arguments(source, params))
        started = time.perf_counter()
        result = engine.exec_program(args)
        took = time.perf_counter() - started
    if result.err_message:
        raise RuntimeError(result.err_message)
    return json.loads(result.json_result), took


def canonical(output, composite):
    """What function-kcl makes of the output (target Default): composed resources by their
    composition-resource-name annotation with readiness from krm.kcl.dev/ready (both
    annotations stripped), the status of the item that is the XR, and the Conditions item."""
    resources, status, conditions = {}, {}, []
    for item in output.get("items") or []:
        if item.get("apiVersion") == META and item.get("kind") == "Conditions":
            conditions = [c["condition"] for c in item["conditions"]]
        elif item.get("apiVersion") == composite["apiVersion"] and item.get("kind") == composite["kind"]:
            status.update(item.get("status") or {})
        else:
            metadata = item.setdefault("metadata", {})
            annotations = metadata.get("annotations") or {}
            name = annotations.pop(NAME, None) or metadata.get("name")
            ready = annotations.pop(READY, "Unspecified")
            if not annotations:
                metadata.pop("annotations", None)
            resources[name] = {"manifest": item, "ready": ready}
    return {"resources": resources, "status": status, "conditions": conditions}


def diff(expected, got):
    dump = lambda v: json.dumps(v, indent=1, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(dump(expected), dump(got), "function-sco", "kcl", lineterm="", n=2))


def main():
    spec = json.load(sys.stdin)
    with open(spec["program"]) as f:
        source = f.read()
    engine = api.API()
    report = {"kcl_version": engine.get_version().version, "cases": []}
    for case in spec["cases"]:
        output, _ = run(engine, source, case["params"])
        got = canonical(output, case["composite"])
        equal = got == case["expected"]
        engine_times, call_times = [], []
        for _ in range(spec["iterations"]):
            started = time.perf_counter()
            output, took = run(engine, source, case["params"])
            canonical(output, case["composite"])
            call_times.append(time.perf_counter() - started)
            engine_times.append(took)
        ms = lambda xs, q: round(statistics.quantiles(xs, n=10)[q] * 1000, 3) if len(xs) > 1 else None
        report["cases"].append(
            {
                "name": case["name"],
                "equal": equal,
                "diff": "" if equal else diff(case["expected"], got),
                "iterations": spec["iterations"],
                "engine_ms_median": round(statistics.median(engine_times) * 1000, 3) if engine_times else None,
                "engine_ms_p90": ms(engine_times, 8),
                "call_ms_median": round(statistics.median(call_times) * 1000, 3) if call_times else None,
            }
        )
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
