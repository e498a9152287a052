"""Test-control routes (``/lmstudio-test/*``): fault injection, request log, reset.

Registered only when the server runs with ``test_control`` (CLI ``--test-control``);
otherwise these paths answer 404 like any unknown path.
"""

from __future__ import annotations

import json

from aiohttp import web

from .faults import FaultPlan, FaultSpecError
from .state import ServerState

__all__ = ["add_control_routes"]


def add_control_routes(app: web.Application, state: ServerState) -> None:
    routes = _ControlRoutes(state)
    app.router.add_post("/lmstudio-test/faults", routes.set_faults)
    app.router.add_get("/lmstudio-test/faults", routes.get_faults)
    app.router.add_delete("/lmstudio-test/faults", routes.clear_faults)
    app.router.add_get("/lmstudio-test/requests", routes.get_requests)
    app.router.add_delete("/lmstudio-test/requests", routes.clear_requests)
    app.router.add_post("/lmstudio-test/reset", routes.reset)


class _ControlRoutes:
    def __init__(self, state: ServerState) -> None:
        self._state = state

    async def set_faults(self, request: web.Request) -> web.Response:
        """Replace the fault plan with the one in the body (absent keys: no such fault)."""
        try:
            plan = FaultPlan.from_json(await request.json())
        except json.JSONDecodeError as exc:
            return _bad_request(f"the body is not JSON: {exc}")
        except RecursionError:
            return _bad_request("the body is nested too deeply")
        except FaultSpecError as exc:
            return _bad_request(str(exc))
        self._state.faults.replace(plan)
        return web.json_response(self._state.faults.to_json())

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self._state.faults.to_json())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self._state.faults.clear()
        return web.json_response(self._state.faults.to_json())

    async def get_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self._state.requests.entries())

    async def clear_requests(self, request: web.Request) -> web.Response:
        self._state.requests.clear()
        return web.json_response([])

    async def reset(self, request: web.Request) -> web.Response:
        """Back to a fresh server: nothing loaded, no faults, empty request log, no flags."""
        await self._state.models.reset()
        forget_downloads = getattr(self._state.models.engine, "forget_downloads", None)
        if forget_downloads is not None:  # simulated downloads (scripted engine)
            forget_downloads()
        self._state.faults.clear()
        self._state.requests.clear()
        self._state.experiment_flags.clear()
        return web.json_response({"reset": True})


def _bad_request(text: str) -> web.Response:
    return web.json_response({"error": text}, status=400)
