from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse("django " + settings.GREETING, content_type="text/plain")


urlpatterns = [path("", index)]
