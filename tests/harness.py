"""Start a real gateway (mitmdump with the addon) on a free port, for tests and the demo.

Kept outside conftest so ``scripts/demo`` runs the gateway exactly as the end-to-end
tests do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes import FakeUpstream

ROOT = Path(__file__).resolve().parents[1]
MITMDUMP = str(Path(sys.executable).parent / "mitmdump")

# Keys the gateway holds for the upstreams (configured in rules.yaml through the
# environment, as users do) and a key a caller sends. Tests assert which one arrives
# and that none of them ever shows up in the gateway's output.
OPENAI_KEY = "sk-gateway-openai-0001"
GEMINI_KEY = "gm-gateway-gemini-0002"
CALLER_KEY = "sk-caller-own-key-0003"
# Gateway keys (rules.yaml `keys:`, in tests/e2e/test_gateway_keys.py), each given to
# every gateway through the environment as GW_TEST_KEY_<NAME>, e.g. GW_TEST_KEY_TEAM.
GATEWAY_KEYS = {
    f"GW_TEST_KEY_{name.upper().replace('-', '_')}": f"gw-key-{name}-{n:04d}"
    for n, name in enumerate(
        (
            *("team", "gpt-only", "shared"),
            *("rpm-openai", "rpm-anthropic", "rpm-gemini"),
            *("tpm-openai", "tpm-anthropic", "tpm-gemini"),
        ),
        start=101,
    )
}

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)  # the SDKs must talk to the gateway directly


# Every gateway this test run started: the end-to-end suite audits all of them for keys.
STARTED: list[Gateway] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rules_yaml(fakes: dict[str, FakeUpstream], store: Path | None = None) -> str:
    """Providers on the fakes: openai and gemini hold keys, anthropic forwards the caller's.
    Responses state goes to ``store`` (default: a fresh temporary file, never the user's
    own state directory)."""
    if store is None:
        store = Path(tempfile.mkdtemp(prefix="gw-store-")) / "state.sqlite3"
    return f"""
store: {store}
providers:
  openai:
    protocol: openai
    base_url: {fakes["openai"].base_url}
    api_key: ${{GW_TEST_OPENAI_KEY}}
    count_tokens: native  # stands in for api.openai.com, which counts natively
  anthropic:
    protocol: anthropic
    base_url: {fakes["anthropic"].base_url}
  gemini:
    protocol: gemini
    base_url: {fakes["gemini"].base_url}
    api_key: ${{GW_TEST_GEMINI_KEY}}
  compat:
    protocol: openai
    base_url: {fakes["openai"].base_url}
    headers:
      X-Title: gateway-tests
  responses_only:
    protocol: openai
    base_url: {fakes["openai"].base_url}
    api_key: ${{GW_TEST_OPENAI_KEY}}
    api: responses
models:
  - {{match: "gpt-*", provider: openai}}
  - {{match: "text-embedding-*", provider: openai}}
  - {{match: "claude-3-*", provider: anthropic, structured_output: tool}}
  - {{match: "claude-*", provider: anthropic}}
  - {{match: "gemini-*", provider: gemini}}
  - {{match: "sonnet", provider: anthropic, model: claude-sonnet-4-5-20250929}}
  - {{match: "flash", provider: gemini, model: gemini-2.5-flash}}
  - {{match: "local-*", provider: compat}}
  - {{match: "codex-*", provider: responses_only}}
  - {{match: "strict-*", provider: compat, strict: true}}
"""


@dataclass
class Gateway:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    flows_path: Path  # every flow it handled (mitmproxy's save_stream_file), for audits

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def refused_start(rules_path: Path, *extra: str) -> str:
    """Start mitmdump with the addon as a user would and expect it to refuse: the
    output it printed before exiting (the caller checks it names the problem)."""
    result = subprocess.run(
        [
            MITMDUMP,
            "-s",
            str(ROOT / "addons" / "gateway.py"),
            "--set",
            f"rules={rules_path}",
            *extra,
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode != 0, "mitmdump started where it should have refused"
    return result.stdout + result.stderr


def start_gateway(
    rules_path: Path, log_path: Path, *extra: str, script: Path | None = None
) -> Gateway:
    """``script``: another checkout's addons/gateway.py (``scripts/bench --baseline``)."""
    port = free_port()
    env = dict(os.environ, GW_TEST_OPENAI_KEY=OPENAI_KEY, GW_TEST_GEMINI_KEY=GEMINI_KEY)
    env.update(GATEWAY_KEYS)
    log_file = log_path.open("wb")
    flows_path = log_path.with_suffix(".flows")
    process = subprocess.Popen(
        [
            MITMDUMP,
            "-s",
            str(script or ROOT / "addons" / "gateway.py"),
            "--set",
            f"rules={rules_path}",
            "--set",
            f"save_stream_file={flows_path}",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(port),
            *extra,
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    gateway = Gateway(f"http://127.0.0.1:{port}", port, process, log_path, flows_path)
    STARTED.append(gateway)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mitmdump exited with {process.returncode}:\n{gateway.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return gateway
        except OSError:
            time.sleep(0.05)
    gateway.stop()
    raise RuntimeError(f"mitmdump did not listen within 30 s:\n{gateway.log()}")
