"""Serve all three fakes until SIGTERM/SIGINT: ``python -m tests.fakes``.

Prints one JSON line, ``{"openai": base_url, "anthropic": base_url, "gemini": base_url}``,
for the demo script to read, then serves.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import orjson

from tests.fakes.server import FakeUpstream

PROTOCOLS = ("openai", "anthropic", "gemini")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    for name in PROTOCOLS:
        parser.add_argument(f"--{name}-port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    fakes = [FakeUpstream(name, port=getattr(args, f"{name}_port")).start() for name in PROTOCOLS]
    try:
        line = orjson.dumps({fake.protocol: fake.base_url for fake in fakes})
        sys.stdout.write(line.decode() + "\n")
        sys.stdout.flush()
        stop.wait()
    finally:
        for fake in fakes:
            fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
