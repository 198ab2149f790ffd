"""gunicorn worker classes of the reference store.

StoreUvicornWorker fixes two shutdown races of uvicorn 0.17 (Debian 12's):
- on SIGTERM the server asks each open connection, once, to close after its current response; a
  connection it misses (seen: one picked up around that moment, busy with a keep-alive client
  sending a request every few ms) keeps being served, the old worker sits in "Waiting for
  connections to close", and a graceful reload (HUP) only completes when the master kills it 30 s
  later, dropping what it serves then (measured: a reload under load took 28 s instead of ~0.1 s).
  The close request is repeated every 100 ms until the connections are gone;
- the same first pass closes at once every connection that has not had a request read yet, a fresh
  one whose request is on its way included: the client sees a reset on a connection it never reused,
  and does not retry (seen in test:external: 1 reload in about 10 under load lost a GET). Such a
  connection now gets FIRST_REQUEST_GRACE_S to deliver its request, which is then served.
"""
import asyncio
import errno
import logging
import os
import time

from gunicorn.workers.sync import SyncWorker
from uvicorn.server import Server
from uvicorn.workers import UvicornWorker

logger = logging.getLogger("uvicorn.error")

# how long a fresh connection may take to deliver its first request once shutdown began
FIRST_REQUEST_GRACE_S = 0.25


class DrainingServer(Server):
    async def shutdown(self, sockets=None):
        logger.info("Shutting down")
        # stop accepting new connections (the listen queue stays with the other workers)
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()

        loop = asyncio.get_event_loop()
        fresh_until = loop.time() + FIRST_REQUEST_GRACE_S
        while not self.force_exit:
            connections = list(self.server_state.connections)
            if not connections:
                break
            for connection in connections:
                fresh = getattr(connection, "cycle", None) is None
                if fresh and loop.time() < fresh_until:
                    continue  # its first request may be on the way: serve it, then close
                try:
                    # closes an idle one at once, else after its current response
                    connection.shutdown()
                except Exception:  # a connection closing under us: nothing left to ask
                    pass
            await asyncio.sleep(0.05)

        while self.server_state.tasks and not self.force_exit:
            await asyncio.sleep(0.1)
        if not self.force_exit:
            await self.lifespan.shutdown()


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
