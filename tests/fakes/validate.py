"""Request checks the real services make, so a wrong translation fails loudly.

Each check answers the way the provider does (status, message wording, parameter path)
where the wording is known from the spec, the provider's docs or reported errors. The
checks are deliberately the ones a translator can get wrong: required fields, unknown
fields leaking across formats, tool call / result pairing, empty text blocks, argument
types, thought signatures. Anything not checked is accepted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Protocol

# --- shared ---------------------------------------------------------------------------


class Rejected(Exception):
    """A request the real service refuses; ``param``/``code`` feed OpenAI's error body."""

    def __init__(
        self, message: str, status: int = 400, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.code = code


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), "a value")


def _fields(names: str) -> frozenset[str]:
    """A field list written as one space-separated string, to keep long lists compact."""
    return frozenset(names.split())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- OpenAI Chat Completions ----------------------------------------------------------

OPENAI_CHAT_FIELDS = _fields(
    "model messages audio frequency_penalty function_call functions logit_bias logprobs "
    "max_completion_tokens max_tokens metadata modalities moderation n "
    "parallel_tool_calls prediction presence_penalty prompt_cache_key "
    "prompt_cache_options prompt_cache_retention reasoning_effort response_format "
    "safety_identifier seed service_tier stop store stream stream_options temperature "
    "tool_choice tools top_logprobs top_p user verbosity web_search_options"
)
_OPENAI_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_OPENAI_PART_TYPES = {
    "user": {"text", "image_url", "input_audio", "file"},
    "assistant": {"text", "refusal"},
    "system": {"text"},
    "developer": {"text"},
    "tool": {"text"},
}
_TOOL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _openai_type(value: Any, expected: str, param: str) -> Rejected:
    return Rejected(
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _openai_missing(param: str) -> Rejected:
    return Rejected(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def check_openai_chat(body: Any) -> None:
    if not isinstance(body, dict):
        raise _openai_type(body, "an object", "body")
    for name in body:
        if name not in OPENAI_CHAT_FIELDS:
            raise Rejected(f"Unrecognized request argument supplied: {name}")
    if "model" not in body:
        raise Rejected("you must provide a model parameter")
    if not isinstance(body["model"], str):
        raise _openai_type(body["model"], "a string", "model")
    messages = body.get("messages")
    if messages is None:
        raise _openai_missing("messages")
    if not isinstance(messages, list):
        raise _openai_type(messages, "an array", "messages")
    if not messages:
        raise Rejected(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, message in enumerate(messages):
        _check_openai_message(message, f"messages[{i}]")
    _check_openai_tool_sequence(messages)
    _check_openai_options(body)
    for i, tool in enumerate(body.get("tools") or []):
        _check_openai_tool(tool, f"tools[{i}]")


def _check_openai_message(message: Any, path: str) -> None:
    if not isinstance(message, dict):
        raise _openai_type(message, "an object", path)
    role = message.get("role")
    if role is None:
        raise _openai_missing(f"{path}.role")
    if role not in _OPENAI_ROLES:
        raise Rejected(
            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
            "'function', 'tool', and 'developer'.",
            param=f"{path}.role",
            code="invalid_value",
        )
    content = message.get("content")
    if role == "assistant":
        calls = message.get("tool_calls")
        if calls is not None:
            _check_openai_tool_calls(calls, f"{path}.tool_calls")
        if content is None and not calls and message.get("function_call") is None:
            raise Rejected(
                f"Invalid value for '{path}.content': expected a string, got null.",
                param=f"{path}.content",
            )
    elif role != "function" and content is None:
        raise _openai_missing(f"{path}.content")
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _openai_missing(f"{path}.tool_call_id")
    if isinstance(content, list):
        _check_openai_parts(content, _OPENAI_PART_TYPES.get(role, {"text"}), f"{path}.content")
    elif content is not None and not isinstance(content, str):
        raise _openai_type(content, "one of an array or a string", f"{path}.content")


def _check_openai_parts(parts: list, allowed: set[str], path: str) -> None:
    for j, part in enumerate(parts):
        if not isinstance(part, dict):
            raise _openai_type(part, "an object", f"{path}[{j}]")
        kind = part.get("type")
        if kind not in allowed:
            supported = ", ".join(f"'{t}'" for t in sorted(allowed))
            raise Rejected(
                f"Invalid value: '{kind}'. Supported values are: {supported}.",
                param=f"{path}[{j}].type",
                code="invalid_value",
            )
        if kind == "text" and not isinstance(part.get("text"), str):
            raise _openai_type(part.get("text"), "a string", f"{path}[{j}].text")


def _check_openai_tool_calls(calls: Any, path: str) -> None:
    if not isinstance(calls, list):
        raise _openai_type(calls, "an array", path)
    if not calls:
        raise Rejected(
            f"Invalid '{path}': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param=path,
            code="empty_array",
        )
    for j, call in enumerate(calls):
        here = f"{path}[{j}]"
        if not isinstance(call, dict):
            raise _openai_type(call, "an object", here)
        if not isinstance(call.get("id"), str):
            raise _openai_missing(f"{here}.id")
        if call.get("type", "function") == "function":
            function = call.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise _openai_missing(f"{here}.function.name")
            if not isinstance(function.get("arguments"), str):
                raise _openai_type(
                    function.get("arguments"), "a string", f"{here}.function.arguments"
                )


def _check_openai_tool_sequence(messages: list[dict]) -> None:
    """Every tool message answers an id of the latest assistant tool_calls, and every such
    id is answered before the next non-tool message."""
    pending: list[str] | None = None
    opened_at = 0
    for i, message in enumerate(messages):
        role = message["role"]
        if role == "tool":
            if pending is None:
                raise Rejected(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param=f"messages.[{i}].role",
                )
            call_id = message["tool_call_id"]
            if call_id not in pending:
                raise Rejected(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    "'tool_calls' of previous message.",
                    param=f"messages.[{i}].tool_call_id",
                )
            pending.remove(call_id)
            continue
        _require_answered(pending, opened_at)
        pending = None
        if role == "assistant" and message.get("tool_calls"):
            pending = [call["id"] for call in message["tool_calls"]]
            opened_at = i
    _require_answered(pending, opened_at)


def _require_answered(pending: list[str] | None, index: int) -> None:
    if pending:
        raise Rejected(
            "An assistant message with 'tool_calls' must be followed by tool messages "
            "responding to each 'tool_call_id'. The following tool_call_ids did not have "
            f"response messages: {', '.join(pending)}",
            param=f"messages.[{index}].role",
        )


def _check_openai_options(body: dict) -> None:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise Rejected(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    temperature = body.get("temperature")
    if temperature is not None and (not _is_number(temperature) or not 0 <= temperature <= 2):
        raise Rejected(
            f"Invalid 'temperature': expected a number between 0 and 2, got {temperature}.",
            param="temperature",
            code="invalid_value",
        )
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in ("none", "auto", "required"):
        raise Rejected(
            f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
            param="tool_choice",
            code="invalid_value",
        )


def _check_openai_tool(tool: Any, path: str) -> None:
    if not isinstance(tool, dict):
        raise _openai_type(tool, "an object", path)
    if tool.get("type") != "function":
        return
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise _openai_missing(f"{path}.function.name")
    name = function["name"]
    if len(name) > 64:
        raise Rejected(
            f"Invalid '{path}.function.name': string too long. Expected a string with maximum "
            f"length 64, but got a string with length {len(name)} instead.",
            param=f"{path}.function.name",
            code="string_above_max_length",
        )
    if not name or not set(name) <= _TOOL_NAME_CHARS:
        raise Rejected(
            f"Invalid '{path}.function.name': string does not match pattern. Expected a "
            "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param=f"{path}.function.name",
            code="invalid_value",
        )


# --- Anthropic Messages ---------------------------------------------------------------

ANTHROPIC_MESSAGES_FIELDS = _fields(
    "model messages max_tokens system temperature top_p top_k stop_sequences stream "
    "metadata tools tool_choice thinking output_config output_format service_tier "
    "container inference_geo cache_control mcp_servers context_management speed "
    "diagnostics fallbacks fallback_credit_token"
)
ANTHROPIC_COUNT_FIELDS = _fields(
    "model messages system tools tool_choice thinking output_config output_format "
    "cache_control mcp_servers context_management speed"
)
# Fields each request block type may carry; a block of another known type is only
# checked for the gateway's own extension key.
_ANTHROPIC_BLOCK_KEYS = {
    "text": {"type", "text", "cache_control", "citations"},
    "image": {"type", "source", "cache_control"},
    "document": {"type", "source", "title", "context", "citations", "cache_control"},
    "tool_use": {"type", "id", "name", "input", "cache_control", "caller"},
    "tool_result": {"type", "tool_use_id", "content", "is_error", "cache_control"},
    "thinking": {"type", "thinking", "signature"},
    "redacted_thinking": {"type", "data"},
}
_ANTHROPIC_OTHER_BLOCKS = _fields(
    "search_result server_tool_use web_search_tool_result web_fetch_tool_result "
    "code_execution_tool_result bash_code_execution_tool_result "
    "text_editor_code_execution_tool_result tool_search_tool_result container_upload "
    "mid_conv_system mcp_tool_use mcp_tool_result tool_reference"
)
_ANTHROPIC_TOOL_KEYS = _fields(
    "type name description input_schema cache_control strict input_examples defer_loading "
    "eager_input_streaming allowed_callers"
)


def check_anthropic(body: Any, headers: dict[str, str], count_tokens: bool) -> None:
    if "anthropic-version" not in headers:
        raise Rejected("anthropic-version: header is required")
    if not isinstance(body, dict):
        raise Rejected("Input should be a valid dictionary")
    allowed = ANTHROPIC_COUNT_FIELDS if count_tokens else ANTHROPIC_MESSAGES_FIELDS
    for name in body:
        if name not in allowed:
            raise Rejected(f"{name}: Extra inputs are not permitted")
    required = ("model", "messages") if count_tokens else ("model", "messages", "max_tokens")
    for name in required:
        if name not in body:
            raise Rejected(f"{name}: Field required")
    if not isinstance(body["model"], str) or not body["model"]:
        raise Rejected("model: Input should be a valid string")
    if not count_tokens:
        _check_anthropic_limits(body)
    if "system" in body:
        _check_anthropic_system(body["system"])
    old_version = headers["anthropic-version"] == "2023-06-01"
    _check_anthropic_messages(body["messages"], allow_system_role=not old_version)
    for i, tool in enumerate(body.get("tools") or []):
        _check_anthropic_tool(tool, i)
    if "tool_choice" in body:
        _check_anthropic_tool_choice(body["tool_choice"])
    if "metadata" in body:
        _check_anthropic_metadata(body["metadata"])


def _check_anthropic_limits(body: dict) -> None:
    max_tokens = body["max_tokens"]
    if not _is_int(max_tokens):
        raise Rejected("max_tokens: Input should be a valid integer")
    if max_tokens < 0:
        raise Rejected("max_tokens: Input should be greater than or equal to 0")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is None:
            continue
        if not _is_number(value):
            raise Rejected(f"{name}: Input should be a valid number")
        if not 0 <= value <= 1:
            bound = "less than or equal to 1" if value > 1 else "greater than or equal to 0"
            raise Rejected(f"{name}: Input should be {bound}")
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not _is_int(budget):
            raise Rejected("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise Rejected(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if max_tokens <= budget:
            raise Rejected(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                "documentation at https://docs.claude.com/en/docs/build-with-claude/"
                "extended-thinking#max-tokens-and-context-window-size"
            )
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        _check_thinking_compatibility(body)


def _check_thinking_compatibility(body: dict) -> None:
    """Anthropic's documented limits: thinking works only with default sampling and
    without forced tool use."""
    temperature, top_p = body.get("temperature"), body.get("top_p")
    if temperature is not None and temperature != 1:
        raise Rejected(
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        )
    if top_p is not None and top_p < 0.95:
        raise Rejected("`top_p` must be greater than or equal to 0.95 when thinking is enabled.")
    if body.get("top_k") is not None:
        raise Rejected("`top_k` is not supported when thinking is enabled.")
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        raise Rejected("Thinking may not be enabled when tool_choice forces tool use.")


def _check_anthropic_system(system: Any) -> None:
    if isinstance(system, str):
        return
    if not isinstance(system, list):
        raise Rejected("system: Input should be a valid list")
    for j, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise Rejected(f"system.{j}.type: Input should be 'text'")
        _check_anthropic_block(block, f"system.{j}")


def _check_anthropic_messages(messages: Any, allow_system_role: bool) -> None:
    if not isinstance(messages, list):
        raise Rejected("messages: Input should be a valid list")
    roles = ("user", "assistant", "system") if allow_system_role else ("user", "assistant")
    turns: list[tuple[int, str, list[dict]]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise Rejected(f"messages.{i}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in roles:
            if role == "system":
                raise Rejected(
                    'messages: Unexpected role "system". The Messages API accepts a top-level '
                    '`system` parameter, not "system" as an input message role.'
                )
            raise Rejected(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        blocks = _anthropic_blocks(message, i, last=i == len(messages) - 1)
        if turns and turns[-1][1] == role:
            turns[-1][2].extend(blocks)
        else:
            turns.append((i, role, list(blocks)))
    _check_anthropic_tool_pairs(turns)


def _anthropic_blocks(message: dict, i: int, last: bool) -> list[dict]:
    if "content" not in message:
        raise Rejected(f"messages.{i}.content: Field required")
    content = message["content"]
    if isinstance(content, str):
        blocks = [{"type": "text", "text": content}] if content else []
    elif isinstance(content, list):
        blocks = content
    else:
        raise Rejected(f"messages.{i}.content: Input should be a valid list")
    if not blocks and not (last and message["role"] == "assistant"):
        raise Rejected(
            f"messages.{i}: all messages must have non-empty content except for the optional "
            "final assistant message"
        )
    for j, block in enumerate(blocks):
        _check_anthropic_block(block, f"messages.{i}.content.{j}")
    return blocks


def _check_anthropic_block(block: Any, path: str) -> None:
    if not isinstance(block, dict):
        raise Rejected(f"{path}: Input should be a valid dictionary")
    kind = block.get("type")
    allowed = _ANTHROPIC_BLOCK_KEYS.get(kind)
    if allowed is None and kind not in _ANTHROPIC_OTHER_BLOCKS:
        raise Rejected(
            f"{path}: Input tag '{kind}' found using 'type' does not match any of the expected "
            f"tags: {', '.join(repr(t) for t in (*_ANTHROPIC_BLOCK_KEYS, 'search_result'))}"
        )
    for key in block:
        if key == "extra_content" or (allowed is not None and key not in allowed):
            raise Rejected(f"{path}.{kind}.{key}: Extra inputs are not permitted")
    if kind == "text":
        _check_anthropic_text(block.get("text"), path)
    elif kind == "tool_use":
        _check_anthropic_tool_use(block, path)
    elif kind == "tool_result":
        _check_anthropic_tool_result(block, path)
    elif kind in ("thinking", "redacted_thinking"):
        _check_anthropic_thinking(block, kind, path)


def _check_anthropic_text(text: Any, path: str) -> None:
    if not isinstance(text, str):
        raise Rejected(f"{path}.text.text: Input should be a valid string")
    if not text:
        raise Rejected("messages: text content blocks must be non-empty")
    if not text.strip():
        raise Rejected("messages: text content blocks must contain non-whitespace text")


def _check_anthropic_tool_use(block: dict, path: str) -> None:
    for key in ("id", "name"):
        if not isinstance(block.get(key), str):
            raise Rejected(f"{path}.tool_use.{key}: Field required")
    if not isinstance(block.get("input"), dict):
        raise Rejected(f"{path}.tool_use.input: Input should be a valid dictionary")


def _check_anthropic_tool_result(block: dict, path: str) -> None:
    if not isinstance(block.get("tool_use_id"), str):
        raise Rejected(f"{path}.tool_result.tool_use_id: Field required")
    content = block.get("content")
    if isinstance(content, list):
        for k, inner in enumerate(content):
            _check_anthropic_block(inner, f"{path}.tool_result.content.{k}")
    elif content is not None and not isinstance(content, str):
        raise Rejected(f"{path}.tool_result.content: Input should be a valid list")


def _check_anthropic_thinking(block: dict, kind: str, path: str) -> None:
    """Real signatures are base64 and never contain ':'; a prefixed one is foreign state
    (docs/extensions.md) that must never reach Anthropic."""
    key = "signature" if kind == "thinking" else "data"
    value = block.get(key)
    if not isinstance(value, str):
        raise Rejected(f"{path}.{kind}.{key}: Field required")
    if not value or ":" in value:
        raise Rejected(f"{path}: Invalid `{key}` in `{kind}` block")


def _check_anthropic_tool_pairs(turns: list[tuple[int, str, list[dict]]]) -> None:
    """Each assistant turn's tool_use ids are answered by tool_result blocks in the very
    next turn, and a tool_result answers a tool_use of the turn right before it."""
    for n, (index, role, blocks) in enumerate(turns):
        if role != "user":
            continue
        previous = turns[n - 1][2] if n > 0 and turns[n - 1][1] == "assistant" else []
        asked = [b["id"] for b in previous if b.get("type") == "tool_use"]
        answered = [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
        for tool_use_id in answered:
            if tool_use_id not in asked:
                raise Rejected(
                    f"messages.{index}.content.0: unexpected `tool_use_id` found in "
                    f"`tool_result` blocks: {tool_use_id}. Each `tool_result` block must have "
                    "a corresponding `tool_use` block in the previous message."
                )
        missing = [i for i in asked if i not in answered]
        if missing:
            raise Rejected(
                f"messages.{turns[n - 1][0]}: `tool_use` ids were found without `tool_result` "
                f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block must "
                "have a corresponding `tool_result` block in the next message."
            )


def _check_anthropic_tool(tool: Any, i: int) -> None:
    if not isinstance(tool, dict):
        raise Rejected(f"tools.{i}: Input should be a valid dictionary")
    if tool.get("type", "custom") != "custom":
        return
    for key in tool:
        if key not in _ANTHROPIC_TOOL_KEYS:
            raise Rejected(f"tools.{i}.custom.{key}: Extra inputs are not permitted")
    name = tool.get("name")
    if not isinstance(name, str):
        raise Rejected(f"tools.{i}.custom.name: Field required")
    if not 1 <= len(name) <= 128 or not set(name) <= _TOOL_NAME_CHARS:
        raise Rejected(
            f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
        )
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise Rejected(f"tools.{i}.custom.input_schema: Field required")
    if schema.get("type") != "object":
        raise Rejected(f"tools.{i}.custom.input_schema.type: Input should be 'object'")


def _check_anthropic_tool_choice(choice: Any) -> None:
    if not isinstance(choice, dict):
        raise Rejected("tool_choice: Input should be a valid dictionary or object")
    kind = choice.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        raise Rejected(
            f"tool_choice: Input tag '{kind}' found using 'type' does not match any of the "
            "expected tags: 'auto', 'any', 'tool', 'none'"
        )
    if kind == "tool" and not isinstance(choice.get("name"), str):
        raise Rejected("tool_choice.tool.name: Field required")


def _check_anthropic_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise Rejected("metadata: Input should be a valid dictionary")
    for key in metadata:
        if key != "user_id":
            raise Rejected(f"metadata.{key}: Extra inputs are not permitted")


# --- Gemini ---------------------------------------------------------------------------


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


def _both_cases(names: str) -> frozenset[str]:
    """Gemini's JSON parser takes the proto snake_case name as well as lowerCamelCase."""
    camel = names.split()
    return frozenset(camel) | {_snake(name) for name in camel}


GEMINI_REQUEST_FIELDS = _both_cases(
    "model contents systemInstruction tools toolConfig safetySettings generationConfig "
    "cachedContent serviceTier labels store continuationToken"
)
GEMINI_GENERATION_FIELDS = _both_cases(
    "temperature topP topK candidateCount maxOutputTokens stopSequences responseLogprobs "
    "logprobs presencePenalty frequencyPenalty seed responseMimeType responseSchema "
    "responseJsonSchema responseModalities mediaResolution speechConfig thinkingConfig "
    "imageConfig enableEnhancedCivicAnswers audioTranscriptionConfig"
)
_GEMINI_PART_DATA = _both_cases(
    "text inlineData fileData functionCall functionResponse executableCode "
    "codeExecutionResult toolCall toolResponse"
)
_GEMINI_PART_FIELDS = _GEMINI_PART_DATA | _both_cases(
    "thought thoughtSignature videoMetadata mediaResolution partMetadata mediaProcessing "
    "speechMetadata audioTranscription"
)
_GEMINI_CALL_FIELDS = _both_cases("id name args partialArgs willContinue")
_GEMINI_RESPONSE_FIELDS = _both_cases("id name response parts willContinue scheduling")
_COUNT_FIELDS = _both_cases("contents generateContentRequest")
# Google's documented stand-ins for a missing signature (thought-signatures docs).
_DUMMY_SIGNATURES = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")
_COUNT_MISMATCH = (
    "Please ensure that the number of function response parts is equal to the number of "
    "function call parts of the function call turn."
)


def _get(obj: dict, camel: str) -> Any:
    """A field under either spelling."""
    if camel in obj:
        return obj[camel]
    return obj.get(_snake(camel))


def _unknown(name: str, where: str | None = None) -> Rejected:
    at = f" at '{where}'" if where else ""
    return Rejected(f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.')


def check_gemini(body: Any, model: str, count_tokens: bool) -> None:
    if not isinstance(body, dict):
        raise Rejected("Invalid JSON payload received. Expected an object.")
    if count_tokens:
        for name in body:
            if name not in _COUNT_FIELDS:
                raise _unknown(name)
        inner = _get(body, "generateContentRequest")
        if inner is not None:
            check_gemini(inner, model, count_tokens=False)
            return
    else:
        for name in body:
            if name not in GEMINI_REQUEST_FIELDS:
                raise _unknown(name)
    contents = _repeated(_get(body, "contents"))
    if not isinstance(contents, list) or not contents:
        raise Rejected("* GenerateContentRequest.contents: contents is not specified\n")
    for i, content in enumerate(contents):
        _check_gemini_content(content, f"contents[{i}]", check_role=True)
    system = _get(body, "systemInstruction")
    if system is not None:
        _check_gemini_content(system, "system_instruction", check_role=False)
    _check_gemini_turns(contents)
    if model.startswith("gemini-3"):
        _check_gemini_signatures_present(contents)
    config = _get(body, "generationConfig")
    if config is not None:
        _check_gemini_generation_config(config)


def _check_gemini_content(content: Any, path: str, check_role: bool) -> None:
    if not isinstance(content, dict):
        raise Rejected(f"Invalid value at '{path}' (type.googleapis.com/google.ai.Content)")
    for key in content:
        if key not in ("role", "parts"):
            raise _unknown(key, path)
    if check_role and content.get("role", "user") not in ("user", "model"):
        raise Rejected("Please use a valid role: user, model.")
    parts = _repeated(content.get("parts"))
    if not isinstance(parts, list) or not parts:
        raise Rejected(
            f"* GenerateContentRequest.{path}.parts: contents.parts must not be empty.\n"
        )
    for j, part in enumerate(parts):
        _check_gemini_part(part, f"{path}.parts[{j}]")


def _check_gemini_part(part: Any, path: str) -> None:
    if not isinstance(part, dict):
        raise Rejected(f"Invalid value at '{path}' (type.googleapis.com/google.ai.Part)")
    for key in part:
        if key not in _GEMINI_PART_FIELDS:
            raise _unknown(key, path)
    if not any(key in _GEMINI_PART_DATA for key in part):
        raise Rejected(
            f"* GenerateContentRequest.{path}.data: required oneof field 'data' must have one "
            "initialized field\n"
        )
    signature = _get(part, "thoughtSignature")
    if signature is not None:
        _check_gemini_bytes(signature, f"{path}.thought_signature")
    call = _get(part, "functionCall")
    if call is not None:
        _check_gemini_call(call, f"{path}.function_call")
    response = _get(part, "functionResponse")
    if response is not None:
        _check_gemini_function_response(response, f"{path}.function_response")


def _check_gemini_bytes(value: Any, path: str) -> None:
    """Proto bytes fields travel as base64; anything else is refused by the JSON parser."""
    if value in _DUMMY_SIGNATURES:
        return
    text = value if isinstance(value, str) else ""
    normal = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        if not text or len(normal) % 4 == 1:
            raise ValueError
        base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (ValueError, binascii.Error):
        raise Rejected(
            f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{value}\""
        ) from None


def _check_gemini_call(call: Any, path: str) -> None:
    if not isinstance(call, dict):
        raise Rejected(f"Invalid value at '{path}' (type.googleapis.com/google.ai.FunctionCall)")
    for key in call:
        if key not in _GEMINI_CALL_FIELDS:
            raise _unknown(key, path)
    if not isinstance(call.get("name"), str) or not call["name"]:
        raise Rejected(f"* GenerateContentRequest.{path}.name: Name cannot be empty.\n")
    if "args" in call and not isinstance(call["args"], dict):
        raise Rejected(
            f"Invalid value at '{path}.args' (type.googleapis.com/google.protobuf.Struct), "
            f"{call['args']!r}"
        )


def _check_gemini_function_response(response: Any, path: str) -> None:
    if not isinstance(response, dict):
        raise Rejected(
            f"Invalid value at '{path}' (type.googleapis.com/google.ai.FunctionResponse)"
        )
    for key in response:
        if key not in _GEMINI_RESPONSE_FIELDS:
            raise _unknown(key, path)
    if not isinstance(response.get("name"), str) or not response["name"]:
        raise Rejected(f"* GenerateContentRequest.{path}.name: Name cannot be empty.\n")
    if not isinstance(response.get("response"), dict):
        raise Rejected(
            f"Invalid value at '{path}.response' (type.googleapis.com/google.protobuf.Struct), "
            f"{response.get('response')!r}"
        )


def _repeated(value: Any) -> Any:
    """Proto JSON parsing takes a lone object where a repeated field is expected."""
    return [value] if isinstance(value, dict) else value


def _count(content: dict, field: str) -> int:
    return sum(1 for part in _repeated(content["parts"]) if _get(part, field) is not None)


def _check_gemini_turns(contents: list[dict]) -> None:
    """A function call turn follows a user turn and is answered, in the very next content,
    by exactly as many function responses: Gemini answers 400 "Please ensure that the
    number of function response parts is equal to the number of function call parts"."""
    for i, content in enumerate(contents):
        role = content.get("role", "user")
        calls = _count(content, "functionCall") if role == "model" else 0
        responses = _count(content, "functionResponse")
        if calls and (i == 0 or contents[i - 1].get("role", "user") != "user"):
            raise Rejected(
                "Please ensure that function call turn comes immediately after a user turn or "
                "after a function response turn."
            )
        if calls and i + 1 < len(contents):
            following = contents[i + 1]
            answered = _count(following, "functionResponse")
            if following.get("role", "user") != "user" or answered != calls:
                raise Rejected(_COUNT_MISMATCH)
        if responses:
            previous = contents[i - 1] if i > 0 else None
            if previous is None or previous.get("role") != "model":
                raise Rejected(
                    "Please ensure that function response turn comes immediately after a "
                    "function call turn."
                )
            if _count(previous, "functionCall") != responses:
                raise Rejected(_COUNT_MISMATCH)


def _check_gemini_signatures_present(contents: list[dict]) -> None:
    """Gemini 3 refuses the current turn's function calls without their signature: the
    first functionCall part of every model step since the last plain user message."""
    start = 0
    for i, content in enumerate(contents):
        if content.get("role", "user") == "user" and _count(content, "functionResponse") == 0:
            start = i
    for content in contents[start:]:
        if content.get("role") != "model":
            continue
        for j, part in enumerate(_repeated(content["parts"])):
            call = _get(part, "functionCall")
            if call is None:
                continue
            if _get(part, "thoughtSignature") is None:
                raise Rejected(
                    "Function call is missing a thought_signature in functionCall parts. This "
                    "is required for tools to work correctly, and missing thought_signature "
                    "may lead to degraded model performance. Additional data, function call "
                    f"`default_api:{call['name']}` , position {j + 1}. Please refer to "
                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
                )
            break


def _check_gemini_generation_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise Rejected(
            "Invalid value at 'generation_config' (type.googleapis.com/google.ai.GenerationConfig)"
        )
    for key in config:
        if key not in GEMINI_GENERATION_FIELDS:
            raise _unknown(key, "generation_config")


# --- OpenAI Responses -----------------------------------------------------------------

# The top-level fields of CreateResponse and of the input_tokens body as the installed SDK
# types them (response_create_params.py, input_token_count_params.py), and the item, tool
# and include types of its unions. tests/unit/test_fake_responses.py keeps these equal to
# the SDK's, so a field a new SDK adds fails a test instead of being refused here.
OPENAI_RESPONSES_FIELDS = _fields(
    # access_programs, background_options and image: openai 3.x's create fields.
    "access_programs background_options image "
    "background context_management conversation include input instructions max_output_tokens "
    "max_tool_calls metadata model moderation parallel_tool_calls previous_response_id prompt "
    "prompt_cache_key prompt_cache_options prompt_cache_retention reasoning safety_identifier "
    "service_tier store stream stream_options temperature text tool_choice tools top_logprobs "
    "top_p truncation user"
)
OPENAI_INPUT_TOKENS_FIELDS = _fields(
    "conversation input instructions model parallel_tool_calls personality previous_response_id "
    "reasoning text tool_choice tools truncation"
)
RESPONSES_ITEM_TYPES = _fields(
    "configuration_update "  # openai 3.x
    "additional_tools apply_patch_call apply_patch_call_output code_interpreter_call compaction "
    "compaction_trigger computer_call computer_call_output custom_tool_call "
    "custom_tool_call_output file_search_call function_call function_call_output "
    "image_generation_call item_reference local_shell_call local_shell_call_output "
    "mcp_approval_request mcp_approval_response mcp_call mcp_list_tools message program "
    "program_output reasoning shell_call shell_call_output tool_search_call tool_search_output "
    "web_search_call"
)
RESPONSES_TOOL_TYPES = _fields(
    "apply_patch code_interpreter computer computer_use_preview custom file_search function "
    "image_generation local_shell mcp namespace programmatic_tool_calling shell tool_search "
    "web_search web_search_2025_08_26 web_search_preview web_search_preview_2025_03_11"
)
RESPONSES_INCLUDE = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)
# Third-party probes of the live API report 400 for an unknown previous_response_id; the
# gateway's notes (RESPONSES-NOTES.md bug 6) and this fake's brief say 404. One constant,
# so the tests follow whichever is confirmed.
PREVIOUS_RESPONSE_NOT_FOUND_STATUS = 404


class ResponsesLookup(Protocol):
    """What the Responses fake remembers, for the checks the real API makes against its
    own store: a request may only refer to what the API created."""

    def previous_call_ids(self, response_id: str) -> frozenset[str] | None:
        """The call_ids of every function call in that response's conversation, or None
        for a response it does not have."""
        ...

    def item(self, item_id: str) -> dict | None:
        """An output item of a stored response, or None."""
        ...

    def sealed_item_id(self, encrypted_content: str) -> str | None:
        """The reasoning item id an ``encrypted_content`` was minted for, or None when the
        fake did not mint it."""
        ...


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


# Field -> (accepts, what the error says was expected), in the order the live API reports
# type errors. null passes for every field but model, as in the SDK's Optional types.
_RESPONSES_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (_is_str, "a string"),
    "input": (lambda v: isinstance(v, str | list), "one of a string or array of input items"),
    "previous_response_id": (_is_str, "a string"),
    "conversation": (lambda v: isinstance(v, str | dict), "one of a string or an object"),
    "prompt": (_is_dict, "an object"),
    "include": (_is_list, "an array of strings"),
    "tools": (_is_list, "an array of tools"),
    "tool_choice": (
        lambda v: isinstance(v, str | dict),
        "one of an object or 'none', 'auto', or 'required'",
    ),
    "metadata": (_is_dict, "a metadata object"),
    "text": (_is_dict, "an object"),
    "reasoning": (_is_dict, "an object"),
    "temperature": (_is_number, "a decimal"),
    "top_p": (_is_number, "a decimal"),
    "max_output_tokens": (_is_int, "an integer"),
    "max_tool_calls": (_is_int, "an integer"),
    "top_logprobs": (_is_int, "an integer"),
    "instructions": (_is_str, "a string"),
    "stream": (_is_bool, "a boolean"),
    "store": (_is_bool, "a boolean"),
    "background": (_is_bool, "a boolean"),
    "parallel_tool_calls": (_is_bool, "a boolean"),
    "stream_options": (_is_dict, "an object"),
    "truncation": (_is_str, "one of 'auto' or 'disabled'"),
    "service_tier": (_is_str, "one of 'auto', 'default', 'flex', 'scale', 'priority', or 'fast'"),
    "prompt_cache_key": (_is_str, "a string"),
    "prompt_cache_retention": (_is_str, "one of 'in_memory' or '24h'"),
    "prompt_cache_options": (_is_dict, "an object"),
    "safety_identifier": (_is_str, "a string"),
    "user": (_is_str, "a string"),
    "personality": (_is_str, "a string"),
    "moderation": (_is_dict, "an object"),
    "context_management": (_is_list, "an array of objects"),
}
_RESPONSES_ENUMS: dict[str, tuple[str, ...]] = {
    "truncation": ("auto", "disabled"),
    "service_tier": ("auto", "default", "flex", "scale", "priority", "fast"),
    "prompt_cache_retention": ("in_memory", "24h"),
}
# Field -> (minimum, maximum or None, integer field).
_RESPONSES_BOUNDS: dict[str, tuple[int, int | None, bool]] = {
    "temperature": (0, 2, False),
    "top_p": (0, 1, False),
    "max_output_tokens": (16, None, True),
    "max_tool_calls": (1, None, True),
    "top_logprobs": (0, 20, True),
}
_RESPONSES_ROLES = ("assistant", "system", "developer", "user")
_RESPONSES_MESSAGE_KEYS = _fields("type role content status id")
_RESPONSES_ITEM_KEYS = {
    "function_call": _fields("type id call_id name arguments status namespace caller"),
    "function_call_output": _fields("type id call_id output status name namespace caller"),
    "reasoning": _fields("type id summary content encrypted_content status"),
    "item_reference": _fields("type id"),
}
# Every content part type the API knows, then the ones each side of a message may hold.
_RESPONSES_PART_TYPES = (
    "input_text",
    "input_image",
    "input_audio",
    "output_text",
    "refusal",
    "input_file",
    "computer_screenshot",
    "summary_text",
    "encrypted_content",
)
_RESPONSES_INPUT_PARTS = ("input_text", "input_image", "input_file", "input_audio")
_RESPONSES_OUTPUT_PARTS = ("output_text", "refusal")
_RESPONSES_TOOL_OUTPUT_PARTS = ("input_text", "input_image", "input_file")
_RESPONSES_PART_TEXT = {"input_text": "text", "output_text": "text", "refusal": "refusal"}
_RESPONSES_FUNCTION_TOOL_KEYS = _fields(
    "type name description parameters strict defer_loading allowed_callers output_schema"
)
_RESPONSES_REASONING_KEYS = _fields("effort summary generate_summary context mode")
_RESPONSES_REASONING_ENUMS = {
    "effort": ("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "summary": ("concise", "detailed", "auto"),
    "generate_summary": ("concise", "detailed", "auto"),
    "context": ("auto", "current_turn", "all_turns"),
}
_RESPONSES_FORMATS = ("json_object", "text", "json_schema")
_RESPONSES_STORE_HINT = (
    "Items are not persisted when `store` is set to false. Try again with `store` set to "
    "true, or remove this item from your input."
)
_RESPONSES_MOVED = (
    "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to "
    "'input'. Try again with the new parameter. See the API documentation for more "
    "information: https://platform.openai.com/docs/api-reference/responses/create."
)


def _responses_type_name(value: Any) -> str:
    """The Responses API names integers and decimals apart, unlike Chat's "a number"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    return _type_name(value)


def _responses_type(value: Any, expected: str, param: str) -> Rejected:
    return Rejected(
        f"Invalid type for '{param}': expected {expected}, but got "
        f"{_responses_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _listing(values: Sequence[str]) -> str:
    """OpenAI's list of supported values: 'a', 'b', and 'c' (or 'a' and 'b')."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) < 3:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _invalid_value(value: Any, allowed: Sequence[str], param: str) -> Rejected:
    shown = value if isinstance(value, str) else ""
    return Rejected(
        f"Invalid value: '{shown}'. Supported values are: {_listing(allowed)}.",
        param=param,
        code="invalid_value",
    )


def _unknown_parameter(param: str) -> Rejected:
    return Rejected(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def _only_keys(obj: dict, allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _unknown_parameter(f"{path}.{key}")


def _require_str(obj: dict, key: str, path: str) -> str:
    """A required string member: missing and mistyped are different errors."""
    if key not in obj:
        raise _openai_missing(f"{path}.{key}")
    if not isinstance(obj[key], str):
        raise _responses_type(obj[key], "a string", f"{path}.{key}")
    return obj[key]


def check_openai_responses(body: Any, known: ResponsesLookup, count_tokens: bool = False) -> None:
    """``POST /v1/responses``, or ``/v1/responses/input_tokens`` with ``count_tokens``.

    The order is the live API's: required fields, unknown fields, each field's schema,
    then what the request refers to (previous response, conversation, prompt), an empty
    input, and last the items' references: item ids, encrypted content and the pairing
    of function calls with their outputs.
    """
    if not isinstance(body, dict):
        raise _responses_type(body, "an object", "body")
    if not count_tokens:
        for name in ("model", "input"):
            if name not in body:
                raise _openai_missing(name)
    allowed = OPENAI_INPUT_TOKENS_FIELDS if count_tokens else OPENAI_RESPONSES_FIELDS
    for name in body:
        if name == "messages":
            raise Rejected(_RESPONSES_MOVED, code="unsupported_parameter")
        if name not in allowed:
            raise _unknown_parameter(name)
    for name, (fits, expected) in _RESPONSES_TYPES.items():
        value = body.get(name)
        if (value is not None or name == "model") and name in body and not fits(value):
            raise _responses_type(value, expected, name)
    items = body["input"] if isinstance(body.get("input"), list) else []
    for i, item in enumerate(items):
        _check_responses_item(item, f"input[{i}]")
    _check_responses_values(body)
    calls = _check_responses_state(body, known)
    if not count_tokens and body["input"] in ("", []) and body.get("previous_response_id") is None:
        raise Rejected(
            "One of \"input\" or \"previous_response_id\" or 'prompt' or 'conversation' must "
            "be provided.",
            code="missing_required_parameter",
        )
    _check_responses_references(items, known, calls)


def _check_responses_values(body: dict) -> None:
    """Enums, bounds and the nested objects, once every field has the right type."""
    for name, allowed in _RESPONSES_ENUMS.items():
        if body.get(name) is not None and body[name] not in allowed:
            raise _invalid_value(body[name], allowed, name)
    for name, (low, high, integer) in _RESPONSES_BOUNDS.items():
        value = body.get(name)
        if value is None:
            continue
        kind = "integer" if integer else "decimal"
        if value < low:
            raise Rejected(
                f"Invalid '{name}': {kind} below minimum value. Expected a value >= {low}, "
                f"but got {value} instead.",
                param=name,
                code=f"{kind}_below_min_value",
            )
        if high is not None and value > high:
            raise Rejected(
                f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high}, "
                f"but got {value} instead.",
                param=name,
                code=f"{kind}_above_max_value",
            )
    for i, value in enumerate(body.get("include") or []):
        if value not in RESPONSES_INCLUDE:
            raise _invalid_value(value, RESPONSES_INCLUDE, f"include[{i}]")
    for i, tool in enumerate(body.get("tools") or []):
        _check_responses_tool(tool, f"tools[{i}]")
    _check_responses_tool_choice(body.get("tool_choice"))
    _check_responses_metadata(body.get("metadata"))
    _check_responses_text(body.get("text"))
    _check_responses_reasoning(body.get("reasoning"))
    options = body.get("stream_options")
    if options is not None:
        _only_keys(options, frozenset({"include_obfuscation"}), "stream_options")


def _check_responses_item(item: Any, path: str) -> None:
    if not isinstance(item, dict):
        raise _responses_type(item, "an input item", path)
    kind = item.get("type", "message")
    if kind not in RESPONSES_ITEM_TYPES:
        raise _invalid_value(kind, sorted(RESPONSES_ITEM_TYPES), path)
    if kind == "message":
        _check_responses_message(item, path)
        return
    keys = _RESPONSES_ITEM_KEYS.get(kind)
    if keys is None:
        return  # server-tool and shell items: the fake never sees them from a translator
    _only_keys(item, keys, path)
    if kind == "function_call":
        _require_str(item, "call_id", path)
        _require_str(item, "name", path)
        _require_str(item, "arguments", path)
    elif kind == "function_call_output":
        _require_str(item, "call_id", path)
        _check_responses_tool_output(item, path)
    elif kind == "reasoning":
        _check_responses_reasoning_item(item, path)
    else:
        _require_str(item, "id", path)


def _check_responses_message(item: dict, path: str) -> None:
    role = item.get("role")
    if role not in _RESPONSES_ROLES:
        raise _invalid_value(role, _RESPONSES_ROLES, path)
    keys = _RESPONSES_MESSAGE_KEYS | {"phase"} if role == "assistant" else _RESPONSES_MESSAGE_KEYS
    _only_keys(item, keys, path)
    if "content" not in item:
        raise _openai_missing(f"{path}.content")
    content = item["content"]
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _responses_type(
            content, "one of a string or array of content parts", f"{path}.content"
        )
    allowed = _RESPONSES_OUTPUT_PARTS if role == "assistant" else _RESPONSES_INPUT_PARTS
    for j, part in enumerate(content):
        here = f"{path}.content[{j}]"
        if not isinstance(part, dict):
            raise _responses_type(part, "an object", here)
        kind = part.get("type")
        if kind not in _RESPONSES_PART_TYPES:
            raise _invalid_value(kind, _RESPONSES_PART_TYPES, f"{here}.type")
        if kind not in allowed:
            raise _invalid_value(kind, allowed, here)
        if kind in _RESPONSES_PART_TEXT:
            _require_str(part, _RESPONSES_PART_TEXT[kind], here)


def _check_responses_tool_output(item: dict, path: str) -> None:
    if "output" not in item:
        raise _openai_missing(f"{path}.output")
    output = item["output"]
    if isinstance(output, str):
        return
    if not isinstance(output, list):
        raise _responses_type(output, "one of a string or array of content parts", f"{path}.output")
    for j, part in enumerate(output):
        here = f"{path}.output[{j}]"
        if not isinstance(part, dict):
            raise _responses_type(part, "an object", here)
        if part.get("type") not in _RESPONSES_TOOL_OUTPUT_PARTS:
            raise _invalid_value(part.get("type"), _RESPONSES_TOOL_OUTPUT_PARTS, here)
        if part["type"] == "input_text":
            _require_str(part, "text", here)


def _check_responses_reasoning_item(item: dict, path: str) -> None:
    """Codex reads a reasoning item without a ``summary`` array as garbage, and the API
    refuses it as input; ``encrypted_content`` is checked with the references."""
    if "summary" not in item:
        raise _openai_missing(f"{path}.summary")
    summary = item["summary"]
    if not isinstance(summary, list):
        raise _responses_type(summary, "an array", f"{path}.summary")
    for key, kind, parts in (
        ("summary", "summary_text", summary),
        ("content", "reasoning_text", item.get("content") or []),
    ):
        if not isinstance(parts, list):
            raise _responses_type(parts, "an array", f"{path}.{key}")
        for j, part in enumerate(parts):
            here = f"{path}.{key}[{j}]"
            if not isinstance(part, dict):
                raise _responses_type(part, "an object", here)
            if part.get("type") != kind:
                raise _invalid_value(part.get("type"), (kind,), f"{here}.type")
            _require_str(part, "text", here)
    sealed = item.get("encrypted_content")
    if sealed is not None and not isinstance(sealed, str):
        raise _responses_type(sealed, "a string", f"{path}.encrypted_content")


def _check_responses_tool(tool: Any, path: str) -> None:
    if not isinstance(tool, dict):
        raise _responses_type(tool, "an object", path)
    if "type" not in tool:
        raise _openai_missing(f"{path}.type")
    kind = tool["type"]
    if kind not in RESPONSES_TOOL_TYPES:
        raise _invalid_value(kind, sorted(RESPONSES_TOOL_TYPES), f"{path}.type")
    if kind not in ("function", "custom", "namespace"):
        return
    name = _require_str(tool, "name", path)
    if len(name) > 64:
        raise Rejected(
            f"Invalid '{path}.name': string too long. Expected a string with maximum length "
            f"64, but got a string with length {len(name)} instead.",
            param=f"{path}.name",
            code="string_above_max_length",
        )
    if not name or not set(name) <= _TOOL_NAME_CHARS:
        raise Rejected(
            f"Invalid '{path}.name': string does not match pattern. Expected a string that "
            "matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param=f"{path}.name",
            code="invalid_value",
        )
    if kind == "function":
        _only_keys(tool, _RESPONSES_FUNCTION_TOOL_KEYS, path)
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise _responses_type(parameters, "an object", f"{path}.parameters")


def _check_responses_tool_choice(choice: Any) -> None:
    if isinstance(choice, str) and choice not in ("none", "auto", "required"):
        raise _invalid_value(choice, ("none", "auto", "required"), "tool_choice")
    if isinstance(choice, dict):
        if "type" not in choice:
            raise _openai_missing("tool_choice.type")
        if choice["type"] in ("function", "custom"):
            _require_str(choice, "name", "tool_choice")


def _check_responses_metadata(metadata: dict | None) -> None:
    if metadata is None:
        return
    if len(metadata) > 16:
        raise Rejected(
            "Invalid 'metadata': too many properties. Expected an object with at most 16 "
            f"properties, but got an object with {len(metadata)} properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, value in metadata.items():
        param = f"metadata.{key}"
        if not isinstance(value, str):
            raise _responses_type(value, "a string", param)
        if len(value) > 512:
            raise Rejected(
                f"Invalid '{param}': string too long. Expected a string with maximum length "
                f"512, but got a string with length {len(value)} instead.",
                param=param,
                code="string_above_max_length",
            )


def _check_responses_text(text: dict | None) -> None:
    """Structured output lives in ``text.format``, flat: a Chat ``response_format`` shape
    (``json_schema: {name, schema}``) lacks the name the API needs."""
    if text is None:
        return
    _only_keys(text, frozenset({"format", "verbosity"}), "text")
    verbosity = text.get("verbosity")
    if verbosity is not None and verbosity not in ("low", "medium", "high"):
        raise _invalid_value(verbosity, ("low", "medium", "high"), "text.verbosity")
    fmt = text.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, dict):
        raise _responses_type(fmt, "an object", "text.format")
    if fmt.get("type") not in _RESPONSES_FORMATS:
        raise _invalid_value(fmt.get("type"), _RESPONSES_FORMATS, "text.format.type")
    if fmt["type"] != "json_schema":
        return
    _only_keys(fmt, _fields("type name schema strict description"), "text.format")
    _require_str(fmt, "name", "text.format")
    if "schema" not in fmt:
        raise _openai_missing("text.format.schema")
    if not isinstance(fmt["schema"], dict):
        raise _responses_type(fmt["schema"], "an object", "text.format.schema")


def _check_responses_reasoning(reasoning: dict | None) -> None:
    if reasoning is None:
        return
    _only_keys(reasoning, _RESPONSES_REASONING_KEYS, "reasoning")
    for key, allowed in _RESPONSES_REASONING_ENUMS.items():
        value = reasoning.get(key)
        if value is not None and value not in allowed:
            raise _invalid_value(value, allowed, f"reasoning.{key}")


def _check_responses_state(body: dict, known: ResponsesLookup) -> set[str]:
    """The objects the request names must exist; returns the call_ids the previous
    response's conversation already holds. The fake keeps no conversations or prompts."""
    calls: set[str] = set()
    previous = body.get("previous_response_id")
    if previous is not None:
        found = known.previous_call_ids(previous)
        if found is None:
            raise Rejected(
                f"Previous response with id '{previous}' not found.",
                status=PREVIOUS_RESPONSE_NOT_FOUND_STATUS,
                param="previous_response_id",
                code="previous_response_not_found",
            )
        calls.update(found)
    for name, what in (("conversation", "Conversation"), ("prompt", "Prompt")):
        value = body.get(name)
        if value is not None:
            oid = value.get("id") if isinstance(value, dict) else value
            raise Rejected(f"{what} with id '{oid}' not found.", status=404)
    return calls


def _check_responses_references(items: list[dict], known: ResponsesLookup, calls: set[str]) -> None:
    """Item references and id-only reasoning items name items the API kept; encrypted
    content is the API's own and bound to its item id; every ``function_call_output``
    answers a ``function_call`` made before it (in this input or the previous response's
    conversation) and every ``function_call`` in the input has its output."""
    made: list[str] = []
    answered: set[str] = set()
    for item in items:
        if item.get("type") == "item_reference":
            item = _stored_item(item["id"], known)
        kind = item.get("type", "message")
        if kind == "reasoning":
            _check_responses_sealed(item, known)
        elif kind == "function_call":
            calls.add(item["call_id"])
            made.append(item["call_id"])
        elif kind == "function_call_output":
            if item["call_id"] not in calls:
                raise Rejected(
                    f"No tool call found for function call output with call_id {item['call_id']}.",
                    param="input",
                )
            answered.add(item["call_id"])
    for call_id in made:
        if call_id not in answered:
            raise Rejected(f"No tool output found for function call {call_id}.", param="input")


def _stored_item(item_id: str, known: ResponsesLookup) -> dict:
    found = known.item(item_id)
    if found is None:
        raise Rejected(
            f"Item with id '{item_id}' not found. {_RESPONSES_STORE_HINT}",
            status=404,
            param="input",
        )
    return found


def _check_responses_sealed(item: dict, known: ResponsesLookup) -> None:
    """The API only takes back encrypted reasoning it minted, under the item id it was
    minted for; a reasoning item with neither is looked up by id in the store."""
    sealed = item.get("encrypted_content")
    item_id = item.get("id")
    if sealed is None:
        if item_id is not None:
            _stored_item(item_id, known)
        return
    minted_for = known.sealed_item_id(sealed)
    if minted_for is None:
        if item_id is None:
            short = f"{sealed[:4]}...{sealed[-4:]}" if len(sealed) > 8 else sealed
            message = f"The encrypted content {short} could not be verified."
        else:
            message = (
                f"The encrypted content for item {item_id} could not be verified. Reason: "
                "Encrypted content could not be decrypted or parsed."
            )
        raise Rejected(message, code="invalid_encrypted_content")
    if item_id is not None and item_id != minted_for:
        raise Rejected(
            f"The encrypted content for item {item_id} could not be verified. Reason: "
            "Encrypted content item_id did not match the target item id.",
            code="invalid_encrypted_content",
        )
