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
from typing import Any

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
    by exactly as many function responses (PEER-BUGS #5)."""
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
