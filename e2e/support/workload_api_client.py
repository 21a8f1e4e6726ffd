"""A SPIFFE Workload API client written with Python's grpcio, from siad's
workload.proto: stubs are generated into a temporary directory at start.

  workload_api_client.py SOCKET PROTO_DIR svids N    print N X509SVIDResponse messages, then hang up
  workload_api_client.py SOCKET PROTO_DIR bundles    print the first X509BundlesResponse
  workload_api_client.py SOCKET PROTO_DIR no-header  call FetchX509SVID without the security header

Each message is one JSON line on stdout, so the test can read them as they come.
"""
import base64
import json
import os
import sys
import tempfile

import grpc
import grpc_tools
from grpc_tools import protoc


def stubs(proto_dir):
    out = tempfile.mkdtemp(prefix="workload-stubs-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    code = protoc.main(["protoc", "-I", proto_dir, "-I", well_known, "--python_out", out, "--grpc_python_out", out, "workload.proto"])
    if code != 0:
        sys.exit("protoc failed on workload.proto")
    sys.path.insert(0, out)
    import workload_pb2
    import workload_pb2_grpc
    return workload_pb2, workload_pb2_grpc


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    socket, proto_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    pb, pb_grpc = stubs(proto_dir)
    channel = grpc.insecure_channel("unix://" + socket)
    api = pb_grpc.SpiffeWorkloadAPIStub(channel)
    header = [("workload.spiffe.io", "true")]
    if mode == "svids":
        want = int(sys.argv[4])
        stream = api.FetchX509SVID(pb.X509SVIDRequest(), metadata=header)
        for n, res in enumerate(stream, start=1):
            emit({"svids": [{
                "spiffe_id": s.spiffe_id,
                "x509_svid": base64.b64encode(s.x509_svid).decode(),
                "x509_svid_key": base64.b64encode(s.x509_svid_key).decode(),
                "bundle": base64.b64encode(s.bundle).decode(),
            } for s in res.svids]})
            if n == want:
                stream.cancel()
                break
    elif mode == "bundles":
        stream = api.FetchX509Bundles(pb.X509BundlesRequest(), metadata=header)
        res = next(stream)
        emit({"bundles": {k: base64.b64encode(v).decode() for k, v in res.bundles.items()}})
        stream.cancel()
    elif mode == "no-header":
        try:
            next(api.FetchX509SVID(pb.X509SVIDRequest()))
            emit({"code": "OK"})
        except grpc.RpcError as e:
            emit({"code": e.code().name, "details": e.details()})
    channel.close()


if __name__ == "__main__":
    main()
