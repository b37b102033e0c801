"""Talk to a fake over HTTPS with http.client: what the fakes' own tests use, never the product's code.

Any fake of this package works (``ca_path``, ``port``, ``host``)::

    r = call(fake, "POST", "/v1/videos/text2video", {"prompt": "p"}, headers={...})
    r.status, r.headers (lower-case names), r.data, r.json, r.header("Content-Type")
"""
from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from urllib.parse import urlsplit


class Resp:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data

    @property
    def json(self):
        return json.loads(self.data)

    def header(self, name):
        return self.headers.get(name.lower())


def connect(fake, timeout=5.0) -> http.client.HTTPSConnection:
    ctx = ssl.create_default_context(cafile=str(fake.ca_path))
    return http.client.HTTPSConnection("127.0.0.1", fake.port, context=ctx, timeout=timeout)


def target(fake, path: str) -> str:
    """The request target of ``path``, which may be a full URL the fake handed out (then it must be the fake's)."""
    if path.startswith("https://"):
        u = urlsplit(path)
        assert u.netloc == fake.host
        path = u.path + ("?" + u.query if u.query else "")
    return path


def call(fake, method, path, body=None, *, headers=None, raw=None, timeout=5.0) -> Resp:
    """One request on a fresh connection: ``body`` as JSON, or ``raw`` bytes as they are."""
    h = {}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c = connect(fake, timeout)
    try:
        c.request(method, target(fake, path), body=data, headers=h)
        r = c.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


def read_events(conn: http.client.HTTPSConnection, resp: http.client.HTTPResponse):
    """Read a server-sent event stream to its end, then close ``conn``.

    Returns ``([(t, kind, payload)], ended)``: kind "data" (payload: the parsed JSON) or "comment" (the line),
    ``t`` when it arrived (time.monotonic()); ``ended`` "eof", or the name of the error that cut the stream."""
    items, ended = [], "eof"
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.rstrip(b"\r\n")
            if line.startswith(b"data: "):
                items.append((time.monotonic(), "data", json.loads(line[6:])))
            elif line.startswith(b":"):
                items.append((time.monotonic(), "comment", line.decode()))
            else:
                assert line == b"", line
    except (http.client.IncompleteRead, ConnectionError, ssl.SSLError) as exc:
        ended = type(exc).__name__
    finally:
        conn.close()
    return items, ended


def stop_during(fake, read, opened, timeout=5.0):
    """Stop ``fake`` while ``read()``, run in a thread, holds a stream open (once ``opened()`` is true): the stop
    must take under 3 s and end the reader. Returns what ``read()`` returned."""
    result = {}
    reader = threading.Thread(target=lambda: result.update(out=read()))
    reader.start()
    deadline = time.monotonic() + timeout
    while not opened():
        assert time.monotonic() < deadline, "the stream did not open"
        time.sleep(0.01)
    time.sleep(0.1)
    t = time.monotonic()
    fake.stop()
    assert time.monotonic() - t < 3
    reader.join(3)
    assert not reader.is_alive()
    return result["out"]


def read_cut_short(fake, path: str, timeout=5.0) -> tuple[int, int, bytes]:
    """GET a file whose answer the fake cuts short: (status, announced Content-Length, the bytes that came)."""
    c = connect(fake, timeout)
    try:
        c.request("GET", target(fake, path))
        r = c.getresponse()
        try:
            r.read()
        except http.client.IncompleteRead as exc:
            return r.status, int(r.getheader("Content-Length")), exc.partial
        raise AssertionError("the body came whole")
    finally:
        c.close()
