"""Developer tasks: ``nox -s tests lint typecheck`` before every push; ``nox -s demo`` to try it."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "generate"]
nox.options.default_venv_backend = "venv"
# Reused between runs: a second `nox -s demo` starts in seconds. Safe because every session
# still runs pip, which installs whatever pyproject.toml gained since; `nox -R` is faster yet
# (no install), `nox --no-reuse-existing-virtualenvs` starts afresh.
nox.options.reuse_existing_virtualenvs = True

DEV = ".[dev]"
#: The tests include the real llama.cpp engine (its first install compiles llama.cpp), the
#: batch runner's progress bar and the Ray Data adapter.
TESTS = ".[dev,server,cli,ray,mcp,images]"


def install(session: nox.Session, spec: str) -> None:
    """``pip install -e spec``, saying what a long llama.cpp build is doing while it runs."""
    session.run("python", "tools/install_with_progress.py", "-e", spec)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest arguments after --)."""
    install(session, TESTS)
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
    install(session, TESTS)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: talk to LM Studio, or to the embedded local server if none answers."""
    install(session, ".[server]")
    session.run("python", "-m", "lmstudio_async.demo", *session.posargs)
