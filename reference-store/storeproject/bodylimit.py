"""The request body limit, enforced while the body is read, for both servers and any framing.

BodySizeLimitMiddleware (store/errors.py) refuses a declared Content-Length over the limit, but it
runs after the server adapter: Django's ASGI handler reads the whole body before any middleware, and
a chunked body declares no length. These wrappers sit around the application itself: a declared
length over STORE_MAX_BODY_BYTES is answered 413 at once, and a body that grows past it while it is
read (chunked, or longer than declared) is cut there and answered 413.
"""
import asyncio
import io
import json
import time

# the lingering close after a 413: at most this much more of the body is read and dropped, for at most this long
DRAIN_BYTES = 8 * 1024 * 1024
DRAIN_S = 1.0
TOO_LARGE = json.dumps({"detail": "The request body is too large.", "code": "too_large"}).encode()


class BodyTooLarge(Exception):
    pass


def _declared(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AsgiBodyLimit:
    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _declared(dict(scope.get("headers") or []).get(b"content-length"))
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return await self._drain(receive)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)
            await self._drain(receive)

    @staticmethod
    async def _drain(receive):
        """A lingering close: the 413 is sent, then what the client is still sending is read and dropped
        for a moment (DRAIN_BYTES, DRAIN_S at most). Closed at once with unread data, the connection is
        reset, and a client still writing never reads the 413."""
        loop = asyncio.get_running_loop()
        deadline, drained = loop.time() + DRAIN_S, 0
        while drained < DRAIN_BYTES and loop.time() < deadline:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                return
            if message.get("type") != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    @staticmethod
    async def _refuse(send):
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": TOO_LARGE})


class _LimitedInput:
    """wsgi.input that raises once more than `limit` bytes were read from it."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def _count(self, data):
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise BodyTooLarge()
        return data

    def read(self, size=-1):
        return self._count(self.stream.read(self.limit + 1 - self.read_bytes if size is None or size < 0 else size))

    def readline(self, size=-1):
        return self._count(self.stream.readline(size))

    def __iter__(self):
        for line in self.stream:
            yield self._count(line)


class WsgiBodyLimit:
    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        raw = environ["wsgi.input"]
        declared = _declared(environ.get("CONTENT_LENGTH"))
        if declared is not None and declared > self.limit:
            return self._refuse(start_response, raw)
        if declared is None and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # a chunked body: Django reads CONTENT_LENGTH bytes, so it is given a length it may read
            # up to, and the stream fails past the limit
            environ["wsgi.input"] = _LimitedInput(raw, self.limit)
            body = b""
            try:
                body = environ["wsgi.input"].read()
            except BodyTooLarge:
                return self._refuse(start_response, raw)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(start_response, stream):
        start_response("413 Request Entity Too Large", [("Content-Type", "application/json"), ("Connection", "close")])
        return _Refusal(stream)


class _Refusal:
    """The 413's body, then a lingering close: the server calls close() once the answer is sent, and
    what the client is still sending is read and dropped for a moment (DRAIN_BYTES, DRAIN_S at most).
    Closed at once with unread data, the connection is reset, and a client still writing never reads
    the 413 (seen under gunicorn's sync workers with a 3 MB body)."""

    def __init__(self, stream):
        self.stream = stream

    def __iter__(self):
        return iter([TOO_LARGE])

    def close(self):
        deadline, drained = time.monotonic() + DRAIN_S, 0
        try:
            while drained < DRAIN_BYTES and time.monotonic() < deadline:
                chunk = self.stream.read(64 * 1024)
                if not chunk:
                    return
                drained += len(chunk)
        except Exception:  # the client went away: nothing left to drain
            return
