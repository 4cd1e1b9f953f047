"""End-to-end harness: a real ``mitmdump -s addons/gateway.py`` between the official SDKs
and local fake upstreams that speak each provider's wire format.

One gateway and one set of fakes serve the whole session (starting mitmdump costs about
a second); tests that need their own rules or mode start another with ``start_gateway``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.faults_support import fault_rules
from tests.fakes import FakeUpstream
from tests.harness import CALLER_KEY, GEMINI_KEY, OPENAI_KEY, Gateway, rules_yaml, start_gateway


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
    output = gw.log()
    for key in (OPENAI_KEY, GEMINI_KEY, CALLER_KEY):
        assert key not in output, "a key leaked into the gateway's output"


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
