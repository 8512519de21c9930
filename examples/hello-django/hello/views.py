import json
import os

from django.http import HttpResponse, JsonResponse

from . import message


def index(request):
    return HttpResponse(message.TEXT + "\n", content_type="text/plain")


def env(request):
    """What the WSGI server passed in: used to check proxy-header handling."""
    keys = ("REMOTE_ADDR", "SERVER_PORT", "SERVER_NAME", "wsgi.url_scheme")
    data = {k: request.META.get(k) for k in keys}
    data.update({k: v for k, v in request.META.items() if k.startswith("HTTP_")})
    data["pid"] = os.getpid()
    return JsonResponse(data)
