"""mitmweb in a real browser: a call made with the Anthropic SDK to a GPT model, opened
in mitmweb's page, shows the gateway's comment, the caller's original request and the
request the gateway sent, as a user sees them.

Debian's ``chromium`` driven by the ``playwright`` package (its own browser downloads
are never used: ``.ci/run`` installs chromium with apt). Without either, the test skips
and says what to install. With ``GW_SCREENSHOT=PATH`` the page is saved there as the
test sees it (``docs/mitmweb-flow.png`` was made so, see docs/debugging.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import version

from tests.e2e.clients import anthropic_client
from tests.harness import GEMINI_KEY, OPENAI_KEY, ROOT, STARTED, Gateway, free_port

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.access(p, os.X_OK)),
    None,
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# mitmweb asks for a password from mitmproxy 11.1 on (web_password; a random token when
# none is set); 11.0 has no such option.
HAS_WEB_PASSWORD = tuple(int(x) for x in version.VERSION.split(".")[:2]) >= (11, 1)

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or sync_playwright is None,
    reason="the browser test needs Debian's chromium (apt-get install -y chromium) and the "
    "playwright package (pip install playwright; its own browsers are not needed)",
)


class Mitmweb(Gateway):
    web_url: str = ""


@pytest.fixture
def mitmweb(rules_path: Path, tmp_path: Path) -> Iterator[Mitmweb]:
    port, web_port = free_port(), free_port()
    password = secrets.token_hex(8)
    log_path = tmp_path / "mitmweb.log"
    flows_path = log_path.with_suffix(".flows")
    auth = ["--set", f"web_password={password}"] if HAS_WEB_PASSWORD else []
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mitmweb"),
            "-s",
            str(ROOT / "addons" / "gateway.py"),
            "--set",
            f"rules={rules_path}",
            "--set",
            "web_open_browser=false",
            "--set",
            f"save_stream_file={flows_path}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(port),
            "--web-host",
            "127.0.0.1",
            "--web-port",
            str(web_port),
            *auth,
        ],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ, GW_TEST_OPENAI_KEY=OPENAI_KEY, GW_TEST_GEMINI_KEY=GEMINI_KEY),
        cwd=ROOT,
    )
    web = Mitmweb(f"http://127.0.0.1:{port}", port, process, log_path, flows_path)
    web.web_url = f"http://127.0.0.1:{web_port}/" + (f"?token={password}" if auth else "")
    STARTED.append(web)  # audited for keys with every other gateway of the run
    try:
        _wait_listening(process, log_path, port, web_port)
        yield web
    finally:
        web.stop()


def _wait_listening(process: subprocess.Popen, log_path: Path, *ports: int) -> None:
    deadline = time.monotonic() + 30
    for port in ports:
        while True:
            if process.poll() is not None:
                pytest.fail(f"mitmweb exited:\n{log_path.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mitmweb did not listen:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.05)


def test_a_translated_call_is_readable_in_mitmweb(mitmweb: Mitmweb, fakes) -> None:
    client = anthropic_client(mitmweb, "/anthropic")
    answer = client.messages.create(
        model="gpt-4.1-mini",
        max_tokens=200,
        system="Answer in one line.",
        messages=[{"role": "user", "content": "Which holiday should we invent?"}],
        extra_body={"top_k": 5},  # GPT has no top_k: dropped, and the comment says so
    )
    assert answer.content[0].type == "text"

    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.set_default_timeout(15_000)
            page.goto(mitmweb.web_url)
            row = page.locator("tr", has_text="/v1/chat/completions").first
            # The comment column (added by the gateway) says what happened, at a glance.
            expect(row).to_contain_text("anthropic → openai · gpt-4.1-mini · 200")
            expect(row).to_contain_text("dropped: top_k")
            row.click()
            details = page.locator(".flow-detail")
            # The request tab opens in the LLM view: both sides of the translation.
            expect(details).to_contain_text("caller sent (Anthropic Messages)")
            expect(details).to_contain_text("gateway sent (OpenAI Chat Completions)")
            expect(details).to_contain_text("Which holiday should we invent?")
            expect(details).to_contain_text("top_k: 5")  # only on the caller's side
            if screenshot := os.environ.get("GW_SCREENSHOT"):
                # The picture leaves out the request headers: they carry the provider
                # credential the gateway sent (a test key, but still a key).
                page.add_style_tag(content=".flow-detail .headers { display: none }")
                page.set_viewport_size({"width": 1600, "height": 560})
                page.screenshot(path=screenshot)
            page.get_by_text("Response", exact=True).first.click()
            expect(details).to_contain_text("provider answered (OpenAI Chat Completions)")
            expect(details).to_contain_text("caller received (Anthropic Messages)")
        finally:
            browser.close()
