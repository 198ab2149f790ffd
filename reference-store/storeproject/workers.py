"""gunicorn worker classes of the reference store.

StoreUvicornWorker fixes a shutdown race of uvicorn 0.17 (Debian 12's): on SIGTERM the server asks
each open connection, once, to close after its current response; a connection it misses (seen:
one picked up around that moment, ESTABLISHED, busy with a keep-alive client sending a request
every few ms) keeps being served, the old worker sits in "Waiting for connections to close" and
a graceful reload (HUP) only completes when the master kills it for silence 30 s later, which
drops whatever it is serving then. Measured: reload under load took 28 s instead of ~0.1 s. The
fix repeats the close request every 100 ms until the connections are gone, for connections that have
served a request: one whose first request has not been read yet is left to answer it (closing it
would drop that request; a client only retries on a connection it reused).
"""
import asyncio
import errno
import time

import os

from gunicorn.workers.sync import SyncWorker
from uvicorn.server import Server
from uvicorn.workers import UvicornWorker


class DrainingServer(Server):
    async def shutdown(self, sockets=None):
        async def keep_asking():
            while True:
                for connection in list(self.server_state.connections):
                    if getattr(connection, "cycle", None) is None:
                        continue  # no request read yet: asked on a later round, once it has one
                    try:
                        connection.shutdown()
                    except Exception:  # a connection closing under us: nothing left to ask
                        pass
                await asyncio.sleep(0.1)

        asker = asyncio.ensure_future(keep_asking())
        try:
            await super().shutdown(sockets=sockets)
        finally:
            asker.cancel()


class StoreUvicornWorker(UvicornWorker):
    async def _serve(self):
        self.config.app = self.wsgi
        server = DrainingServer(config=self.config)
        await server.serve(sockets=self.sockets)
        if not server.started:
            import sys

            from gunicorn.arbiter import Arbiter

            sys.exit(Arbiter.WORKER_BOOT_ERROR)


DRAIN_S = int(os.environ.get("STORE_DRAIN_MS", "300")) / 1000.0


class StoreSyncWorker(SyncWorker):
    """A sync worker that, told to stop (TERM), first serves the connections already waiting in the
    listen queue. gunicorn's own stops accepting at once; the queue's connections are then reset when
    the last worker closes the socket, so a request sent just before a graceful stop is lost unread
    (measured: about 1 restart in 8 under 6 clients lost one). The queue at the stop is a few
    connections; new ones keep arriving under load, so the drain is bounded by STORE_DRAIN_MS (300):
    what arrives after it is turned away unread, which a client may retry.
    """

    def run(self):
        super().run()
        if self.alive or not self.is_parent_alive():
            return  # not a TERM: nothing to drain for
        deadline = time.monotonic() + min(self.cfg.graceful_timeout, DRAIN_S)
        while time.monotonic() < deadline:
            served = False
            for listener in self.sockets:
                try:
                    self.accept(listener)
                    served = True
                except EnvironmentError as e:
                    if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                        raise
            if not served:
                return
