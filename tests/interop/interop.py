"""Interop: the official Crossplane Python SDK calls a running function-sco.

Usage: python tests/interop/interop.py HOST:PORT [TTL_SECONDS]

The server must run with --insecure (and --ttl TTL_SECONDS if given; 60 is the default). Only
crossplane-function-sdk-python is used (its generated v1 and v1beta1 stubs and
resource.dict_to_struct) with grpcio: nothing of function-sco. The first requests name an XR
kind function-sco does not serve or carry a bad input, so each answer is a Fatal result; that
is a successful call, which must still echo the tag, set the TTL and keep the context and the
desired state earlier pipeline steps composed. A VirtualMachine XR is then rendered for
real: its resources join the earlier step's, with readiness and conditions set. Exits 1 on
the first failed check.
"""

import sys
from importlib.metadata import version

import grpc
from crossplane.function import resource
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1

XR = {
    "apiVersion": "example.org/v1",
    "kind": "XBucket",
    "metadata": {"name": "bucket", "namespace": "team-a"},
    "spec": {"size": 3},
}
VM = {
    "apiVersion": "compute.cloud.stakater.com/v1",
    "kind": "VirtualMachine",
    "metadata": {"name": "db", "namespace": "ws-shop-vms"},
    "spec": {"parameters": {"flavour": "rhel9", "instanceType": "u1.small"}},
}
EARLIER = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings"},
    "data": {"replicas": "2"},
}
CONTEXT = {"example.org/step": {"seen": ["a", "b"]}}
BAD_INPUT = {
    "apiVersion": "sco.fn.stakater.com/v1alpha1",
    "kind": "Input",
    "spec": {"compositon": "VirtualMachine"},
}
VERSIONS = {
    "v1": (fnv1, grpcv1.FunctionRunnerServiceStub),
    "v1beta1": (fnv1beta1, grpcv1beta1.FunctionRunnerServiceStub),
}


class CheckFailed(Exception):
    """A check on a response failed."""


def expect(condition, what):
    if not condition:
        raise CheckFailed(what)


def request(pb, tag, step_input=None, xr=XR):
    """A request as Crossplane sends it, with what an earlier step composed."""
    req = pb.RunFunctionRequest(meta=pb.RequestMeta(tag=tag))
    req.observed.composite.resource.CopyFrom(resource.dict_to_struct(xr))
    earlier = req.desired.resources["from-earlier-step"]
    earlier.resource.CopyFrom(resource.dict_to_struct(EARLIER))
    earlier.ready = pb.READY_TRUE
    earlier.connection_details["password"] = b"hunter2"
    req.context.CopyFrom(resource.dict_to_struct(CONTEXT))
    if step_input is not None:
        req.input.CopyFrom(resource.dict_to_struct(step_input))
    return req


def check_fatal(pb, req, rsp, ttl, reason, mentions):
    """The answer keeps what it must and is a Fatal result plus a Valid=False condition."""
    expect(rsp.meta.tag == req.meta.tag, f"tag {rsp.meta.tag!r} echoes {req.meta.tag!r}")
    expect(rsp.meta.HasField("ttl"), "the response sets a TTL")
    expect(rsp.meta.ttl.seconds == ttl, f"TTL {rsp.meta.ttl.seconds}s is the server's {ttl}s")
    expect(rsp.desired == req.desired, "desired state from earlier steps comes back unchanged")
    earlier = rsp.desired.resources["from-earlier-step"]
    expect(resource.struct_to_dict(earlier.resource) == EARLIER, "the earlier resource is intact")
    expect(earlier.ready == pb.READY_TRUE, "its readiness is kept")
    expect(rsp.context == req.context, "the context is passed on")
    fatal = [r for r in rsp.results if r.severity == pb.SEVERITY_FATAL]
    expect(len(fatal) == 1, f"one Fatal result, got {list(rsp.results)}")
    expect(fatal[0].reason == reason, f"reason {fatal[0].reason!r} is {reason!r}")
    expect(mentions in fatal[0].message, f"{fatal[0].message!r} names {mentions!r}")
    valid = [c for c in rsp.conditions if c.type == "Valid"]
    expect(len(valid) == 1, f"one Valid condition, got {list(rsp.conditions)}")
    expect(valid[0].status == pb.STATUS_CONDITION_FALSE, "Valid is False")
    expect(valid[0].reason == reason, f"Valid reason {valid[0].reason!r} is {reason!r}")


def check_virtual_machine(pb, req, rsp):
    """A first render of a VM: composed beside the earlier step's resource, nothing ready yet."""
    expect(rsp.meta.tag == req.meta.tag, "tag echoed")
    expect(not [r for r in rsp.results if r.severity == pb.SEVERITY_FATAL], f"no Fatal result: {list(rsp.results)}")
    resources = rsp.desired.resources
    expect(resources["from-earlier-step"] == req.desired.resources["from-earlier-step"], "the earlier resource is kept")
    for name in ("virtual-machine", "cloud-init", "service"):
        expect(name in resources, f"{name} is composed, got {sorted(resources)}")
        expect(resources[name].ready == pb.READY_FALSE, f"{name} is not ready before it is observed")
    vm = resource.struct_to_dict(resources["virtual-machine"].resource)
    expect(vm["apiVersion"] == "kubevirt.io/v1" and vm["kind"] == "VirtualMachine", f"a KubeVirt VM, got {vm['kind']}")
    expect(vm["spec"]["instancetype"]["name"] == "u1.small", "the instance type is used")
    expect(rsp.desired.composite.ready == pb.READY_FALSE, "the XR is not ready yet")
    conditions = {c.type: c for c in rsp.conditions}
    expect(conditions["Valid"].status == pb.STATUS_CONDITION_TRUE, "Valid is True")
    expect(conditions["ResourcesReady"].status == pb.STATUS_CONDITION_FALSE, "ResourcesReady is False")
    expect(rsp.meta.ttl.seconds == 10, f"waiting shortens the TTL to 10s, got {rsp.meta.ttl.seconds}s")


def main(address, ttl):
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        for name, (pb, stub) in VERSIONS.items():
            run = stub(channel).RunFunction
            req = request(pb, f"interop-{name}")
            rsp = run(req, timeout=60)
            check_fatal(pb, req, rsp, ttl, "UnsupportedComposite", "XBucket")

            req = request(pb, f"interop-{name}-bad-input", BAD_INPUT)
            rsp = run(req, timeout=60)
            check_fatal(pb, req, rsp, ttl, "InvalidInput", "compositon")
            req = request(pb, f"interop-{name}-vm", xr=VM)
            check_virtual_machine(pb, req, run(req, timeout=60))
            print(f"{name}: tag, TTL, context and earlier desired state kept; Fatal for unknown kind and bad input; a VM rendered")

        # Same tag, same request: the v1beta1 answer must be the v1 answer, byte for byte.
        same = {name: request(pb, "same") for name, (pb, _) in VERSIONS.items()}
        got = {name: stub(channel).RunFunction(same[name], timeout=60) for name, (_, stub) in VERSIONS.items()}
        expect(
            got["v1"].SerializeToString(deterministic=True) == got["v1beta1"].SerializeToString(deterministic=True),
            "v1 and v1beta1 give the same answer",
        )
    print(f"interop ok against {address} with crossplane-function-sdk-python {version('crossplane-function-sdk-python')}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 60)
    except CheckFailed as failed:
        sys.exit(f"interop check failed: {failed}")
