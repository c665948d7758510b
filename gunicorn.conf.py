"""gunicorn settings for Campaign Desk: `make serve`, the systemd unit and bench/slow_client.py use this file.

Village phones upload 2-5 MB of photos over 3G: a body can take minutes to arrive. gunicorn's default
sync worker reads it inside the request, stops reporting to the arbiter, and is killed at 30 s
(WORKER TIMEOUT, an English 500, the photos lost; docs/performance.md). A gthread worker reads bodies in
its threads while its main loop keeps the heartbeat, so a slow upload holds one thread, not the worker.
In production nginx (deploy/nginx-campaign-desk.conf) also buffers the whole body before gunicorn sees it.

Every setting can be overridden by an environment variable (GUNICORN_*) or on the command line.
"""
import multiprocessing
import os


def _env_int(name, default):
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}")
wsgi_app = "wsgi:app"

worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _env_int("GUNICORN_THREADS", 8)

# With gthread, `timeout` is the worker's heartbeat (a stuck main loop), not a limit on one request:
# a request body may take as long as the phone needs. Generous all the same, for a large workbook.
timeout = _env_int("GUNICORN_TIMEOUT", 120)
# A restart waits this long for uploads in flight before cutting them.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 120)
# Phones reuse a connection for the page's CSS, JS and the next form; 3G round trips are slow.
keepalive = _env_int("GUNICORN_KEEPALIVE", 15)
backlog = 2048
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = 500

# Headers over 8 KB or a request line over 4 KB are refused before the app sees them (gunicorn's defaults).
limit_request_line = 4094
limit_request_field_size = 8190

# gunicorn ≥ 25 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): two instances
# on one machine would fight over it, and nothing here uses it.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'

# Which addresses may set X-Forwarded-Proto for gunicorn itself (wsgi.url_scheme). The app's own
# ProxyFix (PROXY_COUNT) decides which X-Forwarded-* headers Flask believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
