"""translators/models.py: provider listings in, any caller's shape out, with paging."""

from __future__ import annotations

import orjson
import pytest

from tests.fakes.replies import FIXTURES
from translators import models
from translators.models import ModelRecord

OPENAI_LIST = orjson.loads((FIXTURES / "openai_chat/models_list.json").read_bytes())
GEMINI_MODEL = orjson.loads((FIXTURES / "gemini/models_get.json").read_bytes())
ANTHROPIC_PAGE = {
    "data": [
        {
            "type": "model",
            "id": "claude-opus-4-6",
            "display_name": "Claude Opus 4.6",
            "created_at": "2026-02-04T00:00:00Z",
            "max_input_tokens": 200000,
            "max_tokens": 32000,
            "capabilities": {"thinking": {"types": {"enabled": {"supported": True}}}},
        }
    ],
    "has_more": True,
    "first_id": "claude-opus-4-6",
    "last_id": "claude-opus-4-6",
}


def test_openai_list_keeps_owner_and_created() -> None:
    records = models.from_openai(OPENAI_LIST, "openai")
    assert [r.id for r in records] == ["model-id-0", "model-id-1", "model-id-2"]
    assert records[2].owner == "openai" and records[0].owner == "organization-owner"
    assert records[0].created == 1686935002


def test_anthropic_page_gives_the_next_cursor_only_while_has_more() -> None:
    records, cursor = models.from_anthropic_page(ANTHROPIC_PAGE, "anthropic")
    assert cursor == "claude-opus-4-6"
    assert records[0].created == 1770163200  # 2026-02-04T00:00:00Z
    assert (records[0].input_token_limit, records[0].output_token_limit) == (200000, 32000)
    _, cursor = models.from_anthropic_page({**ANTHROPIC_PAGE, "has_more": False}, "anthropic")
    assert cursor is None


def test_gemini_page_strips_the_resource_prefix_and_reads_the_token() -> None:
    records, token = models.from_gemini_page(
        {"models": [GEMINI_MODEL], "nextPageToken": "abc"}, "gemini"
    )
    assert records[0].id == "gemini-3.1-pro-preview" and token == "abc"
    assert records[0].input_token_limit == 1048576
    assert models.from_gemini_page({}, "gemini") == ([], None)  # an empty last page


@pytest.mark.parametrize(
    "body",
    [[], {"data": "x"}, {"data": [{"id": 3}]}, {"data": [{"object": "model"}]}],
)
def test_malformed_listings_are_value_errors(body: object) -> None:
    with pytest.raises(ValueError):
        models.from_openai(body, "openai")


def test_a_record_goes_out_unchanged_in_its_own_shape_with_the_callers_id() -> None:
    [record] = models.from_anthropic_page(ANTHROPIC_PAGE, "anthropic")[0]
    out = models.render_model(record.named("sonnet"), "anthropic")
    assert out == {**ANTHROPIC_PAGE["data"][0], "id": "sonnet"}
    [gem] = models.from_gemini_page({"models": [GEMINI_MODEL]}, "gemini")[0]
    out = models.render_model(gem.named("gemini/x"), "gemini")
    assert out == {**GEMINI_MODEL, "name": "models/gemini/x"}  # thinking, topK... kept


def test_anthropic_to_openai_and_gemini() -> None:
    [record] = models.from_anthropic_page(ANTHROPIC_PAGE, "anthropic")[0]
    assert models.render_model(record, "openai") == {
        "id": "claude-opus-4-6",
        "object": "model",
        "created": 1770163200,
        "owned_by": "anthropic",
    }
    assert models.render_model(record, "gemini") == {
        "name": "models/claude-opus-4-6",
        "displayName": "Claude Opus 4.6",
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "inputTokenLimit": 200000,
        "outputTokenLimit": 32000,
    }


def test_openai_and_gemini_to_anthropic() -> None:
    [oai] = models.from_openai({"data": [OPENAI_LIST["data"][0]]}, "openai")
    assert models.render_model(oai, "anthropic") == {
        "type": "model",
        "id": "model-id-0",
        "display_name": "model-id-0",
        "created_at": "2023-06-16T17:03:22Z",
    }
    [gem] = models.from_gemini_page({"models": [GEMINI_MODEL]}, "gemini")[0]
    out = models.render_model(gem, "anthropic")
    assert out["display_name"] == "Gemini 3.1 Pro Preview"
    assert out["created_at"] == "1970-01-01T00:00:00Z"  # Gemini says no date
    assert (out["max_input_tokens"], out["max_tokens"]) == (1048576, 65536)
    assert models.render_model(gem, "openai")["owned_by"] == "gemini"


RECORDS = [ModelRecord(id=f"m{i}", owner="p") for i in range(5)]


def _ids(page: dict, key: str = "data") -> list[str]:
    return [m.get("id") or m["name"].removeprefix("models/") for m in page[key]]


def test_openai_list_is_whole() -> None:
    page = models.render_list(RECORDS, "openai", {"limit": "1"})
    assert page["object"] == "list" and _ids(page) == ["m0", "m1", "m2", "m3", "m4"]


def test_anthropic_paging_forward_and_back() -> None:
    page = models.render_list(RECORDS, "anthropic", {"limit": "2"})
    assert _ids(page) == ["m0", "m1"] and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == ("m0", "m1")
    page = models.render_list(RECORDS, "anthropic", {"limit": "2", "after_id": "m3"})
    assert _ids(page) == ["m4"] and page["has_more"] is False
    page = models.render_list(RECORDS, "anthropic", {"limit": "2", "before_id": "m3"})
    assert _ids(page) == ["m1", "m2"] and page["has_more"] is True
    page = models.render_list(RECORDS, "anthropic", {})
    assert len(page["data"]) == 5 and page["has_more"] is False
    empty = models.render_list([], "anthropic", {})
    assert empty == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_gemini_paging_token_is_the_next_pages_first_id() -> None:
    page = models.render_list(RECORDS, "gemini", {"pageSize": "3"})
    assert _ids(page, "models") == ["m0", "m1", "m2"] and page["nextPageToken"] == "m3"
    page = models.render_list(RECORDS, "gemini", {"pageSize": "3", "pageToken": "m3"})
    assert _ids(page, "models") == ["m3", "m4"] and "nextPageToken" not in page
    assert len(models.render_list(RECORDS, "gemini", {"pageSize": "0"})["models"]) == 5


@pytest.mark.parametrize(
    ("shape", "query", "named"),
    [
        ("anthropic", {"limit": "x"}, "limit"),
        ("anthropic", {"limit": "0"}, "limit"),
        ("anthropic", {"after_id": "nope"}, "after_id"),
        ("anthropic", {"after_id": "m1", "before_id": "m3"}, "after_id"),
        ("gemini", {"pageToken": "nope"}, "pageToken"),
        ("gemini", {"pageSize": "-1"}, "pageSize"),
    ],
)
def test_bad_paging_parameters_name_themselves(shape, query, named) -> None:
    with pytest.raises(ValueError, match=named):
        models.render_list(RECORDS, shape, query)
