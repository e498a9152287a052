"""``python -m lmstudio_async.demo``: talk to LM Studio, or to an embedded local server.

Uses a running LM Studio if one answers on this machine (or at ``--host``);
otherwise starts the LM Studio-compatible local server in-process and uses that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator

from . import AsyncClient
from .server import LocalServer


@contextlib.asynccontextmanager
async def lmstudio_or_local_server(host: str | None, engine: str) -> AsyncIterator[str]:
    """Yield the ``host:port`` of LM Studio if it answers, else of an embedded local server."""
    if host is not None:
        yield host
        return
    found = await AsyncClient.find_default_local_api_host()
    if found is not None:
        print(f"Using LM Studio at {found}")
        yield found
        return
    async with LocalServer(port=0, engine=engine) as server:
        print(
            f"No LM Studio found; started the local server ({engine} engine) at {server.api_host}"
        )
        yield server.api_host


async def run(host: str | None, engine: str) -> None:
    async with lmstudio_or_local_server(host, engine) as api_host, AsyncClient(api_host) as client:
        version = await client.system.version()
        print(f"Server reports LM Studio {version.version} (build {version.build})\n")
        print("Downloaded models:")
        for model in await client.list_downloaded_models():
            info = model.info
            params, size = info.params_string or "", info.size_bytes / 1e9
            print(f"  {model.model_key:<44} {model.type:<9} {params:>5} {size:6.2f} GB")
        loaded = await client.list_loaded_models()
        print(f"\nLoaded instances: {', '.join(m.identifier for m in loaded) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="host:port of an LM Studio server (default: discover)")
    parser.add_argument("--engine", default="scripted", help="engine of the embedded server")
    args = parser.parse_args()
    asyncio.run(run(args.host, args.engine))


if __name__ == "__main__":
    main()
