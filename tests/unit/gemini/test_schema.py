"""JSON Schema -> the Gemini ``Schema`` of tool parameters, and back."""

from __future__ import annotations

import copy

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.gemini.schema import from_gemini_schema, to_gemini_schema

EMPTY = {"type": "OBJECT", "properties": {}}


def test_parameterless_schemas_become_an_empty_object() -> None:
    assert to_gemini_schema(None) == EMPTY
    assert to_gemini_schema({}) == EMPTY
    assert to_gemini_schema({"type": "object"}) == EMPTY
    assert to_gemini_schema({"type": "object", "additionalProperties": False}) == EMPTY


def test_types_are_upper_case_and_structure_is_kept() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "days": {"type": "integer", "minimum": 1, "maximum": 10},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["city"],
    }
    assert to_gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "City name"},
            "days": {"type": "INTEGER", "minimum": 1, "maximum": 10},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1},
        },
        "required": ["city"],
    }


def test_input_is_not_modified() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"type": ["string", "null"], "const": "x"}},
        "additionalProperties": False,
    }
    before = copy.deepcopy(schema)
    to_gemini_schema(schema)
    assert schema == before


def test_keywords_gemini_rejects_are_removed_at_every_depth() -> None:
    # Gemini answers 400 "Unknown name additionalProperties" (and $schema, propertyNames,
    # $comment), also when they are nested in anyOf and items.
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "urn:x",
        "$comment": "top",
        "type": "object",
        "additionalProperties": False,
        "propertyNames": {"pattern": "^[a-z]+$"},
        "patternProperties": {"^x": {"type": "string"}},
        "unevaluatedProperties": False,
        "dependentRequired": {"a": ["b"]},
        "dependentSchemas": {"a": {"required": ["b"]}},
        "if": {"properties": {"a": {"const": 1}}},
        "then": {"required": ["b"]},
        "else": {"required": ["c"]},
        "not": {"required": ["z"]},
        "properties": {
            "a": {
                "anyOf": [
                    {"type": "string", "$comment": "x", "examples": ["q"]},
                    {"type": "object", "additionalProperties": {"type": "string"}},
                ]
            },
            "b": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": False, "properties": {}},
            },
            "c": {
                "type": "string",
                "contentEncoding": "base64",
                "readOnly": True,
                "writeOnly": False,
                "exclusiveMinimum": 0,
            },
        },
    }
    assert to_gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "a": {"anyOf": [{"type": "STRING"}, {"type": "OBJECT"}]},
            "b": {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {}}},
            "c": {"type": "STRING"},
        },
    }
    text = orjson.dumps(to_gemini_schema(schema)).decode()
    for word in ("additionalProperties", "$schema", "propertyNames", "$comment", "$id"):
        assert word not in text


def test_refs_are_inlined_and_defs_removed() -> None:
    # Gemini has no $ref resolver: it answers 400 "reference to undefined schema".
    schema = {
        "type": "object",
        "properties": {
            "user": {"$ref": "#/$defs/User"},
            "users": {"type": "array", "items": {"$ref": "#/definitions/User"}},
        },
        "$defs": {"User": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "definitions": {
            "User": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            }
        },
    }
    out = to_gemini_schema(schema)
    assert out == {
        "type": "OBJECT",
        "properties": {
            "user": {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}},
            "users": {
                "type": "ARRAY",
                "items": {
                    "type": "OBJECT",
                    "properties": {"name": {"type": "STRING"}},
                    "required": ["name"],
                },
            },
        },
    }
    assert "$ref" not in orjson.dumps(out).decode()


def test_ref_siblings_win_over_the_target() -> None:
    schema = {
        "type": "object",
        "properties": {"when": {"$ref": "#/$defs/Time", "description": "local time"}},
        "$defs": {"Time": {"type": "string", "description": "a time", "format": "date-time"}},
    }
    assert to_gemini_schema(schema)["properties"]["when"] == {
        "type": "STRING",
        "description": "local time",
        "format": "date-time",
    }


def test_recursive_refs_stop_at_the_cycle_point() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "value": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
            }
        },
    }
    assert to_gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "value": {"type": "STRING"},
            "children": {"type": "ARRAY", "items": {"type": "OBJECT"}},
        },
    }


def test_root_recursion_and_unresolvable_refs() -> None:
    schema = {
        "type": "object",
        "properties": {
            "self": {"$ref": "#"},
            "remote": {"$ref": "https://example.com/schema.json"},
            "missing": {"$ref": "#/$defs/Nope"},
        },
    }
    out = to_gemini_schema(schema)
    assert out["properties"]["remote"] == {"type": "OBJECT"}
    assert out["properties"]["missing"] == {"type": "OBJECT"}
    assert out["properties"]["self"]["properties"]["self"] == {"type": "OBJECT"}


def test_mutually_recursive_refs_terminate() -> None:
    schema = {
        "$ref": "#/$defs/A",
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
        },
    }
    out = to_gemini_schema(schema)
    assert out["properties"]["b"]["properties"]["a"] == {"type": "OBJECT"}


def test_exponential_ref_fanout_is_bounded() -> None:
    defs = {f"D{i}": {"type": "object", "properties": {}} for i in range(30)}
    for i in range(29):
        defs[f"D{i}"]["properties"] = {
            "x": {"$ref": f"#/$defs/D{i + 1}"},
            "y": {"$ref": f"#/$defs/D{i + 1}"},
        }
    out = to_gemini_schema({"$ref": "#/$defs/D0", "$defs": defs})
    assert len(orjson.dumps(out)) < 2_000_000


def test_nullable_type_lists() -> None:
    out = to_gemini_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"type": ["null", "integer"], "format": "int64"},
                "c": {"type": ["string", "integer"]},
                "d": {"type": "null"},
            },
        }
    )
    assert out["properties"] == {
        "a": {"type": "STRING", "nullable": True},
        "b": {"type": "INTEGER", "format": "int64", "nullable": True},
        "c": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        "d": {"type": "NULL"},
    }


def test_any_of_and_one_of_with_null_branch() -> None:
    out = to_gemini_schema(
        {
            "type": "object",
            "properties": {
                "a": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "maybe"},
                "b": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "c": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            },
        }
    )
    assert out["properties"] == {
        "a": {"type": "STRING", "description": "maybe", "nullable": True},
        "b": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        "c": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}], "nullable": True},
    }


def test_all_of_is_merged() -> None:
    out = to_gemini_schema(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
                {"$ref": "#/$defs/C"},
            ],
            "$defs": {"C": {"properties": {"c": {"type": "boolean"}}}},
        }
    )
    assert out == {
        "type": "OBJECT",
        "properties": {
            "a": {"type": "STRING"},
            "b": {"type": "INTEGER"},
            "c": {"type": "BOOLEAN"},
        },
        "required": ["a", "b"],
    }


def test_const_and_enums() -> None:
    out = to_gemini_schema(
        {
            "type": "object",
            "properties": {
                "kind": {"const": "circle"},
                "unit": {"type": "string", "enum": ["c", "f", None]},
                "level": {"type": "integer", "enum": [1, 2, 3]},
                "flag": {"enum": [True, False]},
            },
        }
    )
    assert out["properties"] == {
        "kind": {"type": "STRING", "enum": ["circle"]},
        "unit": {"type": "STRING", "enum": ["c", "f"], "nullable": True},
        "level": {"type": "INTEGER", "enum": ["1", "2", "3"]},
        "flag": {},
    }


def test_formats_are_kept_only_where_gemini_supports_them() -> None:
    out = to_gemini_schema(
        {
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "mail": {"type": "string", "format": "email"},
                "uri": {"type": "string", "format": "uri"},
                "n": {"type": "integer", "format": "int32"},
                "x": {"type": "number", "format": "double"},
                "bad": {"type": "number", "format": "int64"},
                "choice": {"type": "string", "format": "enum", "enum": ["a"]},
            },
        }
    )
    assert out["properties"] == {
        "when": {"type": "STRING", "format": "date-time"},
        "mail": {"type": "STRING"},
        "uri": {"type": "STRING"},
        "n": {"type": "INTEGER", "format": "int32"},
        "x": {"type": "NUMBER", "format": "double"},
        "bad": {"type": "NUMBER"},
        "choice": {"type": "STRING", "enum": ["a"], "format": "enum"},
    }


def test_required_names_must_be_properties() -> None:
    out = to_gemini_schema(
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "ghost", 3]}
    )
    assert out["required"] == ["a"]
    out = to_gemini_schema(
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["ghost"]}
    )
    assert "required" not in out


def test_missing_types_are_inferred() -> None:
    out = to_gemini_schema(
        {
            "properties": {
                "list": {"items": {"type": "string"}},
                "choice": {"enum": ["a", "b"]},
                "anything": {"description": "free form"},
                "boolean_schema": True,
            }
        }
    )
    assert out == {
        "type": "OBJECT",
        "properties": {
            "list": {"type": "ARRAY", "items": {"type": "STRING"}},
            "choice": {"type": "STRING", "enum": ["a", "b"]},
            "anything": {"description": "free form"},
            "boolean_schema": {},
        },
    }


def test_tuple_items_become_any_of() -> None:
    out = to_gemini_schema(
        {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "maxItems": 2}
    )
    assert out == {
        "type": "ARRAY",
        "items": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        "maxItems": 2,
    }


def test_scalar_keywords_with_wrong_types_are_dropped() -> None:
    out = to_gemini_schema(
        {
            "type": "string",
            "title": 3,
            "description": ["x"],
            "minLength": -1,
            "maxLength": True,
            "pattern": "^a$",
            "default": "a",
            "example": "b",
        }
    )
    assert out == {"type": "STRING", "pattern": "^a$", "default": "a", "example": "b"}


def test_deep_nesting_is_bounded() -> None:
    schema: dict = {"type": "string"}
    for _ in range(500):
        schema = {"type": "object", "properties": {"x": schema}}
    out = to_gemini_schema(schema)
    depth = 0
    node = out
    while "properties" in node:
        node = node["properties"]["x"]
        depth += 1
    assert node == {"type": "OBJECT"}
    assert depth < 100


def test_from_gemini_schema_gives_standard_json_schema() -> None:
    gemini = {
        "type": "OBJECT",
        "properties": {
            "location": {"type": "STRING", "description": "city"},
            "unit": {"type": "STRING", "format": "enum", "enum": ["c", "f"], "nullable": True},
            "days": {"type": "ARRAY", "items": {"type": "INTEGER"}},
            "choice": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
        },
        "required": ["location"],
        "propertyOrdering": ["location", "unit", "days", "choice"],
    }
    standard = from_gemini_schema(gemini)
    assert standard == {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "city"},
            "unit": {"type": ["string", "null"], "format": "enum", "enum": ["c", "f"]},
            "days": {"type": "array", "items": {"type": "integer"}},
            "choice": {"anyOf": [{"type": "string"}, {"type": "number"}]},
        },
        "required": ["location"],
        "propertyOrdering": ["location", "unit", "days", "choice"],
    }
    assert to_gemini_schema(standard) == gemini


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "properties",
                    "items",
                    "anyOf",
                    "oneOf",
                    "allOf",
                    "$ref",
                    "$defs",
                    "required",
                    "enum",
                    "const",
                    "nullable",
                    "format",
                    "description",
                    "x",
                    "#",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=40,
)
_refs = st.sampled_from(["#", "#/$defs/x", "#/properties/x", "#/items/0", "#/nope", "x", "#/"])


@settings(max_examples=300, deadline=None)
@given(_json, _refs)
def test_never_raises_on_random_input(value: object, ref: str) -> None:
    """Nothing escapes either conversion of any value, and the output is JSON."""
    out = to_gemini_schema(value)
    assert isinstance(out, dict)
    orjson.dumps(out)
    if isinstance(value, dict):
        to_gemini_schema({**value, "$ref": ref})
        from_gemini_schema(value)
