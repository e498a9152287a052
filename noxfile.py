"""Developer tasks: ``nox -s tests lint typecheck`` before every push; ``nox -s demo`` to try it."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "generate"]
nox.options.default_venv_backend = "venv"

DEV = ".[dev]"
#: The tests include the real llama.cpp engine (its first install compiles llama.cpp), the
#: batch runner's progress bar and the Ray Data adapter.
TESTS = ".[dev,server,cli,ray]"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest arguments after --)."""
    session.install("-e", TESTS)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("-e", DEV)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over both packages and the tests."""
    session.install("-e", DEV)
    session.run("mypy", "--strict")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate lmstudio_sync from lmstudio_async; ``-- --check`` only verifies it is current."""
    session.install("-e", DEV)
    session.run("python", "tools/generate_sync.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks, side by side in one run; results land in benchmarks/README.md."""
    session.install("-e", TESTS)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: talk to LM Studio, or to the embedded local server if none answers."""
    session.install("-e", ".[server]")
    session.run("python", "-m", "lmstudio_async.demo", *session.posargs)
