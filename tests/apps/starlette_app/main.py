# A Starlette app in main.py (FastAPI's layout): `app`, and a factory.
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


def create_app(name="factory"):
    async def index(request):
        return PlainTextResponse("starlette %s %s %s" % (name, request.client.host, request.url.scheme))

    return Starlette(routes=[Route("/", index)])


app = create_app("app")
