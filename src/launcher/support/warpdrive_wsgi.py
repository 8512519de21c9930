"""WSGI wrapper written by `warpdrive exec` for gunicorn, waitress and uWSGI.

The server loads ``warpdrive_wsgi:application``. It imports the app named by
``WARPDRIVE_WSGI_TARGET`` and wraps it, outermost first:

1. trusted proxy headers, exactly as mod_wsgi-express's ``--trust-proxy-header``
   and ``--trust-proxy`` do (observed with mod_wsgi 6.1.1; see below), when
   ``WARPDRIVE_TRUST_PROXY_HEADERS`` is set;
2. WhiteNoise serving ``WARPDRIVE_STATIC_ROOT`` under ``WARPDRIVE_STATIC_URL``,
   when both are set;
3. the app.

Environment:

``WARPDRIVE_WSGI_TARGET``
    ``module:callable`` or ``module`` (callable ``application``); the
    callable may be dotted (``module:obj.attr``), or a factory call with
    literal arguments (``module:create_app()``, ``module:make('prod')``),
    called once at start-up: the app is what it returns. The working directory (the
    app root) is put on ``sys.path``.
``WARPDRIVE_STATIC_URL``, ``WARPDRIVE_STATIC_ROOT``
    URL prefix and directory (relative to the working directory) of the
    static files.
``WARPDRIVE_TRUST_PROXY_HEADERS``
    Comma list of trusted headers, e.g. ``X-Forwarded-For,X-Forwarded-Proto``.
``WARPDRIVE_TRUST_PROXY``
    Comma or space list of peer addresses or CIDRs allowed to send them.
    Unset or empty: any peer, as mod_wsgi.

Proxy headers, as mod_wsgi does them. The known headers fall in families:

============  ===========================================================
family        headers (in environ form, ``HTTP_`` prefix dropped)
============  ===========================================================
client        X_FORWARDED_FOR, X_CLIENT_IP, X_REAL_IP      -> REMOTE_ADDR
host          X_FORWARDED_HOST, X_HOST                     -> HTTP_HOST
server        X_FORWARDED_SERVER                           -> SERVER_NAME
port          X_FORWARDED_PORT                             -> SERVER_PORT
script name   X_SCRIPT_NAME, X_FORWARDED_SCRIPT_NAME       -> SCRIPT_NAME
scheme        X_FORWARDED_PROTO, X_FORWARDED_SCHEME, X_SCHEME (http/https),
              X_FORWARDED_HTTPS, X_FORWARDED_SSL, X_HTTPS (on/off, true/false,
              1/0)                                      -> wsgi.url_scheme
============  ===========================================================

* A family is *claimed* when one of its headers is trusted. Families that
  are not claimed are left alone, and so are headers mod_wsgi does not know
  (``Forwarded``, ``X-Url-Scheme``, ``X-Forwarded-Prefix``, ...): a
  trusted ``Forwarded`` does nothing, with a warning at start-up.
* Peer not in ``WARPDRIVE_TRUST_PROXY`` (a list is set, the peer is not in
  it): no header of ``PROXY_FAMILY`` reaches the app, trusted or not, known
  to mod_wsgi or not (X-Forwarded-Prefix, -By, -Protocol, Forwarded,
  X-Url-Scheme, Front-End-Https, HTTPS, ...); REMOTE_ADDR, scheme, host and
  port stay as the server set them. (Stricter than mod_wsgi, which keeps the
  unclaimed families; for mod_wsgi the launcher unsets the same list in
  Apache.)
* Peer trusted (or no peer list): each trusted header present is applied,
  in the order given; the last one applied in a family stays in environ and
  the others of that family are removed.
* X-Forwarded-For without a peer list: REMOTE_ADDR becomes the first
  non-empty element; the header stays as sent. With a peer list: walking
  from the right, trusted proxies are skipped; REMOTE_ADDR becomes the
  element just left of the leftmost trusted one reached (the first element
  if all are trusted), and the header is rewritten to the elements from
  there on, joined by ", ". If the rightmost element is not a trusted proxy,
  both become that element. A non-IP element stops the walk.
* ``wsgi.url_scheme`` changes only for the values above (``X-Forwarded-Proto:
  ftp`` changes nothing); no ``HTTPS`` key is added, as with mod_wsgi.
* SERVER_NAME is not derived from X-Forwarded-Host (only HTTP_HOST is).

Server options the launcher must use with this module (the tests do):

* gunicorn: ``--forwarded-allow-ips ''``. Otherwise gunicorn applies its own
  scheme headers for 127.0.0.1 and answers 400 to contradictory ones
  (``X-Forwarded-Proto: ftp`` with ``X-Forwarded-SSL: on``) before any app
  runs. (A scheme it set is undone here anyway, see ``transport_scheme``.)
* waitress: ``--no-clear-untrusted-proxy-headers``. Otherwise waitress
  deletes X-Forwarded-For/-Host/-Proto/-Port/-By and Forwarded before the
  app sees them, so trusted headers could not work.
* uWSGI: ``--need-app``, so that a configuration error stops the server
  instead of leaving it serving "no python application found".

Malformed requests: a header name that is not letters, digits and dashes
(``X-Forwarded-For `` with a trailing space reaches uWSGI's environ as
``HTTP_X_FORWARDED_FOR ``) or a control character such as NUL in a value
gets 400 Bad Request, as gunicorn, waitress and Apache answer themselves.

Underscores: gunicorn, waitress and Apache drop a header whose name has an
``_`` (``X_Forwarded_For`` would otherwise be read as X-Forwarded-For).
uWSGI cannot: its HTTP parser turns ``-`` into ``_`` and joins the copies of
one name into one ``HTTP_X_FORWARDED_FOR`` (``"evil, real"``, in arrival
order) before any Python runs, and no uWSGI option or routing rule sees the
spellings apart. Here, under uWSGI, a trusted header other than
X-Forwarded-For whose value holds a comma (two copies arrived) is not
applied and removed; X-Forwarded-For, walked from the right with
``WARPDRIVE_TRUST_PROXY``, resists a client's copy that arrives before the
proxy's value but not one that arrives after it or alone: the proxy must
drop underscore names (nginx does by default). See the README.

For an ASGI twin: ``ProxyHeaders(app, headers, proxies).fix(environ)`` and
``malformed(environ)`` work on any dict in WSGI environ form (``REMOTE_ADDR``,
``HTTP_*`` keys, ``wsgi.url_scheme``), so a scope can be mapped to one, fixed,
and mapped back.

Difference: mod_wsgi resolves host names in X-Forwarded-For against the
peer list; here a non-IP element is simply not a trusted proxy.
"""

import ast
import importlib
import ipaddress
import os
import re
import sys

__all__ = ["application", "ProxyHeaders", "load_target", "malformed", "PROXY_FAMILY"]

# Every header of the proxy family: none reaches the app from a peer outside
# WARPDRIVE_TRUST_PROXY. The launcher holds the same list (launcher::proxy::
# PROXY_FAMILY, checked by a test) and unsets it in Apache for mod_wsgi.
PROXY_FAMILY = (
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Server",
    "X-Forwarded-By",
    "X-Forwarded-Protocol",
    "X-Forwarded-Ssl",
    "X-Forwarded-Scheme",
    "X-Forwarded-HTTPS",
    "X-Forwarded-Script-Name",
    "Forwarded",
    "X-Real-IP",
    "X-Client-IP",
    "X-Host",
    "X-Scheme",
    "X-HTTPS",
    "X-Url-Scheme",
    "Front-End-Https",
    "X-Script-Name",
    "HTTPS",
)

# What a header name must not hold: whitespace (``X-Forwarded-For :``) and
# control characters; HTTP/1.1 servers answer 400 to both.
_BAD_NAME = re.compile(r"[\s\x00-\x1f\x7f]")
# Control characters a header value must not hold (tab is allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# environ key -> (family, how the value is applied)
REGISTRY = {
    "HTTP_X_FORWARDED_FOR": ("client", "forwarded_for"),
    "HTTP_X_CLIENT_IP": ("client", "remote_addr"),
    "HTTP_X_REAL_IP": ("client", "remote_addr"),
    "HTTP_X_FORWARDED_HOST": ("host", "http_host"),
    "HTTP_X_HOST": ("host", "http_host"),
    "HTTP_X_FORWARDED_SERVER": ("server", "server_name"),
    "HTTP_X_FORWARDED_PORT": ("port", "server_port"),
    "HTTP_X_SCRIPT_NAME": ("script_name", "script_name"),
    "HTTP_X_FORWARDED_SCRIPT_NAME": ("script_name", "script_name"),
    "HTTP_X_FORWARDED_PROTO": ("scheme", "scheme_word"),
    "HTTP_X_FORWARDED_SCHEME": ("scheme", "scheme_word"),
    "HTTP_X_SCHEME": ("scheme", "scheme_word"),
    "HTTP_X_FORWARDED_HTTPS": ("scheme", "scheme_flag"),
    "HTTP_X_FORWARDED_SSL": ("scheme", "scheme_flag"),
    "HTTP_X_HTTPS": ("scheme", "scheme_flag"),
}


class ConfigError(Exception):
    """Bad WARPDRIVE_* configuration; the message is one line."""


def fail(message):
    """Print one line on stderr and stop the server from loading the app."""
    sys.stderr.write("warpdrive_wsgi: error: %s\n" % message)
    sys.stderr.flush()
    raise SystemExit(2)


def environ_key(header):
    """``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR``."""
    return "HTTP_" + header.strip().upper().replace("-", "_")


def parse_networks(text, origin="WARPDRIVE_TRUST_PROXY"):
    """Addresses and CIDRs, separated by commas or spaces; None if empty."""
    words = text.replace(",", " ").split()
    if not words:
        return None
    networks = []
    for word in words:
        try:
            networks.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            raise ConfigError(
                "%s: %r is not an IP address or CIDR (example: 10.0.0.0/8,192.168.1.5)"
                % (origin, word)
            )
    return networks


FAMILY_KEYS = tuple("HTTP_" + h.upper().replace("-", "_") for h in PROXY_FAMILY)


def malformed(environ):
    """The first ``HTTP_*`` key whose name or value no HTTP/1.1 server would
    accept (see the module docstring), or None."""
    for key, value in environ.items():
        if not key.startswith("HTTP_"):
            continue
        if _BAD_NAME.search(key):
            return key
        if isinstance(value, str) and _CONTROL.search(value):
            return key
    return None


def transport_scheme(environ):
    """The scheme of the connection itself, where the server may already have
    changed ``wsgi.url_scheme`` from request headers: uWSGI does so for
    ``X-Forwarded-Proto``/``X-Forwarded-SSL`` from any peer, gunicorn for
    peers in its ``--forwarded-allow-ips`` (127.0.0.1 by default). None for
    servers that leave it alone (waitress without ``--trusted-proxy``)."""
    if "uwsgi.version" in environ:
        return "https" if environ.get("HTTPS", "").lower() in ("on", "1") else "http"
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        import ssl

        return "https" if isinstance(sock, ssl.SSLSocket) else "http"
    return None


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class ProxyHeaders(object):
    """WSGI middleware applying trusted proxy headers the way mod_wsgi does."""

    def __init__(self, app, headers, trusted_proxies=None):
        self.app = app
        self.trusted = [environ_key(h) for h in headers if h.strip()]
        self.proxies = trusted_proxies
        self.unknown = [h.strip() for h in headers if h.strip() and environ_key(h) not in REGISTRY]
        self.claimed = sorted({REGISTRY[k][0] for k in self.trusted if k in REGISTRY})

    def is_trusted_ip(self, addr):
        if addr is None:
            return False
        candidates = [addr]
        mapped = getattr(addr, "ipv4_mapped", None)
        if mapped is not None:
            candidates.append(mapped)
        return any(a in net for a in candidates for net in self.proxies if a.version == net.version)

    def peer_trusted(self, environ):
        if self.proxies is None:
            return True
        return self.is_trusted_ip(_ip(environ.get("REMOTE_ADDR", "")))

    def forwarded_for(self, environ, value):
        items = [i.strip() for i in value.split(",")]
        items = [i for i in items if i]
        if not items:
            return
        if self.proxies is None:
            environ["REMOTE_ADDR"] = items[0]
            return
        first = -1
        for i in range(len(items) - 1, -1, -1):
            if not self.is_trusted_ip(_ip(items[i])):
                break
            first = i
        if first >= 0:
            i = max(first - 1, 0)
            environ["REMOTE_ADDR"] = items[i]
            environ["HTTP_X_FORWARDED_FOR"] = ", ".join(items[i:])
        else:
            environ["REMOTE_ADDR"] = items[-1]
            environ["HTTP_X_FORWARDED_FOR"] = items[-1]

    def fix(self, environ):
        """Rewrites ``environ`` in place (exposed for tests)."""
        transport = transport_scheme(environ)
        if self.proxies is not None and not self.peer_trusted(environ):
            for key in FAMILY_KEYS:
                environ.pop(key, None)
            if transport:
                environ["wsgi.url_scheme"] = transport
            return environ
        if not self.claimed:
            if "uwsgi.version" in environ and transport:
                environ["wsgi.url_scheme"] = transport
            return environ
        trusted_peer = self.peer_trusted(environ)
        if transport:
            environ["wsgi.url_scheme"] = transport
        https = environ.get("wsgi.url_scheme") == "https"
        scheme_applied = False
        winners = {}
        for key in self.trusted:
            entry = REGISTRY.get(key)
            if entry is None or not trusted_peer or key not in environ:
                continue
            family, how = entry
            value = environ[key]
            if "uwsgi.version" in environ and how != "forwarded_for" and "," in value:
                # uWSGI merged several copies (X-Forwarded-Host and
                # X_Forwarded_Host look the same to it): none is applied.
                environ.pop(key, None)
                continue
            if how == "forwarded_for":
                self.forwarded_for(environ, value)
            elif how == "remote_addr":
                environ["REMOTE_ADDR"] = value
            elif how == "http_host":
                environ["HTTP_HOST"] = value
            elif how == "server_name":
                environ["SERVER_NAME"] = value
            elif how == "server_port":
                environ["SERVER_PORT"] = value
            elif how == "script_name":
                environ["SCRIPT_NAME"] = value
            elif how == "scheme_word":
                if value.lower() == "https":
                    https = True
                elif value.lower() == "http":
                    https = False
                scheme_applied = True
            elif how == "scheme_flag":
                if value.lower() in ("on", "true", "1"):
                    https = True
                elif value.lower() in ("off", "false", "0"):
                    https = False
                scheme_applied = True
            winners[family] = key
        if scheme_applied:
            environ["wsgi.url_scheme"] = "https" if https else "http"
        for key, (family, _) in REGISTRY.items():
            if family in self.claimed and winners.get(family) != key:
                environ.pop(key, None)
        return environ

    def __call__(self, environ, start_response):
        if malformed(environ) is not None:
            body = b"Bad Request: malformed header\n"
            start_response(
                "400 Bad Request",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.app(self.fix(environ), start_response)


def _parse_target(target, origin="WARPDRIVE_WSGI_TARGET"):
    """``module:expr`` -> (module, attribute path, call) where ``expr`` is a
    dotted name, optionally called with literal arguments, as gunicorn
    allows (``create_app()``, ``create_app('prod', debug=False)``); ``call``
    is None or (args, kwargs)."""
    module_name, _, expr = target.partition(":")
    module_name, expr = module_name.strip(), (expr.strip() or "application")
    if not module_name:
        raise ConfigError("%s is empty; set it to module:callable" % origin)

    def bad(why):
        return ConfigError(
            "%s=%s: %s; write module:callable or module:factory(literal, ...)"
            % (origin, target, why)
        )

    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise bad("%r is not a name or a call" % expr)
    call = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = dict((k.arg, ast.literal_eval(k.value)) for k in node.keywords)
        except ValueError:
            raise bad("a factory's arguments must be literals")
        if any(k is None for k in kwargs):
            raise bad("**kwargs is not allowed")
        call = (args, kwargs)
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise bad("%r is not a name or a call" % expr)
    parts.insert(0, node.id)
    return module_name, parts, call


def load_target(target, cwd=None, origin="WARPDRIVE_WSGI_TARGET"):
    """Imports ``module:callable`` (callable defaults to ``application``);
    a factory (``module:create_app()``) is called first and its result is
    the app."""
    cwd = cwd or os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module_name, parts, call = _parse_target(target, origin)
    attr = ".".join(parts)
    module = importlib.import_module(module_name)
    obj = module
    for part in parts:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(
                "%s=%s: module %s has no %s; set module:callable"
                % (origin, target, module_name, attr)
            )
    if not callable(obj):
        raise ConfigError("%s=%s: %s is not callable" % (origin, target, attr))
    if call is not None:
        obj = obj(*call[0], **call[1])
        if not callable(obj):
            raise ConfigError(
                "%s=%s: the factory %s returned %s, not an application"
                % (origin, target, attr, type(obj).__name__)
            )
    return obj


def wrap_static(app, url, root):
    try:
        from whitenoise import WhiteNoise
    except ImportError:
        raise ConfigError(
            "WARPDRIVE_STATIC_URL is set but whitenoise is not installed; "
            "run `pip install whitenoise` (or add it to requirements.txt)"
        )
    root = os.path.join(os.getcwd(), root)
    prefix = "/" + url.strip("/") + "/" if url.strip("/") else "/"
    return WhiteNoise(app, root=root, prefix=prefix)


def build(environ=None):
    """The wrapped application for the given configuration environment."""
    env = os.environ if environ is None else environ
    target = env.get("WARPDRIVE_WSGI_TARGET", "").strip()
    if not target:
        raise ConfigError("WARPDRIVE_WSGI_TARGET is not set; set it to module:callable")
    app = load_target(target)
    static_url = env.get("WARPDRIVE_STATIC_URL", "").strip()
    static_root = env.get("WARPDRIVE_STATIC_ROOT", "").strip()
    if static_url and static_root:
        app = wrap_static(app, static_url, static_root)
    headers = [h for h in env.get("WARPDRIVE_TRUST_PROXY_HEADERS", "").split(",") if h.strip()]
    proxies = parse_networks(env.get("WARPDRIVE_TRUST_PROXY", ""))
    # Always wrapped: with no trusted header it only undoes uWSGI's own
    # (unconditional) X-Forwarded-Proto/-SSL handling.
    app = ProxyHeaders(app, headers, proxies)
    for name in app.unknown:
        sys.stderr.write(
            "warpdrive_wsgi: warning: %s is not a proxy header mod_wsgi understands; ignoring it\n"
            % name
        )
    return app


# warpdrive_asgi imports this module for ProxyHeaders and builds its own app.
if not os.environ.get("WARPDRIVE_ASGI_TARGET", "").strip():
    try:
        application = build()
    except ConfigError as e:
        fail(str(e))
