"""JSON Schema <-> the OpenAPI subset Gemini takes as a function's ``parameters``.

Gemini's ``parameters`` (and ``responseSchema``) is a protobuf ``Schema`` message, not
JSON Schema: a keyword it does not know is a 400 ("Unknown name additionalProperties"),
and it has no resolver for ``$ref`` (400 "reference to undefined schema"). Tool schemas
from OpenAI and Anthropic callers are full JSON Schema, so ``to_gemini_schema`` rewrites
them into an equivalent schema, or a slightly looser one where Gemini cannot say as much.
Validation is the caller's tool's job anyway; the schema only guides the model, so
loosening is safer than refusing a request over a keyword. The rules are tabled in
docs/conversion.md ("Gemini schema sanitizing").
"""

from __future__ import annotations

_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
    "null": "NULL",
}
_FORMATS = {
    "STRING": frozenset({"enum", "date-time"}),
    "INTEGER": frozenset({"int32", "int64"}),
    "NUMBER": frozenset({"float", "double"}),
}
_COUNT_KEYS = (
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
)
_TEXT_KEYS = ("title", "description", "pattern")
# Bounds for hostile or exponential schemas (refs expanding refs): past them a node is
# left opaque.
_MAX_DEPTH = 64
_MAX_REFS = 1000


def _opaque() -> dict:
    """The loosest schema Gemini accepts where a node cannot be expressed."""
    return {"type": "OBJECT"}


def to_gemini_schema(schema: object) -> dict:
    """A Gemini ``Schema`` for a JSON Schema: a new dict (the input is never modified),
    only keywords Gemini's ``Schema`` has, at every depth; never raises. An empty, missing
    or non-object schema is ``{"type": "OBJECT", "properties": {}}``."""
    if not isinstance(schema, dict) or not schema:
        return {"type": "OBJECT", "properties": {}}
    out = _Converter(schema).convert(schema, 0, ())
    if "type" not in out and "anyOf" not in out:
        out["type"] = "OBJECT"
    if out.get("type") == "OBJECT" and "properties" not in out:
        out["properties"] = {}
    return out


class _Converter:
    """Holds the document root (for refs) and the ref budget for one conversion."""

    __slots__ = ("_refs_left", "_root")

    def __init__(self, root: dict) -> None:
        self._root = root
        self._refs_left = _MAX_REFS

    def convert(self, node: object, depth: int, stack: tuple[str, ...]) -> dict:
        if not isinstance(node, dict):
            return {}
        if depth > _MAX_DEPTH:
            return _opaque()
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._inline(ref, node, depth, stack)
        all_of = node.get("allOf")
        if isinstance(all_of, list) and all_of:
            rest = {k: v for k, v in node.items() if k != "allOf"}
            out = self.convert(rest, depth + 1, stack)
            for branch in all_of:
                _merge(out, self.convert(branch, depth + 1, stack))
            return out
        return self._plain(node, depth, stack)

    def _inline(self, ref: str, node: dict, depth: int, stack: tuple[str, ...]) -> dict:
        """A same-document ref (any JSON pointer) with its sibling keywords winning; one
        already being expanded (recursion), unresolvable or over budget is opaque."""
        self._refs_left -= 1
        target = _resolve(self._root, ref)
        if ref in stack or target is None or self._refs_left < 0:
            return _opaque()
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**target, **siblings} if siblings else target
        return self.convert(merged, depth + 1, (*stack, ref))

    def _plain(self, node: dict, depth: int, stack: tuple[str, ...]) -> dict:
        """Types in upper case: ``[X, "null"]`` is X + ``nullable``, several non-null types
        are ``anyOf`` branches."""
        out: dict = {}
        nullable = node.get("nullable") is True
        types = _type_list(node.get("type"))
        if "null" in types:
            nullable = True
            types = [t for t in types if t != "null"] or ["null"]
        if len(types) == 1:
            out["type"] = _TYPES[types[0]]
        elif len(types) > 1:
            rest = {k: v for k, v in node.items() if k not in ("type", "nullable")}
            branches = [self._plain({**rest, "type": t}, depth + 1, stack) for t in types]
            out["anyOf"] = branches
        nullable = self._copy_branches(node, out, depth, stack) or nullable
        nullable = _copy_enum(node, out) or nullable
        self._copy_structure(node, out, depth, stack)
        _copy_scalars(node, out)
        if "type" not in out and "anyOf" not in out:
            _infer_type(out)
        _copy_format(node, out)
        if nullable and out.get("type") != "NULL":
            out["nullable"] = True
        return out

    def _copy_branches(self, node: dict, out: dict, depth: int, stack: tuple[str, ...]) -> bool:
        """anyOf/oneOf -> anyOf; returns True when a branch was ``null``."""
        raw = node.get("anyOf")
        if not isinstance(raw, list) or not raw:
            raw = node.get("oneOf")
        if not isinstance(raw, list) or not raw or "anyOf" in out:
            return False
        branches = [self.convert(b, depth + 1, stack) for b in raw]
        kept = [b for b in branches if b.get("type") != "NULL"]
        if len(kept) == 1:
            _merge(out, kept[0])
        elif kept:
            out["anyOf"] = kept
        return len(kept) < len(branches)

    def _copy_structure(self, node: dict, out: dict, depth: int, stack: tuple[str, ...]) -> None:
        props = node.get("properties")
        if isinstance(props, dict):
            out["properties"] = {
                name: self.convert(sub, depth + 1, stack)
                for name, sub in props.items()
                if isinstance(name, str)
            }
            required = node.get("required")
            if isinstance(required, list):
                names = [r for r in required if isinstance(r, str) and r in out["properties"]]
                if names:
                    out["required"] = names
        items = node.get("items")
        if isinstance(items, dict):
            out["items"] = self.convert(items, depth + 1, stack)
        elif isinstance(items, list) and items:
            branches = [self.convert(b, depth + 1, stack) for b in items]
            out["items"] = branches[0] if len(branches) == 1 else {"anyOf": branches}


def _type_list(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    names: list[str] = []
    for t in value:
        if isinstance(t, str) and t.lower() in _TYPES and t.lower() not in names:
            names.append(t.lower())
    return names


def _copy_enum(node: dict, out: dict) -> bool:
    """Writes a string enum when Gemini can express it; True if ``null`` was a member."""
    values = node.get("enum")
    if "const" in node:
        values = [node["const"]]
    if not isinstance(values, list):
        return False
    members = [v for v in values if v is not None]
    if all(isinstance(v, str) for v in members):
        strings = members
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in members):
        strings = [str(v) for v in members]
    else:
        strings = []
    if strings:
        out["enum"] = strings
    return len(members) < len(values)


def _copy_scalars(node: dict, out: dict) -> None:
    for key in _TEXT_KEYS:
        value = node.get(key)
        if isinstance(value, str):
            out[key] = value
    for key in _COUNT_KEYS:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            out[key] = value
    for key in ("minimum", "maximum"):
        value = node.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = value
    for key in ("default", "example"):
        if key in node:
            out[key] = node[key]
    order = node.get("propertyOrdering")
    if isinstance(order, list) and all(isinstance(n, str) for n in order):
        out["propertyOrdering"] = list(order)


def _copy_format(node: dict, out: dict) -> None:
    fmt = node.get("format")
    allowed = _FORMATS.get(out.get("type", ""))
    if isinstance(fmt, str) and allowed is not None and fmt in allowed:
        out["format"] = fmt


def _infer_type(out: dict) -> None:
    if "properties" in out:
        out["type"] = "OBJECT"
    elif "items" in out:
        out["type"] = "ARRAY"
    elif "enum" in out:
        out["type"] = "STRING"


def _merge(into: dict, other: dict) -> None:
    """allOf / single-branch merge: properties and required unite, else first wins."""
    for key, value in other.items():
        if key == "properties" and isinstance(into.get(key), dict):
            for name, sub in value.items():
                into[key].setdefault(name, sub)
        elif key == "required" and isinstance(into.get(key), list):
            into[key] += [n for n in value if n not in into[key]]
        else:
            into.setdefault(key, value)


def _resolve(root: dict, ref: str) -> dict | None:
    """A same-document JSON pointer (``#``, ``#/$defs/X``); None when unresolvable."""
    if not ref.startswith("#"):
        return None
    node: object = root
    for raw in ref[1:].split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node if isinstance(node, dict) else None


def from_gemini_schema(schema: dict) -> dict:
    """Standard JSON Schema for a Gemini ``Schema`` (lower-case types, ``nullable`` folded
    into the type list), for requests from a Gemini caller that go to other providers.
    ``to_gemini_schema(from_gemini_schema(s))`` gives ``s`` back for the schemas Gemini
    callers write."""
    out = _from_gemini(schema, 0)
    return out if isinstance(out, dict) else {}


def _from_gemini(schema: object, depth: int) -> object:
    """Nesting beyond ``_MAX_DEPTH`` is returned unchanged rather than recursed into, so
    a hostile body cannot exhaust the interpreter stack."""
    if depth > _MAX_DEPTH:
        return schema
    if isinstance(schema, list):
        return [_from_gemini(s, depth + 1) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _from_gemini(sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf"):
            out[key] = _from_gemini(value, depth + 1)
        elif key != "nullable":
            out[key] = value
    if schema.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str) and kind != "null":
            out["type"] = [kind, "null"]
        elif "type" not in out:
            out["nullable"] = True
    return out
