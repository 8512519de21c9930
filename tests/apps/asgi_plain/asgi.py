# A plain ASGI callable: no framework.
async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    body = "plain asgi %s %s" % (scope["client"][0], scope["scheme"])
    if scope["path"] == "/host":
        body = dict(scope["headers"]).get(b"host", b"").decode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
    )
    await send({"type": "http.response.body", "body": body.encode()})
