"""The probe every test app shape answers with (tests/apps/README.md).

``/`` answers ``NAME`` (what the shape calls ``make``), ``/env/VAR`` the
process environment's ``VAR`` (``<unset>`` when missing), ``/cwd`` the
working directory, ``/environ`` the WSGI environ's proxy-related keys as
JSON.
"""
import json
import os


def make(name):
    def application(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path.startswith("/env/"):
            body = os.environ.get(path[len("/env/"):], "<unset>")
        elif path == "/cwd":
            body = os.getcwd()
        elif path == "/environ":
            keep = ("REMOTE_ADDR", "SERVER_PORT", "SERVER_NAME", "HTTPS", "wsgi.url_scheme")
            data = {k: v for k, v in environ.items() if k in keep or k.startswith("HTTP_")}
            body = json.dumps(data, sort_keys=True)
        else:
            body = name
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body.encode()]

    return application
