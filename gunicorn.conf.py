"""gunicorn settings for production: ``gunicorn --config gunicorn.conf.py wsgi:app`` (the Procfile's
``web`` process). Every value can be changed from the environment, without editing this file.

- ``WEB_CONCURRENCY``: number of worker processes (default: 2 × CPUs + 1).
- ``HOST`` / ``PORT``: where to listen (default 127.0.0.1:8000, behind the reverse proxy; when a
  platform gives ``PORT``, every interface, since its router connects from outside).
- ``GUNICORN_TIMEOUT``: seconds a worker may spend on one request before it is restarted.
"""

from __future__ import annotations

import os


def _cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not every CPU of the host.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Sync workers handle one request each at a time. Requests are mostly Python work with short
# database waits in between: two per CPU (plus one) keeps the CPUs busy while some wait. Each
# worker holds its own matching index and connection pool (about 140 MB; see README « En
# production » for sizing).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
worker_class = "sync"

_host = os.environ.get("HOST") or ("0.0.0.0" if "PORT" in os.environ else "127.0.0.1")
bind = [f"{_host}:{os.environ.get('PORT') or '8000'}"]

# The slowest legitimate pages (a national partner's reverse matching, a large territory's
# ecosystem before it is cached) take a few seconds; a worker stuck for 30 s is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30

# One line per request on stdout, with the request id the application sends back
# (`X-Request-Id`, also in its own log lines) and the duration in milliseconds. The path is
# logged without its query string: searches carry people's names.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s'

# gunicorn's runtime control socket lives in the home directory by default, shared by every
# instance on the machine (and read-only on some platforms); nothing here uses it.
control_socket_disable = True
