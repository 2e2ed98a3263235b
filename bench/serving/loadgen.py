"""A small stdlib asyncio HTTP/1.1 load generator for checks wrk cannot do: open-loop load at a fixed
rate (requests keep arriving while the server is saturated, like real traffic), per-request status
and latency, and per-request headers (routing keys). Keep-alive connections; a new one is opened
when all are busy. Cheap enough (~0.1 ms CPU per request) to offer ~1,000 req/s from this box.
"""
import asyncio
import time


class Conn:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host, port):
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, method, path, headers, body=b""):
        head = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status, length, response_headers = int(status_line.split()[1]), 0, {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", 0))
        data = await self.reader.readexactly(length) if length else b""
        return status, response_headers, data

    def close(self):
        self.writer.close()


class Pool:
    """Idle keep-alive connections; ``use()`` borrows one (opening it if none is idle)."""

    def __init__(self, host, port, max_conns=4000):
        self.host, self.port, self.max_conns = host, port, max_conns
        self.idle, self.opened = [], 0

    async def call(self, method, path, headers, body=b""):
        conn = self.idle.pop() if self.idle else None
        if conn is None:
            if self.opened >= self.max_conns:
                raise ConnectionError("connection limit")
            conn = await Conn.open(self.host, self.port)
            self.opened += 1
        try:
            result = await conn.request(method, path, headers, body)
        except BaseException:
            conn.close()
            self.opened -= 1
            raise
        if result[1].get("connection", "").lower() == "close":
            conn.close()
            self.opened -= 1
        else:
            self.idle.append(conn)
        return result

    def close(self):
        for conn in self.idle:
            conn.close()


class Result:
    __slots__ = ("index", "sent_at", "status", "latency_s", "headers", "body")

    def __init__(self, index, sent_at, status, latency_s, headers, body):
        self.index, self.sent_at, self.status = index, sent_at, status
        self.latency_s, self.headers, self.body = latency_s, headers, body


async def _timed(pool, index, path, headers, body, out, sent_at):
    try:
        status, response_headers, data = await pool.call("POST", path, headers, body)
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        status, response_headers, data = -1, {}, b""
    out.append(Result(index, sent_at, status, time.monotonic() - sent_at, response_headers, data))


async def open_loop(host, port, path, make_request, rate_per_s, seconds):
    """Send at ``rate_per_s`` for ``seconds`` whatever the answers; ``make_request(i) -> (headers,
    body)``. Returns a ``Result`` per request once every request is answered."""
    pool, out, tasks = Pool(host, port), [], []
    start = time.monotonic()
    i = 0
    while True:
        due = start + i / rate_per_s
        now = time.monotonic()
        if due - start >= seconds:
            break
        if due > now:
            await asyncio.sleep(due - now)
        headers, body = make_request(i)
        tasks.append(asyncio.ensure_future(_timed(pool, i, path, headers, body, out, time.monotonic())))
        i += 1
        if len(tasks) > 5000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)
    pool.close()
    return out


async def closed_loop(host, port, path, make_request, conc, seconds=None, count=None):
    """``conc`` connections, each sending its next request when the last one is answered; for
    ``seconds`` or until ``count`` requests were sent."""
    out, counter = [], iter(range(10**9))
    deadline = time.monotonic() + seconds if seconds else float("inf")

    async def worker():
        pool = Pool(host, port, max_conns=1)
        while time.monotonic() < deadline:
            i = next(counter)
            if count is not None and i >= count:
                break
            headers, body = make_request(i)
            await _timed(pool, i, path, headers, body, out, time.monotonic())
        pool.close()

    await asyncio.gather(*(worker() for _ in range(conc)))
    return out
