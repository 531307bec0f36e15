"""The client for the Propensity scoring server (protocol v1, docs/protocol.md). Standard library only.

    from propensity_client import Client

    with Client("127.0.0.1", 7878, token=None) as client:
        info = client.model_info("conversion")
        probabilities = client.score("conversion", [{"sessions_30d": 3, "device": "mobile"}, ...])

Rows may be dicts keyed by feature name (missing keys are missing values, categories given by value) or sequences
already in schema order (floats; categories as their index; None or NaN for missing). Requests can be pipelined
with `score_many`, which sends every batch before reading the answers and matches them by request id.
"""
from __future__ import annotations

import math
import socket
import struct
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["Client", "ModelInfo", "Feature", "Explanation", "ServerError", "ProtocolError", "Row", "Value"]

VERSION = 1
OP_PING, OP_LIST_MODELS, OP_MODEL_INFO, OP_SCORE, OP_AUTH, OP_EXPLAIN, OP_ROUTE_SCORE, OP_ROUTE_EXPLAIN = (
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08)
OP_PONG, OP_MODEL_LIST, OP_MODEL_INFO_RESULT, OP_SCORES, OP_AUTHENTICATED, OP_EXPLANATIONS = (
    0x81, 0x82, 0x83, 0x84, 0x85, 0x86)
OP_ROUTED_SCORES, OP_ROUTED_EXPLANATIONS = 0x87, 0x88
OP_ERROR = 0xFF

Value = Union[float, int, str, None]
Row = Union[Mapping[str, Value], Sequence[Value]]


class ProtocolError(Exception):
    """The server sent something this client cannot parse, or the connection broke mid-frame."""


class ServerError(Exception):
    """An ERROR frame: `code` is one of the stable codes of docs/protocol.md (10 unknown model, 11 schema mismatch…)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"server error {code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Feature:
    name: str
    categories: Optional[List[str]]  # None for a numeric feature


@dataclass(frozen=True)
class Explanation:
    """One row of an EXPLAIN answer: its probability, the bias, and (column name, contribution to the log-odds)
    pairs, largest |contribution| first."""
    probability: float
    bias: float
    reasons: List[Tuple[str, float]]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: int
    fingerprint: int
    version: str
    features: List[Feature]

    def encode_row(self, row: Row) -> List[float]:
        """One row as the float32 values the server expects, in schema order."""
        if isinstance(row, Mapping):
            values = [row.get(f.name) for f in self.features]
        else:
            if len(row) != len(self.features):
                raise ValueError(f"row has {len(row)} values, the model takes {len(self.features)}")
            values = list(row)
        out: List[float] = []
        for feature, value in zip(self.features, values):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                out.append(math.nan)
            elif feature.categories is not None and isinstance(value, str):
                index = _index(feature, value)
                out.append(float(index) if index is not None else -1.0)  # -1: a category the model has not seen
            else:
                out.append(float(value))
        return out


def _index(feature: Feature, value: str) -> Optional[int]:
    if feature.categories is None:
        return None
    try:
        return feature.categories.index(value)
    except ValueError:
        return None


class Client:
    """One TCP connection to a scorer. Not thread-safe: use one client per thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 7878, token: Optional[str] = None,
                 timeout: float = 10.0) -> None:
        self._socket = socket.create_connection((host, port), timeout=timeout)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""
        self._next_id = 1
        self._infos: Dict[str, ModelInfo] = {}
        if token is not None:
            try:
                self._call(OP_AUTH, _short_bytes(token.encode()))
            except BaseException:
                self._socket.close()  # a refused token must not leak the connection
                raise

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._socket.close()

    # Requests.

    def ping(self) -> None:
        self._call(OP_PING, b"")

    def list_models(self) -> List[str]:
        _, payload = self._call(OP_LIST_MODELS, b"")
        count, = struct.unpack_from("<I", payload, 0)
        offset, names = 4, []
        for _ in range(count):
            name, offset = _read_short_string(payload, offset)
            offset += 2 + 8 + 4  # kind, fingerprint, feature count
            names.append(name)
        return names

    def model_info(self, model: str) -> ModelInfo:
        _, payload = self._call(OP_MODEL_INFO, _short_bytes(model.encode()))
        name, offset = _read_short_string(payload, 0)
        kind, fingerprint = struct.unpack_from("<HQ", payload, offset)
        offset += 10
        version, offset = _read_short_string(payload, offset)
        count, = struct.unpack_from("<I", payload, offset)
        offset += 4
        features: List[Feature] = []
        for _ in range(count):
            feature_name, offset = _read_short_string(payload, offset)
            kind_code = payload[offset]
            offset += 1
            categories: Optional[List[str]] = None
            if kind_code == 1:
                n, = struct.unpack_from("<I", payload, offset)
                offset += 4
                categories = []
                for _ in range(n):
                    category, offset = _read_short_string(payload, offset)
                    categories.append(category)
            features.append(Feature(feature_name, categories))
        info = ModelInfo(name, kind, fingerprint, version, features)
        self._infos[model] = info
        return info

    def score(self, model: str, rows: Iterable[Row]) -> List[float]:
        """Probabilities for `rows`, in order (one request)."""
        return self.score_many(model, [list(rows)])[0]

    def score_many(self, model: str, batches: Sequence[Sequence[Row]]) -> List[List[float]]:
        """Pipelines one SCORE request per batch, then reads the answers (matched by request id)."""
        info = self.schema(model)
        encoded = []
        for batch in batches:
            floats = [v for row in batch for v in info.encode_row(row)]
            encoded.append((struct.pack(f"<{len(floats)}f", *floats), len(batch)))
        return self.score_encoded_many(model, encoded)

    def schema(self, model: str) -> ModelInfo:
        """The model's schema as last fetched on this connection (MODEL_INFO the first time)."""
        return self._infos.get(model) or self.model_info(model)

    def score_encoded_many(self, model: str, batches: Sequence[Tuple[bytes, int]]) -> List[List[float]]:
        """Like `score_many`, for batches already encoded: (little-endian float32 values in schema order, row count)
        pairs, as `ModelInfo.encode_row` or a columnar encoder (e.g. `propensity_client.dataframe`) builds them."""
        info = self.schema(model)
        ids = []
        for data, count in batches:
            if len(data) != 4 * count * len(info.features):
                raise ValueError(f"{len(data)} bytes are not {count} rows of {len(info.features)} float32 values")
            payload = (_short_bytes(model.encode())
                       + struct.pack("<QII", info.fingerprint, count, len(info.features)) + data)
            ids.append(self._send(OP_SCORE, payload))
        answers: Dict[int, List[float]] = {}
        errors: Dict[int, ServerError] = {}
        while len(answers) + len(errors) < len(ids):
            op, request_id, payload = self._receive()
            if op == OP_ERROR:
                errors[request_id] = _error(payload)
                if request_id == 0:
                    raise errors[0]
            elif op == OP_SCORES:
                n, = struct.unpack_from("<I", payload, 0)
                answers[request_id] = list(struct.unpack_from(f"<{n}f", payload, 4))
            else:
                raise ProtocolError(f"unexpected opcode 0x{op:02x}")
        for request_id in ids:
            if request_id in errors:
                raise errors[request_id]
        return [answers[i] for i in ids]

    def explain(self, model: str, rows: Iterable[Row], top: int) -> List[Explanation]:
        """Probabilities of `rows` and, per row, the `top` strongest contributions (one EXPLAIN request)."""
        info = self.schema(model)
        batch = list(rows)
        floats = [v for row in batch for v in info.encode_row(row)]
        payload = (_short_bytes(model.encode())
                   + struct.pack("<QIIH", info.fingerprint, len(batch), len(info.features), top)
                   + struct.pack(f"<{len(floats)}f", *floats))
        op, body = self._call(OP_EXPLAIN, payload)
        if op != OP_EXPLANATIONS:
            raise ProtocolError(f"unexpected opcode 0x{op:02x}")
        return _explanations(body, 0, info)

    def route_explain(self, route: str, key: bytes, rows: Iterable[Row], top: int) -> Tuple[str, List[Explanation]]:
        """`explain` through experiment `route`: the variant `key` is assigned to explains, and is returned first."""
        info, body = self._routed(OP_ROUTE_EXPLAIN, OP_ROUTED_EXPLANATIONS, route, key, rows, struct.pack("<H", top))
        variant, offset = _read_short_string(body, 0)
        return variant, _explanations(body, offset, info)

    def route_score(self, route: str, key: bytes, rows: Iterable[Row]) -> Tuple[str, List[float]]:
        """Probabilities for `rows` from the variant of experiment `route` that visitor `key` (1 to 256 bytes; send a
        pseudonym, not a raw identifier) is assigned to, and that variant's NAME@VERSION (one ROUTE_SCORE request).
        The schema is the route's (MODEL_INFO answers a route's name with its first variant)."""
        _, body = self._routed(OP_ROUTE_SCORE, OP_ROUTED_SCORES, route, key, rows, b"")
        variant, offset = _read_short_string(body, 0)
        n, = struct.unpack_from("<I", body, offset)
        return variant, list(struct.unpack_from(f"<{n}f", body, offset + 4))

    def _routed(self, opcode: int, answer: int, route: str, key: bytes, rows: Iterable[Row], extra: bytes
                ) -> Tuple[ModelInfo, bytes]:
        """One ROUTE_SCORE or ROUTE_EXPLAIN (`extra`: the fields after the feature count); the route's schema and the
        answer's payload."""
        if not 1 <= len(key) <= 256:
            raise ValueError("a visitor key is 1 to 256 bytes")
        info = self.schema(route)
        batch = list(rows)
        floats = [v for row in batch for v in info.encode_row(row)]
        payload = (_short_bytes(route.encode()) + _short_bytes(bytes(key))
                   + struct.pack("<QII", info.fingerprint, len(batch), len(info.features)) + extra
                   + struct.pack(f"<{len(floats)}f", *floats))
        op, body = self._call(opcode, payload)
        if op != answer:
            raise ProtocolError(f"unexpected opcode 0x{op:02x}")
        return info, body

    # Framing.

    def _send(self, opcode: int, payload: bytes) -> int:
        request_id = self._next_id
        self._next_id = self._next_id + 1 if self._next_id < 0xFFFFFFFF else 1
        self._socket.sendall(struct.pack("<IBBHI", 8 + len(payload), VERSION, opcode, 0, request_id) + payload)
        return request_id

    def _receive(self) -> Tuple[int, int, bytes]:
        header = self._read(12)
        length, version, opcode, _flags, request_id = struct.unpack("<IBBHI", header)
        if version != VERSION or length < 8:
            raise ProtocolError(f"bad frame header (version {version}, length {length})")
        return opcode, request_id, self._read(length - 8)

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self._socket.recv(65536)
            if not chunk:
                raise ProtocolError("the server closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _call(self, opcode: int, payload: bytes) -> Tuple[int, bytes]:
        request_id = self._send(opcode, payload)
        op, answered, body = self._receive()
        if op == OP_ERROR:
            raise _error(body)
        if answered != request_id:
            raise ProtocolError(f"answer for request {answered}, expected {request_id}")
        return op, body


def _explanations(body: bytes, offset: int, info: "ModelInfo") -> List["Explanation"]:
    n, k = struct.unpack_from("<IH", body, offset)
    offset += 6
    out: List[Explanation] = []
    for _ in range(n):
        probability, bias = struct.unpack_from("<fd", body, offset)
        offset += 12
        reasons: List[Tuple[str, float]] = []
        for _ in range(k):
            feature, contribution = struct.unpack_from("<Hd", body, offset)
            offset += 10
            reasons.append((info.features[feature].name, contribution))
        out.append(Explanation(probability, bias, reasons))
    return out


def _short_bytes(data: bytes) -> bytes:
    return struct.pack("<H", len(data)) + data


def _read_short_string(payload: bytes, offset: int) -> Tuple[str, int]:
    n, = struct.unpack_from("<H", payload, offset)
    return payload[offset + 2: offset + 2 + n].decode(), offset + 2 + n


def _error(payload: bytes) -> ServerError:
    code, = struct.unpack_from("<H", payload, 0)
    message, _ = _read_short_string(payload, 2)
    return ServerError(code, message)
