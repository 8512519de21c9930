# A plain WSGI callable named `app`, no framework.
import probe

app = probe.make("plain app")
