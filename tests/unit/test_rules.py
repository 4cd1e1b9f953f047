"""rules.yaml parsing, model resolution and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from addons.rules import RulesError, Timeouts, expand_env, parse_rules

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
providers:
  openai: {protocol: openai, base_url: "http://127.0.0.1:1/v1", api_key: "${KEY}"}
  anthropic: {protocol: anthropic, base_url: "http://127.0.0.1:2/"}
models:
  - {match: "gpt-*", provider: openai}
  - {match: "claude-*", provider: anthropic}
  - {match: "fast", provider: anthropic, model: claude-haiku-4-5, max_tokens: 8000}
  - {match: "old-*", provider: anthropic, structured_output: tool}
"""


def parse(text: str, env: dict | None = None):
    return parse_rules(text, "rules.yaml", env or {})


def test_shipped_rules_parse_without_any_key_in_the_environment():
    rules = parse_rules((ROOT / "rules.yaml").read_text(), "rules.yaml", {})
    assert {"openai", "anthropic", "gemini"} <= set(rules.providers)
    assert rules.providers["openai"].api_key == ""  # forward the caller's key
    for model, provider in [
        ("gpt-4o", "openai"),
        ("o1-mini", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("chatgpt-4o-latest", "openai"),
        ("text-embedding-3-small", "openai"),
        ("claude-opus-4-1", "anthropic"),
        ("gemini-2.5-pro", "gemini"),
    ]:
        assert rules.resolve(model).provider.name == provider


def test_shipped_rules_take_keys_from_the_environment():
    text = (ROOT / "rules.yaml").read_text()
    assert "${ANTHROPIC_API_KEY}" in text
    rules = parse_rules(text, "rules.yaml", {"ANTHROPIC_API_KEY": "sk-ant-x"})
    assert rules.providers["anthropic"].api_key == "sk-ant-x"
    assert "sk-ant-x" not in repr(rules)


def test_resolution_order_prefix_and_rename():
    rules = parse(MINIMAL)
    assert rules.resolve("gpt-4o").model == "gpt-4o"
    fast = rules.resolve("fast")
    assert (fast.provider.name, fast.model, fast.max_tokens) == (
        "anthropic",
        "claude-haiku-4-5",
        8000,
    )
    forced = rules.resolve("anthropic/gpt-lookalike")
    assert (forced.provider.name, forced.model) == ("anthropic", "gpt-lookalike")
    assert rules.resolve("unknown/thing") is None
    assert rules.resolve("llama3") is None
    assert rules.resolve("old-claude").structured_output == "tool"
    assert rules.resolve("gpt-4o").structured_output == "native"
    assert rules.providers["anthropic"].base_url == "http://127.0.0.1:2"


def test_env_expansion():
    assert expand_env("${A}-${B:-dflt}-${C}", {"A": "1"}) == "1-dflt-"
    rules = parse(MINIMAL, {"KEY": "sk-1"})
    assert rules.providers["openai"].api_key == "sk-1"


def test_default_routes():
    rules = parse(MINIMAL)
    assert rules.routes.native is True
    assert dict(rules.routes.converters) == {
        "openai": "/openai",
        "anthropic": "/anthropic",
        "gemini": "/gemini",
    }


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("providers: [", "line 1", "not valid YAML"),
        ("- a", "(top level)", "mapping"),
        ("providers: {}\nmodels: []", "providers", "non-empty"),
        ("providers:\n  x: {protocol: grpc, base_url: http://h}", "providers.x.protocol", "grpc"),
        ("providers:\n  x: {protocol: openai, base_url: ftp://h}", "providers.x.base_url", "http"),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h, key: k}",
            "providers.x.key",
            "unknown key",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\n"
            "models:\n  - {match: a, provider: y}",
            "models[0].provider",
            "no provider named 'y'",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\nmodels:\n  - {match: a}",
            "models[0].provider",
            "non-empty string",
        ),
        ("providers:\n  x: {protocol: openai, base_url: http://h}\nmodels: {}", "models", "list"),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\nmodels:\n"
            "  - {match: a, provider: x, max_tokens: 0}",
            "models[0].max_tokens",
            "positive",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\nmodels:\n"
            "  - {match: a, provider: x, structured_output: schema}",
            "models[0].structured_output",
            "native or tool",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\nroutes: {native: 1}",
            "routes.native",
            "true or false",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: http://h}\nroutes:\n"
            "  converters: {openai: openai}",
            "routes.converters.openai",
            "path",
        ),
        ("providers:\n  x: {protocol: openai, base_url: http://h}\nextra: 1", "extra", "unknown"),
        (
            "providers:\n  x: {protocol: openai, base_url: 'http://h:99999'}",
            "providers.x.base_url",
            "port out of range",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: 'http://:80/v1'}",
            "providers.x.base_url",
            "no host",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: 'http://h/v1?a=1'}",
            "providers.x.base_url",
            "query",
        ),
        (
            "providers:\n  x: {protocol: openai, base_url: 'http://h/v1#top'}",
            "providers.x.base_url",
            "fragment",
        ),
    ],
)
def test_errors_name_file_key_and_problem(text, key, problem):
    with pytest.raises(RulesError) as caught:
        parse(text)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"rules.yaml: {key}: ")


def test_max_tokens_field_defaults_by_host_and_can_be_set():
    rules = parse(
        "providers:\n"
        "  openai: {protocol: openai, base_url: https://api.openai.com/v1}\n"
        "  deepseek: {protocol: openai, base_url: https://api.deepseek.com/v1}\n"
        "  vllm: {protocol: openai, base_url: http://h/v1,"
        " max_tokens_field: max_completion_tokens}\n"
        "models: []\n"
    )
    fields = {name: p.max_tokens_field for name, p in rules.providers.items()}
    assert fields == {
        "openai": "max_completion_tokens",
        "deepseek": "max_tokens",
        "vllm": "max_completion_tokens",
    }
    with pytest.raises(RulesError) as caught:
        parse("providers:\n  x: {protocol: openai, base_url: http://h, max_tokens_field: n}\n")
    assert caught.value.key == "providers.x.max_tokens_field"


def test_store_accepts_a_url_or_a_mapping_with_retention_and_size() -> None:
    base = "providers: {o: {protocol: openai, base_url: 'http://x/v1'}}\nmodels: []\n"
    assert parse_rules(base, "r", {}).store.url is None
    rules = parse_rules(base + "store: postgresql://db/gw\n", "r", {})
    assert rules.store.url == "postgresql://db/gw"
    rules = parse_rules(base + "store: {url: /tmp/s.db, retention_days: 1, max_mb: 2}\n", "r", {})
    assert rules.store.retention_seconds == 86400 and rules.store.max_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("store", "key"),
    [
        ("mysql://db", "store.url"),
        ("{url: /x, retention_days: 0}", "store.retention_days"),
        ("{url: /x, max_mb: true}", "store.max_mb"),
        ("{path: /x}", "store.path"),
    ],
)
def test_a_bad_store_names_its_key(store: str, key: str) -> None:
    base = "providers: {o: {protocol: openai, base_url: 'http://x/v1'}}\nmodels: []\n"
    with pytest.raises(RulesError) as e:
        parse_rules(base + f"store: {store}\n", "r", {})
    assert e.value.key == key


def test_api_responses_is_for_openai_providers_and_model_rules_override_it() -> None:
    text = """
providers:
  o: {protocol: openai, base_url: 'http://x/v1', api: responses}
  c: {protocol: openai, base_url: 'http://y/v1'}
models:
  - {match: "codex-*", provider: c, api: responses}
  - {match: "gpt-*", provider: c}
"""
    rules = parse_rules(text, "r", {})
    assert rules.resolve("o/any").api == "responses"
    assert rules.resolve("codex-mini").api == "responses"
    assert rules.resolve("gpt-4o").api == "chat"
    bad = "providers: {a: {protocol: anthropic, base_url: 'http://x', api: responses}}\nmodels: []"
    with pytest.raises(RulesError) as e:
        parse_rules(bad, "r", {})
    assert e.value.key == "providers.a.api"


def test_strict_is_a_boolean_per_model_rule() -> None:
    base = "providers: {o: {protocol: openai, base_url: 'http://x/v1'}}\nmodels:\n"
    rules = parse_rules(base + "  - {match: 'a*', provider: o, strict: true}\n", "r", {})
    assert rules.resolve("ab").strict is True
    assert rules.resolve("o/x").strict is False
    with pytest.raises(RulesError) as e:
        parse_rules(base + "  - {match: 'a*', provider: o, strict: yes-please}\n", "r", {})
    assert e.value.key == "models[0].strict"


def test_limits_take_a_positive_max_body_bytes() -> None:
    base = "providers: {o: {protocol: openai, base_url: 'http://x/v1'}}\nmodels: []\n"
    assert parse_rules(base, "r", {}).max_body_bytes == 32 * 1024 * 1024
    assert parse_rules(base + "limits: {max_body_bytes: 1000}\n", "r", {}).max_body_bytes == 1000
    for bad, key in (("{max_body_bytes: 0}", "limits.max_body_bytes"), ("{rpm: 5}", "limits.rpm")):
        with pytest.raises(RulesError) as e:
            parse_rules(base + f"limits: {bad}\n", "r", {})
        assert e.value.key == key


def test_timeouts_default_and_can_be_set_in_part() -> None:
    assert parse(MINIMAL).timeouts == Timeouts(connect=10, first_byte=300, idle=120, retry_wait=10)
    rules = parse(MINIMAL + "timeouts: {first_byte: 30, idle: 2.5, retry_wait: 0}\n")
    assert rules.timeouts == Timeouts(connect=10, first_byte=30, idle=2.5, retry_wait=0)


@pytest.mark.parametrize(
    ("timeouts", "key", "problem"),
    [
        ("timeouts: 5", "timeouts", "mapping"),
        ("timeouts: {first_byte: 0}", "timeouts.first_byte", "from 0.01 to 3600 (got 0)"),
        ("timeouts: {idle: -1}", "timeouts.idle", "got -1"),
        ("timeouts: {connect: true}", "timeouts.connect", "got True"),
        ("timeouts: {connect: '10'}", "timeouts.connect", "number of seconds"),
        ("timeouts: {retry_wait: 99999}", "timeouts.retry_wait", "from 0 to 3600"),
        ("timeouts: {read: 5}", "timeouts.read", "unknown key"),
    ],
)
def test_bad_timeouts_name_their_key(timeouts: str, key: str, problem: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse(MINIMAL + timeouts + "\n")
    assert caught.value.key == key and problem in caught.value.problem


def test_fallbacks_are_kept_in_order_and_resolved_with_the_rule() -> None:
    rules = parse(
        MINIMAL.replace(
            '{match: "gpt-*", provider: openai}',
            '{match: "gpt-*", provider: openai, fallbacks: [anthropic/claude-x, openai/gpt-y]}',
        )
    )
    assert rules.resolve("gpt-4o").fallbacks == ("anthropic/claude-x", "openai/gpt-y")
    assert rules.resolve("claude-3").fallbacks == ()
    assert rules.resolve("openai/gpt-4o").fallbacks == ()  # an explicit target is just that


@pytest.mark.parametrize(
    ("fallbacks", "key", "problem"),
    [
        ("anthropic/claude-x", "models[0].fallbacks", "list"),
        ("[claude-x]", "models[0].fallbacks[0]", "provider/model"),
        ("[anthropic/]", "models[0].fallbacks[0]", "provider/model"),
        ("[azure/gpt-4o]", "models[0].fallbacks[0]", "no provider named 'azure'"),
        ("[1]", "models[0].fallbacks[0]", "non-empty string"),
    ],
)
def test_bad_fallbacks_name_their_entry(fallbacks: str, key: str, problem: str) -> None:
    text = MINIMAL.replace(
        '{match: "gpt-*", provider: openai}',
        f'{{match: "gpt-*", provider: openai, fallbacks: {fallbacks}}}',
    )
    with pytest.raises(RulesError) as caught:
        parse(text)
    assert caught.value.key == key and problem in caught.value.problem
