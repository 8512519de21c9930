# An application factory, as Flask's tutorial writes it: no module-level app.
from flask import Flask, request


def create_app(config="production"):
    app = Flask(__name__)

    @app.route("/")
    def index():
        return "flask factory " + config

    @app.route("/remote")
    def remote():
        return "%s %s" % (request.remote_addr, request.scheme)

    return app
