"""End-to-end harness: a real ``mitmdump -s addons/gateway.py`` between the official SDKs
and local fake upstreams that speak each provider's wire format.

One gateway and one set of fakes serve the whole session (starting mitmdump costs about
a second); tests that need their own rules or mode start another with ``start_gateway``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import http, io

from tests.e2e.faults_support import fault_rules
from tests.fakes import FakeUpstream
from tests.harness import (
    CALLER_KEY,
    GATEWAY_KEYS,
    GEMINI_KEY,
    OPENAI_KEY,
    STARTED,
    Gateway,
    rules_yaml,
    start_gateway,
)

KEYS = (OPENAI_KEY, GEMINI_KEY, CALLER_KEY, *GATEWAY_KEYS.values())


@pytest.fixture(scope="session", autouse=True)
def _no_key_in_anything_a_gateway_said() -> Iterator[None]:
    """After every test: no configured or caller key in anything any gateway of the run
    printed or logged, in any answer it gave (headers and body), or in the annotations
    mitmweb would show. Requests to providers carry keys by design and are not read."""
    yield
    for gw in STARTED:
        gw.stop()
        output = gw.log()
        leaked = [key for key in KEYS if key in output]
        assert not leaked, f"a key leaked into {gw.log_path}"
        for flow in read_flows(gw.flows_path):
            said = [repr(flow.metadata), flow.comment, repr(flow.error)]
            if flow.response is not None:
                said += [repr(flow.response.headers), repr(flow.response.raw_content)]
            for key in KEYS:
                assert not any(key in text for text in said), (
                    f"a key reached a caller or an annotation: {flow.request.url}"
                )


@pytest.fixture(scope="session")
def fakes() -> Iterator[dict[str, FakeUpstream]]:
    started = {name: FakeUpstream(name).start() for name in ("openai", "anthropic", "gemini")}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(autouse=True)
def _fresh_fakes(request: pytest.FixtureRequest) -> None:
    if "fakes" in request.fixturenames:
        for fake in request.getfixturevalue("fakes").values():
            fake.clear()


@pytest.fixture(scope="session")
def rules_path(fakes: dict[str, FakeUpstream], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(rules_yaml(fakes))
    return path


@pytest.fixture(scope="session")
def gateway(rules_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(rules_path, tmp_path_factory.mktemp("gw") / "mitmdump.log")
    yield gw
    gw.stop()


@pytest.fixture(scope="session")
def fault_gateway(
    fakes: dict[str, FakeUpstream], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A gateway of its own for the fault and fallback tests (tests/e2e/test_faults*.py):
    small timeouts, unreachable providers and fallbacks, leaving the shared rules alone."""
    folder = tmp_path_factory.mktemp("faults")
    rules = folder / "rules.yaml"
    rules.write_text(fault_rules(fakes, str(folder / "state.sqlite3")))
    gw = start_gateway(rules, folder / "mitmdump.log")
    yield gw
    gw.stop()


def read_flows(path: Path) -> Iterator[http.HTTPFlow]:
    if not path.exists():
        return
    with path.open("rb") as f:
        for flow in io.FlowReader(f).stream():
            if isinstance(flow, http.HTTPFlow):
                yield flow
