# An app that writes to an SQLite database beside it (Django's default
# db.sqlite3): "/" answers "sqlite app"; "/write" inserts a row and answers
# "wrote N rows", or 500 with SQLite's error (as root on mod_wsgi, Apache's
# account may not be able to write it).
import os
import sqlite3

DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "db.sqlite3")


def application(environ, start_response):
    if environ.get("PATH_INFO") != "/write":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"sqlite app"]
    try:
        with sqlite3.connect(DB) as db:
            db.execute("CREATE TABLE IF NOT EXISTS hits (n INTEGER)")
            db.execute("INSERT INTO hits VALUES (1)")
            count = db.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
        status, body = "200 OK", "wrote %d rows" % count
    except sqlite3.Error as e:
        status, body = "500 Internal Server Error", str(e)
    start_response(status, [("Content-Type", "text/plain")])
    return [body.encode()]
