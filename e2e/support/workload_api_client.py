"""A SPIFFE Workload API client written with Python's grpcio, from siad's
workload.proto: stubs are generated into a temporary directory at start.

  workload_api_client.py SOCKET PROTO_DIR svids N    print N X509SVIDResponse messages, then hang up
  workload_api_client.py SOCKET PROTO_DIR bundles    print the first X509BundlesResponse
  workload_api_client.py SOCKET PROTO_DIR no-header  call FetchX509SVID without the security header
  workload_api_client.py SOCKET PROTO_DIR jwt AUDIENCE  FetchJWTSVID, then ValidateJWTSVID of it
  workload_api_client.py SOCKET PROTO_DIR sds NAME...  Envoy SDS FetchSecrets for the names (envoy/sds.proto)

Each message is one JSON line on stdout, so the test can read them as they come.
"""
import base64
import json
import os
import sys
import tempfile

import grpc
import grpc_tools
from google.protobuf import json_format
from grpc_tools import protoc


def generate(proto_dir, files):
    out = tempfile.mkdtemp(prefix="workload-stubs-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    code = protoc.main(["protoc", "-I", proto_dir, "-I", well_known, "--python_out", out, "--grpc_python_out", out] + files)
    if code != 0:
        sys.exit("protoc failed on " + " ".join(files))
    sys.path.insert(0, out)


def stubs(proto_dir):
    generate(proto_dir, ["workload.proto"])
    import workload_pb2
    import workload_pb2_grpc
    return workload_pb2, workload_pb2_grpc


def sds(socket, proto_dir, names):
    generate(proto_dir, ["envoy/sds.proto", "envoy/discovery.proto", "envoy/base.proto", "envoy/rpc_status.proto", "envoy/secret.proto"])
    from envoy import discovery_pb2, sds_pb2_grpc, secret_pb2
    channel = grpc.insecure_channel("unix://" + socket)
    res = sds_pb2_grpc.SecretDiscoveryServiceStub(channel).FetchSecrets(discovery_pb2.DiscoveryRequest(
        node={"id": "python-envoy", "cluster": "test"}, resource_names=names,
        type_url="type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"))
    secrets = []
    for any_ in res.resources:
        s = secret_pb2.Secret()
        s.ParseFromString(any_.value)
        if s.HasField("tls_certificate"):
            secrets.append({"type_url": any_.type_url, "name": s.name, "cert": s.tls_certificate.certificate_chain.inline_bytes.decode(),
                            "key_is_pem": b"PRIVATE KEY" in s.tls_certificate.private_key.inline_bytes})
        else:
            secrets.append({"type_url": any_.type_url, "name": s.name, "trusted_ca": s.validation_context.trusted_ca.inline_bytes.decode()})
    emit({"version_info": res.version_info, "secrets": secrets})
    channel.close()


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    socket, proto_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "sds":
        return sds(socket, proto_dir, sys.argv[4:])
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
    elif mode == "jwt":
        audience = sys.argv[4]
        got = api.FetchJWTSVID(pb.JWTSVIDRequest(audience=[audience]), metadata=header)
        svid = got.svids[0]
        valid = api.ValidateJWTSVID(pb.ValidateJWTSVIDRequest(audience=audience, svid=svid.svid), metadata=header)
        emit({"spiffe_id": svid.spiffe_id, "svid": svid.svid, "validated": valid.spiffe_id,
              "claims": json_format.MessageToDict(valid.claims)})
    elif mode == "no-header":
        try:
            next(api.FetchX509SVID(pb.X509SVIDRequest()))
            emit({"code": "OK"})
        except grpc.RpcError as e:
            emit({"code": e.code().name, "details": e.details()})
    channel.close()


if __name__ == "__main__":
    main()
