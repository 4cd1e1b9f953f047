"""limits.max_body_bytes, measured after decompression: a decompression bomb is a 413 in
the caller's format, and the gateway's memory stays bounded while it says so."""

from __future__ import annotations

import zlib
from pathlib import Path

import httpx
import pytest

from tests.harness import CALLER_KEY

EXPANDED = 256 * 1024 * 1024  # 8 times the default 32 MiB limit


def gzip_bomb() -> bytes:
    """About 250 KB of gzip that expands to 256 MB of JSON-looking bytes."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    head = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "'
    out = [packer.compress(head)]
    zeros = b"0" * (1 << 20)
    out += [packer.compress(zeros) for _ in range(EXPANDED >> 20)]
    out.append(packer.flush())
    return b"".join(out)


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    pytest.skip("no /proc/<pid>/status on this platform")


def test_a_gzip_bomb_is_a_413_and_memory_stays_bounded(gateway):
    bomb = gzip_bomb()
    assert len(bomb) < 1024 * 1024
    before = peak_rss_kb(gateway.process.pid)
    headers = {"content-encoding": "gzip", "authorization": f"Bearer {CALLER_KEY}"}
    answer = httpx.post(
        f"{gateway.url}/anthropic/v1/messages", content=bomb, headers=headers, timeout=60
    )
    assert answer.status_code == 413
    body = answer.json()
    assert body["type"] == "error" and "limit" in body["error"]["message"]
    growth_mb = (peak_rss_kb(gateway.process.pid) - before) / 1024
    # Decoding the whole 256 MB bomb (the old behaviour) grows the peak by 500 MB or more.
    assert growth_mb < 150, f"peak memory grew {growth_mb:.0f} MB decoding a bomb"


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/gemini/v1beta/models/g:generateContent"]
)
def test_an_oversized_plain_body_is_a_413_in_each_format(gateway, path):
    big = b'{"model": "gpt-4o", "messages": [], "pad": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    answer = httpx.post(f"{gateway.url}{path}", content=big, timeout=60)
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]["message"]
