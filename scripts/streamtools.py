"""Stream-check and benchmark helpers: a minimal Redis (RESP2) client with pipelining, and generated visitor events."""
import socket


class Redis:
    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def pipeline(self, commands):
        out = bytearray()
        for args in commands:
            out += b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return [self._reply() for _ in commands]

    def command(self, *args):
        return self.pipeline([args])[0]

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError(f"unexpected reply {line!r}")


DEVICES, SOURCES = ["mobile", "desktop", "tablet"], ["email", "organic", "direct", "paid_search"]


def event_fields(i, rng):
    """A visitor event for the example model's 13 inputs (`models/conversion.model`), as XADD field-value pairs."""
    return ["visitor", f"v{i % 20000}", "sessions_30d", rng.randint(0, 30), "pages_per_session", round(rng.uniform(1, 9), 2),
            "avg_session_seconds", round(rng.uniform(5, 600), 1), "days_since_last_visit", rng.randint(0, 60),
            "cart_adds_30d", rng.randint(0, 6), "cart_value", "" if rng.random() < 0.6 else round(rng.uniform(5, 400), 2),
            "email_opens_30d", rng.randint(0, 20), "discount_viewed", rng.randint(0, 1), "hour_of_day", rng.randint(0, 23),
            "device", rng.choice(DEVICES), "traffic_source", rng.choice(SOURCES), "country", "DE", "visitor_type", "returning"]
