"""Rules reload, refusing a bad rules file, and reverse mode, each with its own mitmdump."""

from __future__ import annotations

import time

import httpx

from tests.harness import CALLER_KEY, refused_start, rules_yaml, start_gateway

CHAT = {"model": "newmodel-1", "messages": [{"role": "user", "content": "Hi"}]}
AUTH = {"authorization": f"Bearer {CALLER_KEY}"}


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_rules_reload_on_change_and_keep_previous_on_error(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    gw = start_gateway(rules, tmp_path / "gw.log")
    try:
        url = f"{gw.url}/v1/chat/completions"
        assert httpx.post(url, json=CHAT, headers=AUTH).status_code == 404

        rules.write_text(rules_yaml(fakes) + '  - {match: "newmodel-*", provider: compat}\n')
        assert wait_for(lambda: httpx.post(url, json=CHAT, headers=AUTH).status_code == 200)
        assert fakes["openai"].last.json["model"] == "newmodel-1"

        rules.write_text("providers: [broken")
        assert wait_for(lambda: "kept the previous rules" in gw.log())
        assert str(rules) in gw.log()
        assert httpx.post(url, json=CHAT, headers=AUTH).status_code == 200

        # Bytes that are not UTF-8: logged once, and the watcher keeps watching.
        rules.write_bytes(b"providers: \xff\xfe\n")
        assert wait_for(lambda: "is not UTF-8 text" in gw.log())
        assert httpx.post(url, json=CHAT, headers=AUTH).status_code == 200
        rules.write_text(rules_yaml(fakes))  # the newmodel rule is gone again
        assert wait_for(lambda: httpx.post(url, json=CHAT, headers=AUTH).status_code == 404)
    finally:
        gw.stop()


def test_bad_rules_file_refuses_to_start(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("providers:\n  x: {protocol: grpc, base_url: http://h}\nmodels: []\n")
    output = refused_start(rules)
    assert f"{rules}: providers.x.protocol:" in output
    assert "grpc" in output


def test_missing_rules_file_refuses_to_start(tmp_path):
    assert "nope.yaml" in refused_start(tmp_path / "nope.yaml")


def test_reverse_mode_routes_and_passes_the_rest_to_the_target(fakes, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_yaml(fakes))
    target = fakes["anthropic"].url
    gw = start_gateway(
        rules,
        tmp_path / "gw.log",
        "--mode",
        f"reverse:{target}",
        "--set",
        "connection_strategy=lazy",
    )
    try:
        r = httpx.post(
            f"{gw.url}/v1/chat/completions",
            headers=AUTH,
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
        )
        assert r.status_code == 200, r.text
        assert fakes["openai"].last.path == "/v1/chat/completions"
        # A path the gateway does not own goes to the reverse target untouched.
        r = httpx.get(f"{gw.url}/v1/files", headers={"x-api-key": "abc"})
        assert fakes["anthropic"].last.path == "/v1/files"
        assert fakes["anthropic"].last.headers["x-api-key"] == "abc"
    finally:
        gw.stop()
