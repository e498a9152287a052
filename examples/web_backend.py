"""An async web backend: one AsyncClient for the app's lifetime, shared by every request.

Run it as a server with ``python web_backend.py --serve``; by default it starts on a
free port, asks itself one question over HTTP, prints the answer and exits.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from lmstudio_async import AsyncClient, LMStudioError

CLIENT = web.AppKey("client", AsyncClient)


async def lmstudio_client(app: web.Application) -> AsyncIterator[None]:
    async with AsyncClient() as client:  # closed, sockets and all, when the app stops
        app[CLIENT] = client
        yield


async def ask(request: web.Request) -> web.Response:
    body = await request.json()
    try:
        llm = await request.app[CLIENT].llm.model("llama-3.2-1b-instruct")
        result = await llm.respond(body["question"], config={"maxTokens": 60}, timeout=30)
    except LMStudioError as error:
        return web.json_response({"error": str(error)}, status=502)
    return web.json_response(
        {"answer": result.content, "tokens": result.stats.predicted_tokens_count}
    )


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(lmstudio_client)
    app.router.add_post("/ask", ask)
    return app


async def ask_myself() -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/ask", json={"question": "Why is the sky blue?"}
        ) as r,
    ):
        print(r.status, await r.json())
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help="serve on port 8080 until Ctrl-C")
    if parser.parse_args().serve:
        web.run_app(make_app(), port=8080)
    else:
        asyncio.run(ask_myself())
