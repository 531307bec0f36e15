"""Drives `propensity serve --http-port --grpc-port` with clients nobody here wrote: tritonclient[http] and
tritonclient[grpc] (NVIDIA's), grpcio with tritonclient's generated stubs, the `h2` library (an HTTP/2 flood), curl
and schemathesis (fuzzing from docs/inference-protocol.openapi.yaml). Scores must equal `propensity predict` bit for bit.

    python scripts/oip_check.py BIN WORKDIR      (run by scripts/oip-check, which makes the venv and the data)
"""
import csv
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import grpc
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

BIN, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


MISSING = {"", "NA", "NaN", "?", "null"}  # the CSV reader's spellings of a missing value


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def grpc_checks(headers, rows, predicted, matrix, complete):
    """The gRPC port with tritonclient[grpc] (inputs as raw_input_contents) and with tritonclient's own generated
    stubs over grpcio (inputs as typed contents): the same scores, metadata, versions, contributions and errors."""
    client = grpcclient.InferenceServerClient(url=f"127.0.0.1:{grpc_port}")
    meta = dict(headers={"authorization": headers["Authorization"]})  # gRPC metadata keys are lower case

    def status_of(call):
        try:
            call()
            return None
        except InferenceServerException as e:
            return f"{e.status()} {e.message()}"

    check("gRPC live without a token", client.is_server_live())
    refused = status_of(lambda: client.is_server_ready())
    check("gRPC ready refuses a missing token", refused is not None and "UNAUTHENTICATED" in refused, refused)
    check("gRPC ready", client.is_server_ready(**meta))
    check("gRPC server metadata", client.get_server_metadata(**meta).name == "propensity")
    model_meta = client.get_model_metadata("conversion", **meta)
    check("gRPC model metadata names every feature",
          [i.name for i in model_meta.inputs] == [f["name"] for f in schema] and
          [i.datatype for i in model_meta.inputs] == ["FP32" if f["kind"] == "numeric" else "BYTES" for f in schema],
          model_meta)
    check("gRPC model ready", client.is_model_ready("conversion", **meta))

    named = []
    for feature in schema:
        name = feature["name"]
        if feature["kind"] == "numeric":
            values = np.array([np.float32(r[name]) if r[name] not in MISSING else np.float32("nan") for r in rows],
                              dtype=np.float32)
            t = grpcclient.InferInput(name, [len(rows)], "FP32")
        else:
            values = np.array([b"" if r[name] in MISSING else r[name].encode() for r in rows], dtype=np.object_)
            t = grpcclient.InferInput(name, [len(rows)], "BYTES")
        t.set_data_from_numpy(values)
        named.append(t)
    result = client.infer("conversion", named, request_id="grpc-1", **meta)
    got = result.as_numpy("probability")
    check("gRPC named tensors with missing values and BYTES categories: equal to predict bit for bit",
          got is not None and got.dtype == np.float32 and np.array_equal(got.view(np.uint32), predicted.view(np.uint32)),
          f"{got[:3] if got is not None else None}")
    check("gRPC request id echoed", result.get_response().id == "grpc-1")

    t = grpcclient.InferInput("input", list(matrix.shape), "FP32")
    t.set_data_from_numpy(matrix)
    got = client.infer("conversion", [t], **meta).as_numpy("probability")
    check("gRPC matrix form: equal to predict bit for bit", np.array_equal(got.view(np.uint32), predicted.view(np.uint32)))
    version = model_meta.versions[0]
    got = client.infer("conversion", [t], model_version=version, **meta).as_numpy("probability")
    check("gRPC model_version addressing", np.array_equal(got.view(np.uint32), predicted.view(np.uint32)))

    t2 = grpcclient.InferInput("input", [20, len(schema)], "FP32")
    t2.set_data_from_numpy(matrix[:20])
    res = client.infer("trees", [t2], outputs=[grpcclient.InferRequestedOutput("probability"),
                                               grpcclient.InferRequestedOutput("contributions")], **meta)
    p, c = res.as_numpy("probability").astype(np.float64), res.as_numpy("contributions")
    check("gRPC contributions sum to the margin", c.shape == (20, len(schema) + 1) and
          np.allclose(1 / (1 + np.exp(-c.sum(axis=1))), p, rtol=0, atol=1e-6), f"{c.shape}")

    # Typed contents (what tritonclient never sends, other clients do), through tritonclient's generated stubs.
    stub = service_pb2_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
    sample = [rows[i] for i in complete[:50]]
    request = service_pb2.ModelInferRequest(model_name="conversion")
    for feature in schema:
        tensor = request.inputs.add(name=feature["name"], shape=[len(sample)])
        if feature["kind"] == "numeric":
            tensor.datatype = "FP64"
            tensor.contents.fp64_contents.extend(float(np.float32(r[feature["name"]])) for r in sample)
        else:
            tensor.datatype = "BYTES"
            tensor.contents.bytes_contents.extend(r[feature["name"]].encode() for r in sample)
    answer = stub.ModelInfer(request, metadata=[("authorization", headers["Authorization"])])
    got = np.frombuffer(answer.raw_output_contents[0], dtype="<f4")
    check("gRPC typed contents (FP64, BYTES): equal to predict bit for bit",
          np.array_equal(got.view(np.uint32), predicted[complete[:50]].view(np.uint32)))

    bad = grpcclient.InferInput("sessions_30d", [1], "BYTES")
    bad.set_data_from_numpy(np.array([b"x"], dtype=np.object_))
    msg = status_of(lambda: client.infer("conversion", [bad], **meta))
    check("gRPC wrong datatype: INVALID_ARGUMENT naming the tensor",
          msg is not None and "INVALID_ARGUMENT" in msg and "sessions_30d" in msg, msg)
    unknown = grpcclient.InferInput("height", [1], "FP32")
    unknown.set_data_from_numpy(np.array([1], dtype=np.float32))
    msg = status_of(lambda: client.infer("nope", [unknown], **meta))
    check("gRPC unknown model: NOT_FOUND", msg is not None and "NOT_FOUND" in msg and "not loaded" in msg, msg)
    half = grpcclient.InferInput("input", [1, len(schema)], "FP32")
    half.set_data_from_numpy(matrix[:1])
    request = service_pb2.ModelInferRequest(model_name="conversion")
    request.inputs.add(name="input", datatype="FP32", shape=[2, len(schema)])
    request.raw_input_contents.append(matrix[:1].tobytes())
    try:
        stub.ModelInfer(request, metadata=[("authorization", headers["Authorization"])])
        msg = None
    except grpc.RpcError as e:
        msg = f"{e.code()} {e.details()}"
    check("gRPC raw contents of the wrong size: INVALID_ARGUMENT", msg is not None and "INVALID_ARGUMENT" in msg, msg)
    msg = status_of(lambda: client.infer("conversion", [half], headers={"authorization": "Bearer wrong"}))
    check("gRPC wrong token: UNAUTHENTICATED", msg is not None and "UNAUTHENTICATED" in msg, msg)
    # 2 MB against --max-frame-bytes 1 MB: grpc-swift refuses the message and resets its stream (the client sees
    # CANCELLED), the connection and other calls go on.
    big = grpcclient.InferInput("input", [(2 << 20) // (4 * len(schema)), len(schema)], "FP32")
    big.set_data_from_numpy(np.zeros(big.shape(), dtype=np.float32))
    msg = status_of(lambda: client.infer("conversion", [big], **meta))
    check("gRPC message over --max-frame-bytes: refused", msg is not None and
          ("RESOURCE_EXHAUSTED" in msg or "CANCELLED" in msg), msg)
    check("gRPC still answers after the errors", client.is_server_ready(**meta))

    # HTTP/2 rapid reset (CVE-2023-44487) on the gRPC port, with the `h2` library: SwiftNIO's HTTP/2 protections
    # answer GOAWAY (ENHANCE_YOUR_CALM) and close that connection; every other client goes on.
    sent, closed, goaway = rapid_reset(grpc_port)
    check("gRPC rapid-reset flood: the server closes that connection", closed and goaway is not None,
          f"{sent} streams opened and reset, closed={closed}, GOAWAY={goaway}")
    check("gRPC answers after the flood", client.is_server_ready(**meta))


def rapid_reset(port, streams=20000):
    """Opens and cancels gRPC streams as fast as possible on one raw HTTP/2 connection; returns how many were sent,
    whether the server closed the connection, and the GOAWAY error code if one came."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    headers = [(":method", "POST"), (":scheme", "http"), (":authority", f"127.0.0.1:{port}"),
               (":path", "/inference.GRPCInferenceService/ServerLive"), ("content-type", "application/grpc"),
               ("te", "trailers")]
    sent, closed, goaway = 0, False, None
    try:
        for _ in range(streams):
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, headers)
            conn.reset_stream(stream)
            s.sendall(conn.data_to_send())
            sent += 1
    except (BrokenPipeError, ConnectionResetError, h2.exceptions.ProtocolError):
        closed = True
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            closed = True
            break
        try:
            goaway = next((e.error_code for e in conn.receive_data(data)
                           if isinstance(e, h2.events.ConnectionTerminated)), goaway)
        except h2.exceptions.ProtocolError:
            pass
    s.close()
    return sent, closed, goaway


models = os.path.join(WORK, "models")
data = os.path.join(WORK, "data.csv")
rows = read_csv(data)
predicted = np.array([np.float32(float(r["probability"])) for r in read_csv(os.path.join(WORK, "predict.csv"))],
                     dtype=np.float32)
schema = json.loads(subprocess.run([BIN, "inspect", os.path.join(models, "conversion.model"), "--json"],
                                   capture_output=True, check=True, text=True).stdout)["features"]
token = "oip-check-token-0123456789abcdef"
token_file = os.path.join(WORK, "token")
with open(token_file, "w") as f:
    f.write(token)
os.chmod(token_file, 0o600)
binary_port, http_port, grpc_port = free_port(), free_port(), free_port()
server = subprocess.Popen([BIN, "serve", "--models", models, "--port", str(binary_port), "--http-port", str(http_port),
                           "--grpc-port", str(grpc_port), "--token-file", token_file, "--max-frame-bytes", "1048576"],
                          stderr=subprocess.DEVNULL)
try:
    wait_for(http_port)
    wait_for(grpc_port)
    headers = {"Authorization": f"Bearer {token}"}
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{http_port}")

    check("live without a token", client.is_server_live())
    check("ready refuses a missing token", not client.is_server_ready())
    check("ready", client.is_server_ready(headers=headers))
    meta = client.get_server_metadata(headers=headers)
    check("server metadata", meta["name"] == "propensity" and "binary_tensor_data" in meta["extensions"], meta)
    model_meta = client.get_model_metadata("conversion", headers=headers)
    check("model metadata names every feature", [i["name"] for i in model_meta["inputs"]] == [f["name"] for f in schema],
          model_meta)
    check("model ready", client.is_model_ready("conversion", headers=headers))

    def named_inputs(sample, binary):
        inputs = []
        for feature in schema:
            name = feature["name"]
            if feature["kind"] == "numeric":
                values = np.array([[np.float32(r[name]) if r[name] not in MISSING else np.float32("nan")] for r in sample],
                                  dtype=np.float32)
                t = httpclient.InferInput(name, [len(sample), 1], "FP32")
            else:
                values = np.array([[b"" if r[name] in MISSING else r[name].encode()] for r in sample], dtype=np.object_)
                t = httpclient.InferInput(name, [len(sample), 1], "BYTES")
            t.set_data_from_numpy(values, binary_data=binary)
            inputs.append(t)
        return inputs

    # NaN is not JSON: tritonclient cannot send a missing value in JSON data, so the JSON case takes complete rows.
    complete = [i for i, r in enumerate(rows) if all(r[f["name"]] not in MISSING for f in schema)][:200]
    for binary in (False, True):
        sample = [rows[i] for i in complete] if not binary else rows
        want = predicted[complete] if not binary else predicted
        outputs = [httpclient.InferRequestedOutput("probability", binary_data=binary)]
        result = client.infer("conversion", named_inputs(sample, binary), outputs=outputs, headers=headers,
                              request_id="check-1")
        got = result.as_numpy("probability")
        check(f"named tensors, BYTES categories, binary={binary}: equal to predict bit for bit",
              got is not None and got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32)),
              f"{got[:3] if got is not None else None} vs {want[:3]}")
        check(f"request id echoed (binary={binary})", result.get_response().get("id") == "check-1")

    # The matrix form: categories as indices, missing as NaN (binary only: NaN is not JSON).
    def encoded(feature, text):
        if text in MISSING:
            return np.float32("nan")
        if feature["kind"] == "numeric":
            return np.float32(text)
        return np.float32(feature["categories"].index(text) if text in feature["categories"] else -1)

    matrix = np.array([[encoded(f, r[f["name"]]) for f in schema] for r in rows], dtype=np.float32)
    t = httpclient.InferInput("input", list(matrix.shape), "FP32")
    t.set_data_from_numpy(matrix, binary_data=True)
    got = client.infer("conversion", [t], headers=headers).as_numpy("probability")
    check("matrix form, binary: equal to predict bit for bit", np.array_equal(got.view(np.uint32), predicted.view(np.uint32)))

    # Versions: the file has no version in its name, so its version is a hash; address it explicitly.
    version = model_meta["versions"][0]
    got = client.infer("conversion", [t], model_version=version, headers=headers).as_numpy("probability")
    check("NAME/versions/V addressing", np.array_equal(got.view(np.uint32), predicted.view(np.uint32)))

    # Contributions from a tree model: per column then the bias, summing to the margin.
    names = [f["name"] for f in schema]
    trees_meta = client.get_model_metadata("trees", headers=headers)
    check("a model with covers offers contributions", [o["name"] for o in trees_meta["outputs"]] == ["probability", "contributions"])
    t2 = httpclient.InferInput("input", [20, len(names)], "FP32")
    t2.set_data_from_numpy(matrix[:20], binary_data=True)
    res = client.infer("trees", [t2], outputs=[httpclient.InferRequestedOutput("probability", binary_data=True),
                                              httpclient.InferRequestedOutput("contributions", binary_data=True)],
                       headers=headers)
    p, c = res.as_numpy("probability").astype(np.float64), res.as_numpy("contributions")
    margin = c.sum(axis=1)
    check("contributions sum to the margin", c.shape == (20, len(names) + 1) and
          np.allclose(1 / (1 + np.exp(-margin)), p, rtol=0, atol=1e-6), f"{c.shape}")

    # Errors through tritonclient: the protocol's error message reaches the client.
    def error_of(call):
        try:
            call()
            return None
        except InferenceServerException as e:
            return str(e)

    bad = httpclient.InferInput("sessions_30d", [1], "BYTES")
    bad.set_data_from_numpy(np.array([b"x"], dtype=np.object_))
    msg = error_of(lambda: client.infer("conversion", [bad], headers=headers))
    check("wrong datatype is a 400 naming the tensor", msg is not None and "sessions_30d" in msg, msg)
    unknown = httpclient.InferInput("height", [1], "FP32")
    unknown.set_data_from_numpy(np.array([1], dtype=np.float32))
    msg = error_of(lambda: client.infer("conversion", [unknown], headers=headers))
    check("unknown tensor", msg is not None and "'height' is not a feature" in msg, msg)
    msg = error_of(lambda: client.infer("nope", [unknown], headers=headers))
    check("unknown model", msg is not None and "not loaded" in msg, msg)

    grpc_checks(headers, rows, predicted, matrix, complete)

    # curl: JSON by hand, a malformed body, an oversize one, a wrong token.
    def curl(*args):
        out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, text=True)
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body

    first = rows[complete[0]]
    body = json.dumps({"inputs": [{"name": f["name"], "datatype": "FP32" if f["kind"] == "numeric" else "BYTES",
                                   "shape": [1], "data": [float(first[f["name"]]) if f["kind"] == "numeric" else first[f["name"]]]}
                                  for f in schema]})
    url = f"http://127.0.0.1:{http_port}/v2/models/conversion/infer"
    code, text = curl("-H", f"Authorization: Bearer {token}", "-d", body, url)
    ok = code == 200 and np.float32(json.loads(text)["outputs"][0]["data"][0]).view(np.uint32) == predicted[complete[0]].view(np.uint32)
    check("curl JSON infer equals predict", ok, f"{code} {text[:200]}")
    code, text = curl("-H", f"Authorization: Bearer {token}", "-d", "{\"inputs\": [", url)
    check("curl malformed JSON: 400 with the error shape", code == 400 and "error" in json.loads(text), f"{code} {text}")
    big = os.path.join(WORK, "big.json")
    with open(big, "w") as f:
        f.write(" " * (2 << 20))
    code, text = curl("-H", f"Authorization: Bearer {token}", "--data-binary", f"@{big}", url)
    check("curl oversize body: 413", code == 413, f"{code} {text[:100]}")
    code, text = curl("-H", "Authorization: Bearer wrong", "-d", body, url)
    check("curl wrong token: 401", code == 401, f"{code} {text}")

    # schemathesis fuzzes every endpoint from the OpenAPI document: no 5xx, answers match the schema, while a
    # binary-protocol client keeps scoring on the other port.
    sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
    from propensity_client import Client  # noqa: E402

    fuzz = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run",
                             os.path.join(ROOT, "docs", "inference-protocol.openapi.yaml"),
                             "--url", f"http://127.0.0.1:{http_port}", "-H", f"Authorization: Bearer {token}",
                             "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
                             "--max-examples", "40", "--seed", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=WORK)  # its cache goes there
    healthy = grpc_healthy = 0
    binary = Client("127.0.0.1", binary_port, token=token)
    probe = {f["name"]: (float(first[f["name"]]) if f["kind"] == "numeric" else first[f["name"]]) for f in schema}
    g = grpcclient.InferenceServerClient(url=f"127.0.0.1:{grpc_port}")
    gt = grpcclient.InferInput("input", [1, len(schema)], "FP32")
    gt.set_data_from_numpy(matrix[complete[0]:complete[0] + 1])
    while fuzz.poll() is None:
        healthy += 1 if binary.score("conversion", [probe])[0] == float(predicted[complete[0]]) else 0
        got = g.infer("conversion", [gt], headers={"authorization": headers["Authorization"]}).as_numpy("probability")
        grpc_healthy += 1 if got[0].view(np.uint32) == predicted[complete[0]].view(np.uint32) else 0
        time.sleep(0.05)
    report = fuzz.stdout.read()
    check("schemathesis: no failures", fuzz.returncode == 0, report[-3000:])
    print("\n".join(line for line in report.splitlines() if "passed" in line or "failed" in line or "cases" in line)[-800:])
    check("the binary port served throughout the fuzzing", healthy > 0 and server.poll() is None, f"{healthy} answers")
    check("the gRPC port served throughout the fuzzing", grpc_healthy == healthy, f"{grpc_healthy} of {healthy}")
    check("the server is still up", server.poll() is None)
finally:
    server.terminate()
    server.wait(timeout=20)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
