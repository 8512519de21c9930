# A Heroku-style app: it serves on $PORT and knows nothing of warpdrive.
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

import probe


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


make_server("0.0.0.0", int(os.environ["PORT"]), probe.make("heroku"), handler_class=Quiet).serve_forever()
