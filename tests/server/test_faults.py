"""Fault injection: parsing fault specs, and what each fault does to clients."""

from __future__ import annotations

import time

import aiohttp
import anyio
import pytest

from lmstudio_async.server import FaultPlan
from lmstudio_async.server.faults import FaultSpecError

from .scripted import PREDICT_FRAGMENTS, scripted_server
from .wire import open_socket

pytestmark = pytest.mark.anyio


def test_cli_specs_are_parsed() -> None:
    plan = FaultPlan.from_specs(
        ["close-after-fragments=5", "delay:system/version=2.5", "fail:llm/tokenize=Boom = bad"]
    )
    assert plan.close_after_fragments == 5
    assert plan.delays == {"system/version": 2.5}
    assert plan.failures == {"llm/tokenize": "Boom = bad"}


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("close-after-fragments", "no '=VALUE'"),
        ("close-after-fragments=-1", ">= 0"),
        ("close-after-fragments=many", "integer"),
        ("delay:version=1", "NAMESPACE/ENDPOINT"),
        ("delay:system/version=soon", "seconds"),
        ("delay:system/version=nan", "finite"),
        ("fail:llm/predict=", "title"),
        ("explode:llm/predict=1", "unknown fault"),
    ],
)
def test_bad_cli_specs_are_explained(spec: str, complaint: str) -> None:
    with pytest.raises(FaultSpecError, match=complaint):
        FaultPlan.from_specs([spec])


def test_json_plan_is_parsed_and_validated() -> None:
    plan = FaultPlan.from_json(
        {
            "closeAfterFragments": 3,
            "delays": {"llm/predict": 1},
            "failures": {"a/b": "X"},
            "toolCalls": "malformed",
        }
    )
    assert plan.to_json() == {
        "closeAfterFragments": 3,
        "delays": {"llm/predict": 1.0},
        "failures": {"a/b": "X"},
        "toolCalls": "malformed",
    }
    assert FaultPlan.from_json({}).to_json() == FaultPlan().to_json()
    bad: object
    for bad in (
        [],
        {"closeAfterFragments": "3"},
        {"delays": {"x": 1}},
        {"typo": 1},
        {"toolCalls": "sometimes"},
    ):
        with pytest.raises(FaultSpecError):
            FaultPlan.from_json(bad)


async def test_delay_holds_back_the_endpoint() -> None:
    from lmstudio_async.server import LocalServer

    faults = FaultPlan.from_specs(["delay:system/version=0.4"])
    async with (
        LocalServer(port=0, faults=faults) as server,
        open_socket(server.api_host, "system") as sock,
    ):
        started = time.monotonic()
        await sock.call("getExperimentFlags", call_id=1)
        undelayed = time.monotonic() - started
        started = time.monotonic()
        reply = await sock.call("version", call_id=2)
        delayed = time.monotonic() - started
    assert reply["type"] == "rpcResult"
    assert delayed >= 0.4 > undelayed


async def test_failure_replaces_the_result() -> None:
    from lmstudio_async.server import LocalServer

    faults = FaultPlan.from_specs(["fail:system/version=Boom"])
    async with (
        LocalServer(port=0, faults=faults) as server,
        open_socket(server.api_host, "system") as sock,
    ):
        reply = await sock.call("version")
        other = await sock.call("getExperimentFlags", call_id=2)
    assert reply["type"] == "rpcError"
    assert reply["error"]["title"] == "Boom"
    assert other["type"] == "rpcResult"


async def test_failure_applies_to_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    faults = FaultPlan.from_specs(["fail:llm/predict=No prediction today"])
    async with (
        scripted_server(monkeypatch, faults=faults) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "predict", "channelId": 1})
        reply = await sock.receive()
    assert reply["type"] == "channelError"
    assert reply["error"]["title"] == "No prediction today"


@pytest.mark.parametrize("limit", [0, 3, PREDICT_FRAGMENTS])
async def test_close_after_fragments_drops_the_socket(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    faults = FaultPlan(close_after_fragments=limit)
    async with (
        scripted_server(monkeypatch, faults=faults) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        await sock.send({"type": "channelCreate", "endpoint": "predict", "channelId": 1})
        fragments = 0
        with anyio.fail_after(5):
            while True:
                message = await sock.ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                envelope = message.json()
                assert envelope["type"] == "channelSend", envelope
                assert envelope["message"]["type"] == "fragment", envelope
                fragments += 1
    assert fragments == limit


async def test_close_after_fragments_counts_per_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    faults = FaultPlan(close_after_fragments=PREDICT_FRAGMENTS + 1)
    async with (
        scripted_server(monkeypatch, faults=faults) as (server, _),
        open_socket(server.api_host, "llm") as sock,
    ):
        for channel_id in (1, 2):
            await sock.send(
                {"type": "channelCreate", "endpoint": "predict", "channelId": channel_id}
            )
            messages = await sock.receive_until("channelClose")
            assert messages[-1] == {"type": "channelClose", "channelId": channel_id}


async def test_control_routes_set_and_clear_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        scripted_server(monkeypatch, test_control=True) as (server, _),
        aiohttp.ClientSession() as session,
    ):
        body = {"delays": {"system/version": 0.01}, "failures": {"llm/void": "Nope"}}
        async with session.post(f"{server.url}/lmstudio-test/faults", json=body) as response:
            assert response.status == 200
        async with open_socket(server.api_host, "llm") as sock:
            assert (await sock.call("void"))["error"]["title"] == "Nope"
        async with session.delete(f"{server.url}/lmstudio-test/faults") as response:
            assert await response.json() == FaultPlan().to_json()
        async with open_socket(server.api_host, "llm") as sock:
            assert (await sock.call("void"))["type"] == "rpcResult"
        bad = {"delays": {"no-slash": 1}}
        async with session.post(f"{server.url}/lmstudio-test/faults", json=bad) as response:
            assert response.status == 400
            assert "NAMESPACE/ENDPOINT" in (await response.json())["error"]
