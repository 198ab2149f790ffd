"""gunicorn settings of the reference store, from the environment.

STORE_SERVER=gunicorn (sync workers, WSGI) or uvicorn (gunicorn with uvicorn workers, ASGI).
"""
import os
import random
import signal

from storeproject import flaws

_server = os.environ.get("STORE_SERVER", "gunicorn")
if _server not in ("gunicorn", "uvicorn"):
    raise ValueError("STORE_SERVER must be gunicorn or uvicorn, got %r" % _server)

wsgi_app = "storeproject.asgi:application" if _server == "uvicorn" else "storeproject.wsgi:application"
# StoreUvicornWorker drains every connection on shutdown (see storeproject/workers.py);
# STORE_UVICORN_WORKER=uvicorn.workers.UvicornWorker runs the stock one
_uvicorn_worker = os.environ.get("STORE_UVICORN_WORKER", "storeproject.workers.StoreUvicornWorker")
# StoreSyncWorker serves the listen queue before it stops (see storeproject/workers.py)
worker_class = _uvicorn_worker if _server == "uvicorn" else "storeproject.workers.StoreSyncWorker"
bind = os.environ.get("STORE_BIND", "127.0.0.1:8000")
workers = 1 if flaws.on("single_worker") else int(os.environ.get("STORE_WORKERS", "3"))
pidfile = os.environ.get("STORE_PIDFILE") or None
# a worker silent for this long is killed and replaced by the master
timeout = int(os.environ.get("STORE_WORKER_TIMEOUT_S", "30"))
# how long the master waits for workers to finish in-flight requests on TERM/HUP
graceful_timeout = int(os.environ.get("STORE_GRACEFUL_TIMEOUT_S", "5"))
keepalive = 2
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("STORE_GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus pid=%(p)s'
capture_output = False


# the rare_restart_drop flaw: this server instance (the file is read again on each start and reload)
# drops its in-flight requests when it stops, with probability STORE_FLAW_RATE
_drops_on_stop = flaws.on("rare_restart_drop") and random.random() < float(os.environ.get("STORE_FLAW_RATE", "0.125"))


def post_worker_init(worker):
    if flaws.on("no_graceful_shutdown") or _drops_on_stop:
        # the flaw: die at once on TERM/QUIT, dropping whatever the worker was serving
        for sig in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
            signal.signal(sig, lambda *_: os._exit(1))
        if _server == "uvicorn":
            # uvicorn installs its own handlers when it starts serving: replace the one they call
            from uvicorn.server import Server

            Server.handle_exit = lambda self, sig, frame: os._exit(1)
