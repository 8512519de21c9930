# Flask's convention: the WSGI callable is `app`, there is no `application`.
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "flask app"
