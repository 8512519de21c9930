"""ASGI twin of ``warpdrive_wsgi``, written by `warpdrive exec` for uvicorn
and for gunicorn with an ASGI worker class (``-k uvicorn.workers.UvicornWorker``).

The server loads ``warpdrive_asgi:application``. It imports the app named by
``WARPDRIVE_ASGI_TARGET`` (the forms of ``WARPDRIVE_WSGI_TARGET``, factories
included) and wraps it, outermost first:

1. trusted proxy headers: the HTTP or WebSocket scope is mapped to a WSGI
   environ, fixed by ``warpdrive_wsgi.ProxyHeaders.fix`` and mapped back, so
   the rules (and the spoof tests) are the WSGI servers' own, with the same
   ``WARPDRIVE_TRUST_PROXY_HEADERS`` and ``WARPDRIVE_TRUST_PROXY``:
   ``REMOTE_ADDR`` is the scope's ``client``, ``wsgi.url_scheme`` its
   ``scheme`` (``ws``/``wss`` for a WebSocket), ``SERVER_NAME``/``SERVER_PORT``
   its ``server``, ``SCRIPT_NAME`` its ``root_path``, and the removed or
   rewritten ``HTTP_*`` keys its headers. A header whose name holds ``_`` is
   dropped (never read as a proxy header, as on gunicorn, waitress and
   Apache), and a malformed header gets 400, as from ``warpdrive_wsgi``;
2. static files under ``WARPDRIVE_STATIC_URL`` from ``WARPDRIVE_STATIC_ROOT``,
   served from WhiteNoise's file index (its headers, compression, caching,
   ranges), for GET and HEAD;
3. the app.

Lifespan events pass through untouched. Server options the launcher uses:
uvicorn ``--no-proxy-headers`` (uvicorn would otherwise apply X-Forwarded-For
and -Proto from 127.0.0.1 itself); gunicorn ``--forwarded-allow-ips ''``.
"""

import os
import sys

# warpdrive_wsgi builds no WSGI app when WARPDRIVE_ASGI_TARGET is set.
import warpdrive_wsgi as _w

__all__ = ["application", "ProxyHeadersASGI", "StaticFilesASGI", "scope_environ"]

_CHUNK = 64 * 1024


def scope_environ(scope):
    """The WSGI environ form of an HTTP/WebSocket scope, and the original
    value of each ``HTTP_*`` key (copies joined by ``,``, as WSGI servers
    join them)."""
    client = scope.get("client") or ("", 0)
    server = scope.get("server") or ("", 0)
    scheme = scope.get("scheme", "http")
    environ = {
        "REMOTE_ADDR": client[0] or "",
        "SERVER_NAME": server[0] or "",
        "SERVER_PORT": str(server[1] or ""),
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": scope.get("path", ""),
        "REQUEST_METHOD": scope.get("method", "GET"),
        "wsgi.url_scheme": "https" if scheme in ("https", "wss") else "http",
    }
    for name, value in scope.get("headers", []):
        name = name.decode("latin-1")
        if "_" in name:
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        value = value.decode("latin-1")
        environ[key] = environ[key] + "," + value if key in environ else value
    original = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    return environ, original


def apply_environ(scope, environ, original):
    """A copy of ``scope`` with what ``fix`` changed in ``environ``."""
    scope = dict(scope)
    client = scope.get("client") or ("", 0)
    if environ["REMOTE_ADDR"] != (client[0] or ""):
        scope["client"] = (environ["REMOTE_ADDR"], 0)
    https = environ["wsgi.url_scheme"] == "https"
    if scope.get("type") == "websocket":
        scope["scheme"] = "wss" if https else "ws"
    else:
        scope["scheme"] = "https" if https else "http"
    server = scope.get("server") or ("", 0)
    port = environ.get("SERVER_PORT", "")
    scope["server"] = (
        environ.get("SERVER_NAME", server[0]),
        int(port) if port.isdigit() else server[1],
    )
    if environ.get("SCRIPT_NAME", "") != scope.get("root_path", ""):
        scope["root_path"] = environ["SCRIPT_NAME"]
    headers = []
    done = set()
    for name, value in scope.get("headers", []):
        text = name.decode("latin-1")
        if "_" in text:
            # Dropped, as gunicorn, waitress and Apache drop them: an app
            # that maps names to environ form would read X_Forwarded_For
            # as X-Forwarded-For.
            continue
        key = "HTTP_" + text.upper().replace("-", "_")
        if key not in environ:
            continue
        if environ[key] == original.get(key):
            headers.append((name, value))
        elif key not in done:
            headers.append((name, environ[key].encode("latin-1")))
            done.add(key)
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in original:
            name = key[5:].lower().replace("_", "-").encode("latin-1")
            headers.append((name, value.encode("latin-1")))
    scope["headers"] = headers
    return scope


async def _bad_request(send):
    body = b"Bad Request: malformed header\n"
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ProxyHeadersASGI(object):
    """ASGI middleware: ``warpdrive_wsgi.ProxyHeaders`` on the scope."""

    def __init__(self, app, headers, trusted_proxies=None):
        self.app = app
        self.proxy = _w.ProxyHeaders(None, headers, trusted_proxies)
        self.unknown = self.proxy.unknown

    async def __call__(self, scope, receive, send):
        if scope.get("type") not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        environ, original = scope_environ(scope)
        if _w.malformed(environ) is not None:
            if scope["type"] == "http":
                return await _bad_request(send)
            return await send({"type": "websocket.close", "code": 1002})
        self.proxy.fix(environ)
        return await self.app(apply_environ(scope, environ, original), receive, send)


class StaticFilesASGI(object):
    """Serves the files WhiteNoise indexes under ``prefix``; the rest goes to
    the app."""

    def __init__(self, app, url, root):
        try:
            from whitenoise import WhiteNoise
        except ImportError:
            raise _w.ConfigError(
                "WARPDRIVE_STATIC_URL is set but whitenoise is not installed; "
                "run `pip install whitenoise` (or add it to requirements.txt)"
            )
        self.app = app
        root = os.path.join(os.getcwd(), root)
        prefix = "/" + url.strip("/") + "/" if url.strip("/") else "/"
        self.files = WhiteNoise(None, root=root, prefix=prefix).files

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        static_file = self.files.get(scope.get("path", ""))
        if static_file is None:
            return await self.app(scope, receive, send)
        environ, _ = scope_environ(scope)
        response = static_file.get_response(scope.get("method", "GET"), environ)
        await send(
            {
                "type": "http.response.start",
                "status": int(response.status),
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
                ],
            }
        )
        if response.file is None:
            return await send({"type": "http.response.body", "body": b""})
        with response.file as f:
            while True:
                chunk = f.read(_CHUNK)
                more = len(chunk) == _CHUNK
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break


def build(environ=None):
    """The wrapped ASGI application for the given configuration environment."""
    env = os.environ if environ is None else environ
    target = env.get("WARPDRIVE_ASGI_TARGET", "").strip()
    if not target:
        raise _w.ConfigError("WARPDRIVE_ASGI_TARGET is not set; set it to module:callable")
    app = _w.load_target(target, origin="WARPDRIVE_ASGI_TARGET")
    static_url = env.get("WARPDRIVE_STATIC_URL", "").strip()
    static_root = env.get("WARPDRIVE_STATIC_ROOT", "").strip()
    if static_url and static_root:
        app = StaticFilesASGI(app, static_url, static_root)
    headers = [h for h in env.get("WARPDRIVE_TRUST_PROXY_HEADERS", "").split(",") if h.strip()]
    proxies = _w.parse_networks(env.get("WARPDRIVE_TRUST_PROXY", ""))
    app = ProxyHeadersASGI(app, headers, proxies)
    for name in app.unknown:
        sys.stderr.write(
            "warpdrive_asgi: warning: %s is not a proxy header mod_wsgi understands; ignoring it\n"
            % name
        )
    return app


try:
    application = build()
except _w.ConfigError as e:
    _w.fail(str(e))
