"""Starts gunicorn (`python serve.py -c gunicorn.conf.py ...`).

A script rather than `python -m gunicorn`: a USR2 re-exec runs the same command line again, and
with `-m` that becomes gunicorn/__main__.py, whose folder then shadows the standard library's
`http` with gunicorn's own (measured: the new master's workers fail to boot on
"cannot import name 'cookies' from 'http'"). From here the store's folder comes first.
"""
import sys

from gunicorn.app.wsgiapp import run

if __name__ == "__main__":
    sys.exit(run())
