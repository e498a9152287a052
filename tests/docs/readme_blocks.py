"""The README's Python code blocks, and how each one is run as written.

A block is one of:

* a pytest file (it defines ``test_`` functions): run by pytest in a fresh directory;
* a script (it calls ``asyncio.run`` or is blocking code using ``lmstudio_sync``): run as is;
* a fragment of async code (top-level ``await``): run inside a prelude that defines the names
  the README uses around it (``client``, ``llm``, ``embedder``, ``chat``), as a reader would.

A block right after ``<!-- not run: REASON -->`` is skipped, with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

_BLOCK = re.compile(r"(<!-- not run: (?P<reason>.*?) -->\s*)?```python\n(?P<code>.*?)```", re.S)

#: The names README fragments rely on, bound to models of the scripted engine.
FRAGMENT_PRELUDE = """
import ast, asyncio, inspect, sys
import lmstudio_async
from lmstudio_async import *  # noqa: F403


async def main() -> None:
    async with AsyncClient() as client:
        # Not both just in time: a just-in-time load evicts the other, as in LM Studio.
        embedder = await client.embedding.load_new_instance("text-embedding-nomic-embed-text-v1.5")
        llm = await client.llm.model("llama-3.2-1b-instruct")
        chat = Chat("You are a helpful assistant.")
        chat.add_user_message("Hello!")
        namespace = {**globals(), **locals()}
        code = compile(sys.argv[1], "README block", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        outcome = eval(code, namespace)
        if inspect.iscoroutine(outcome):
            await outcome


asyncio.run(main())
"""


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    skip_reason: str | None

    @property
    def kind(self) -> str:
        if re.search(r"^(async )?def test_", self.code, re.M):
            return "pytest"
        if "asyncio.run(" in self.code or not re.search(r"\bawait |\basync (with|for) ", self.code):
            return "script"
        return "fragment"

    @property
    def id(self) -> str:
        return f"line-{self.line}-{self.kind}"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, m.start("code")) + 1, m.group("code"), m.group("reason"))
        for m in _BLOCK.finditer(text)
    ]
