"""The conversation: ``systemInstruction`` and ``contents`` with their parts, both ways.

Role ``model`` is the IR assistant; ``user``, a missing role and the legacy ``function``
role are the IR user, and ``functionResponse`` parts become IR ``tool`` messages. The
field-by-field rules are in docs/conversion.md (§2 and "Tool results").
"""

from __future__ import annotations

import orjson

from translators import fields, ir
from translators.gemini.wire import (
    PROTOCOL,
    before_gemini3,
    camel_obj,
    is_synth_id,
    json_text,
    listed,
    parse_signature,
    render_signature,
    standard_base64,
    synth_call_id,
)

# A part with only these keys (and a signature) is an empty text carrying the signature.
_SIGNATURE_ONLY = frozenset({"thought", "thoughtSignature"})
# Google's documented value for a history call whose signature is unknown.
SIGNATURE_PLACEHOLDER = "skip_thought_signature_validator"


# ---------------------------------------------------------------------------- parse


def parse_system(raw: object, form: dict) -> ir.Message:
    """``systemInstruction`` as one system message; its ``role`` is kept in ``form``."""
    system = camel_obj(raw, "systemInstruction")
    if "role" in system:
        form["systemInstructionRole"] = system["role"]
    at = "systemInstruction.parts"
    parts = listed(system.get("parts", []), at)
    return ir.Message(
        "system", [parse_part(p, fields.child(at, j), ("system", j)) for j, p in enumerate(parts)]
    )


def parse_contents(contents: list) -> list[ir.Message]:
    parser = _Contents()
    parser.parse(contents)
    return parser.messages


class _Contents:
    """Parses ``contents``. A ``functionResponse`` without ``id`` takes the id of the first
    unanswered call of the same name in the previous model turn."""

    __slots__ = ("_calls", "_used", "messages")

    def __init__(self) -> None:
        self.messages: list[ir.Message] = []
        self._calls: list[ir.ToolCall] = []  # calls of the latest model turn
        self._used: set[int] = set()  # positions in _calls already answered

    def parse(self, contents: list) -> None:
        for i, raw in enumerate(contents):
            at = fields.child("contents", i)
            content = camel_obj(raw, at)
            role = content.get("role") or "user"
            parts_at = fields.child(at, "parts")
            parts = listed(content.get("parts", []), parts_at)
            if role not in ("model", "user", "function"):
                raise fields.fail(
                    fields.child(at, "role"), f"must be user, model or function, not {role!r}"
                )
            if not parts:  # Gemini: "contents.parts must not be empty"
                raise fields.fail(parts_at, "must not be empty")
            if role == "model":
                self._model(parts, i, parts_at)
            else:
                self._user(parts, i, parts_at)

    def _model(self, parts: list, i: int, parts_at: str) -> None:
        out: list[ir.Part] = []
        for j, raw in enumerate(parts):
            at = fields.child(parts_at, j)
            if isinstance(raw, dict) and ("functionResponse" in raw or "function_response" in raw):
                raise fields.fail(at, "is a functionResponse, which a model turn cannot hold")
            out.append(parse_part(raw, at, ("req", i, j)))
        self._calls = [p for p in out if isinstance(p, ir.ToolCall)]
        self._used = set()
        self.messages.append(ir.Message("assistant", out))

    def _user(self, parts: list, i: int, parts_at: str) -> None:
        """A user content becomes user and tool messages, one per run of each kind."""
        current: ir.Message | None = None
        for j, raw in enumerate(parts):
            at = fields.child(parts_at, j)
            view = camel_obj(raw, at)
            part: ir.Part
            if "functionResponse" in view:
                role: ir.Role = "tool"
                part = self._response(view["functionResponse"], i, j, at)
            else:
                role = "user"
                part = parse_part(view, at, ("req", i, j))
                if isinstance(part, ir.ToolCall | ir.Thinking):
                    raise fields.fail(
                        at, "is a functionCall or thought, which a user turn cannot hold"
                    )
            if current is None or current.role != role:
                current = ir.Message(role, [])
                self.messages.append(current)
            current.parts.append(part)

    def _response(self, raw: object, i: int, j: int, at: str) -> ir.ToolResult:
        at = fields.child(at, "functionResponse")
        fr = camel_obj(raw, at)
        name = fields.need(fr, "name", fields.string, at)
        response = fields.obj(fr.get("response", {}), fields.child(at, "response"))
        call_id = fields.get(fr, "id", fields.string, at) or self._match(name)
        if call_id is None:
            call_id = synth_call_id("res", i, j, name)
        content, is_error = _response_content(response, fields.child(at, "response"))
        media_at = fields.child(at, "parts")
        for k, item in enumerate(listed(fr.get("parts", []), media_at)):
            content.append(parse_part(item, fields.child(media_at, k), ("res", i, j, k)))
        return ir.ToolResult(call_id, content, name=name, is_error=is_error)

    def _match(self, name: str) -> str | None:
        for k, call in enumerate(self._calls):
            if k not in self._used and call.name == name:
                self._used.add(k)
                return call.id
        return None


def _response_content(response: dict, at: str) -> tuple[list[ir.Part], bool | None]:
    """``{"output": "<text>"}`` is that text, ``{"error": x}`` an error result, any other
    object its JSON text."""
    if len(response) == 1:
        output = response.get("output")
        if isinstance(output, str) and _json_object(output) is None:
            return [ir.Text(output)], None
        if "error" in response:
            error = response["error"]
            text = error if isinstance(error, str) else json_text(error, fields.child(at, "error"))
            return [ir.Text(text)], True
    return [ir.Text(json_text(response, at))], None


def _json_object(text: str) -> dict | None:
    """The object a text holds when it is a JSON object (tool results often are)."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def parse_part(raw: object, at: str, key: tuple) -> ir.Part:
    """One part (not a functionResponse) as an IR part; ``key`` seeds ``gem_`` call ids.
    A ``thoughtSignature`` on a media part is dropped."""
    p = camel_obj(raw, at)
    sig = fields.get(p, "thoughtSignature", fields.string, at)
    if "text" in p or (sig is not None and p.keys() <= _SIGNATURE_ONLY):
        text = fields.string(p.get("text", ""), fields.child(at, "text"))
        if p.get("thought") is True:
            return _thinking(text, sig)
        return ir.Text(text, signature=sig)
    if "functionCall" in p:
        return _parse_call(p["functionCall"], fields.child(at, "functionCall"), sig, key)
    if "inlineData" in p:
        return _parse_blob(p["inlineData"], fields.child(at, "inlineData"))
    if "fileData" in p:
        return _parse_file(p["fileData"], fields.child(at, "fileData"))
    kind = next((k for k in p if k not in _SIGNATURE_ONLY), "<empty>")
    raise fields.fail(at, f"is a {kind!r} part, which cannot be translated")


def _thinking(text: str, sig: str | None) -> ir.Thinking:
    """A thought part; a foreign signature gives the thinking its origin back."""
    if sig is None:
        return ir.Thinking(text=text, origin=PROTOCOL)
    origin, signature, redacted = parse_signature(sig)
    return ir.Thinking(text=text, signature=signature, redacted=redacted, origin=origin)


def _parse_call(raw: object, at: str, sig: str | None, key: tuple) -> ir.ToolCall:
    fc = camel_obj(raw, at)
    name = fields.need(fc, "name", fields.string, at)
    args = fields.get(fc, "args", fields.obj, at) or {}
    text = json_text(args, fields.child(at, "args"))
    call_id = fields.get(fc, "id", fields.string, at) or synth_call_id(*key, name, text)
    return ir.ToolCall(call_id, name, text, signature=sig)


def _parse_blob(raw: object, at: str) -> ir.Image | ir.Audio | ir.Document:
    blob = camel_obj(raw, at)
    mime = fields.need(blob, "mimeType", fields.string, at)
    data = standard_base64(fields.need(blob, "data", fields.string, at))
    if mime.startswith("image/"):
        return ir.Image(media_type=mime, data=data)
    if mime.startswith("audio/"):
        return ir.Audio(media_type=mime, data=data)
    return ir.Document(media_type=mime, data=data)


def _parse_file(raw: object, at: str) -> ir.Image | ir.Document:
    ref = camel_obj(raw, at)
    uri = fields.need(ref, "fileUri", fields.string, at)
    mime = fields.get(ref, "mimeType", fields.string, at)
    if mime is not None and mime.startswith("image/"):
        return ir.Image(media_type=mime, url=uri)
    return ir.Document(media_type=mime, url=uri)


# --------------------------------------------------------------------------- render


def is_empty_text(part: ir.Part) -> bool:
    """Empty text without a signature is left out."""
    return isinstance(part, ir.Text) and not part.text and not part.signature


def render_system(messages: list[ir.Message]) -> list[dict]:
    """The parts of ``systemInstruction`` for the leading system/developer messages."""
    return [
        render_user_part(part, fields.child(fields.child(fields.child("messages", i), "parts"), j))
        for i, msg in enumerate(messages)
        for j, part in enumerate(msg.parts)
        if not is_empty_text(part)
    ]


def render_contents(req: ir.Request, start: int) -> list[dict]:
    """``contents`` for the messages from ``start`` on (the leading system messages are the
    ``systemInstruction``)."""
    return _RequestContents(req).build(start)


class _RequestContents:
    """Builds ``contents``. Same-role turns merge, and the responses to one model turn's
    calls form ONE user content, in the order of the calls: Gemini answers 400 ("number of
    function response parts is equal to the number of function call parts") when they are
    split over several contents."""

    __slots__ = ("_contents", "_media", "_names", "_order", "_req", "_run_start", "_same_protocol")

    def __init__(self, req: ir.Request) -> None:
        self._req = req
        self._same_protocol = req.source == PROTOCOL
        self._contents: list[dict] = []
        self._names = {
            part.id: part.name
            for msg in req.messages
            for part in msg.parts
            if isinstance(part, ir.ToolCall)
        }
        self._order: dict[str, int] = {}  # call id -> position in the latest model turn
        self._run_start = -1  # first functionResponse of the current run, or -1
        self._media: list[dict] = []  # tool-result media to place after the run

    def build(self, start: int) -> list[dict]:
        for i in range(start, len(self._req.messages)):
            msg = self._req.messages[i]
            at = fields.child(fields.child("messages", i), "parts")
            if msg.role == "assistant":
                self._model(msg, at)
            else:
                self._user(msg, at)
        self._end_run()
        if not self._same_protocol and not before_gemini3(self._req.model):
            for content in self._contents:
                if content["role"] == "model":
                    _add_placeholder(content["parts"])
        return self._contents

    def _model(self, msg: ir.Message, parts_at: str) -> None:
        self._end_run()  # the previous run is ordered by the calls it answers
        if not self._contents or self._contents[-1]["role"] != "model":
            self._order = {}
        for j, part in enumerate(msg.parts):
            at = fields.child(parts_at, j)
            if isinstance(part, ir.ToolCall):
                self._order[part.id] = len(self._order)
                self._add("model", render_call(part, at))
            elif isinstance(part, ir.Thinking):
                # Signatures are only valid for their provider: only Gemini's own goes back.
                if part.origin == PROTOCOL and part.redacted is None:
                    self._add("model", render_thought(part))
            elif isinstance(part, ir.Text):
                if not is_empty_text(part):
                    self._add("model", render_text(part))
            elif isinstance(part, ir.ToolResult):
                raise fields.fail(at, "is a tool result, which an assistant message cannot hold")
            else:
                self._add("model", render_media(part, at))

    def _user(self, msg: ir.Message, parts_at: str) -> None:
        for j, part in enumerate(msg.parts):
            at = fields.child(parts_at, j)
            if isinstance(part, ir.ToolResult):
                self._add_result(part, at)
            elif not is_empty_text(part):
                self._add("user", render_user_part(part, at))

    def _current(self, role: str) -> list[dict]:
        if not self._contents or self._contents[-1]["role"] != role:
            self._end_run()
            self._contents.append({"role": role, "parts": []})
        parts: list[dict] = self._contents[-1]["parts"]
        return parts

    def _add(self, role: str, part: dict) -> None:
        parts = self._current(role)
        self._end_run()
        parts.append(part)

    def _add_result(self, result: ir.ToolResult, at: str) -> None:
        """A ``functionResponse``: one JSON-object text is sent as the object, other text
        (several texts joined by newlines) as ``{"output": text}``, ``{"error": …}`` for
        errors. Media follow the run of responses, except that a Gemini caller's own
        ``functionResponse.parts`` (Gemini 3 only) are written back in place."""
        parts = self._current("user")
        if self._run_start < 0:
            self._run_start = len(parts)
        name = result.name or self._names.get(result.call_id)
        if name is None:
            raise fields.fail(
                fields.child(at, "name"),
                f"is required: no call in the history has the id {result.call_id!r}",
            )
        value, media = _result_value(result.content, at)
        response = {"error": value} if result.is_error else value
        if not isinstance(response, dict):
            response = {"output": value}
        fr: dict = {"name": name, "response": response}
        if result.call_id and not is_synth_id(result.call_id):
            fr["id"] = result.call_id
        if media and self._same_protocol:
            fr["parts"] = media
        elif media:
            self._media += media
        parts.append({"functionResponse": fr, "_call": result.call_id})

    def _end_run(self) -> None:
        """Puts the finished run of functionResponses in call order, then its media."""
        if self._run_start < 0:
            return
        parts = self._contents[-1]["parts"]
        run = parts[self._run_start :]
        last = len(self._order)
        run.sort(key=lambda part: self._order.get(part.pop("_call"), last))
        parts[self._run_start :] = run
        parts += self._media
        self._media = []
        self._run_start = -1


def _add_placeholder(parts: list[dict]) -> None:
    """Gemini 3 answers 400 ("Function call is missing a thought_signature") for history
    calls without a signature: a model turn from another format's caller that has calls
    but no signature anywhere gets Google's placeholder on its first call."""
    if any("thoughtSignature" in part for part in parts):
        return
    for part in parts:
        if "functionCall" in part:
            part["thoughtSignature"] = SIGNATURE_PLACEHOLDER
            return


def _result_value(content: list[ir.Part], at: str) -> tuple[dict | str, list[dict]]:
    """A tool result's ``response`` value (object or text) and its media parts."""
    texts: list[str] = []
    media: list[dict] = []
    for k, part in enumerate(content):
        part_at = fields.child(fields.child(at, "content"), k)
        if isinstance(part, ir.Text | ir.Document) and part.text is not None:
            texts.append(part.text)
        elif isinstance(part, ir.Image | ir.Audio | ir.Document):
            media.append(render_media(part, part_at))
        else:
            raise fields.fail(
                part_at, f"is a {type(part).__name__}, which a tool result cannot hold"
            )
    value = _json_object(texts[0]) if len(texts) == 1 else None
    if value is not None:
        return value, media
    return "\n".join(texts), media


def render_text(part: ir.Text) -> dict:
    out: dict = {"text": part.text}
    if part.signature:
        out["thoughtSignature"] = part.signature
    return out


def render_thought(thinking: ir.Thinking) -> dict:
    part: dict = {"text": thinking.text, "thought": True}
    sig = render_signature(thinking)
    if sig is not None:
        part["thoughtSignature"] = sig
    return part


def render_call(call: ir.ToolCall, at: str) -> dict:
    """A ``functionCall`` part; ``gem_`` ids are never shown to Gemini."""
    fc: dict = {"name": call.name, "args": render_args(call.arguments, at)}
    if call.id and not is_synth_id(call.id):
        fc["id"] = call.id
    part: dict = {"functionCall": fc}
    if call.signature:
        part["thoughtSignature"] = call.signature
    return part


def render_args(arguments: str, at: str) -> dict:
    """Gemini ``args`` must be a JSON object; IR arguments are JSON text ("" = none)."""
    return fields.json_object(arguments, at)


def render_user_part(part: ir.Part, at: str) -> dict:
    if isinstance(part, ir.Text):
        return render_text(part)
    if isinstance(part, ir.Image | ir.Audio | ir.Document):
        return render_media(part, at)
    raise fields.fail(at, f"is a {type(part).__name__}, which this message cannot hold")


def render_media(part: ir.Part, at: str) -> dict:
    """``inlineData`` for data (and ``data:`` URLs), ``fileData`` for a URL; the MIME type
    is guessed from the URL or filename when the part has none."""
    if isinstance(part, ir.Audio):
        return {"inlineData": {"mimeType": part.media_type, "data": part.data}}
    if isinstance(part, ir.Document):
        if part.file_id is not None:
            raise fields.fail(at, "is a provider file reference, which cannot go to Gemini")
        if part.text is not None and part.data is None and part.url is None:
            return {"text": part.text}
    if not isinstance(part, ir.Image | ir.Document):
        raise fields.fail(at, f"is a {type(part).__name__}, which cannot appear here")
    hint = part.filename if isinstance(part, ir.Document) else None
    if part.data is not None:
        mime = part.media_type or _guess_mime(hint)
        if mime is None:
            raise fields.fail(at, "has inline data of an unknown media type")
        return {"inlineData": {"mimeType": mime, "data": part.data}}
    url = part.url or ""
    if url.startswith("data:"):
        return _data_url(url, at)
    mime = part.media_type or _guess_mime(url) or _guess_mime(hint)
    if not url or mime is None:
        raise fields.fail(at, "needs a URL with a known media type")
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _data_url(url: str, at: str) -> dict:
    mime, data = fields.data_url(url, at)
    if mime is None:
        raise fields.fail(at, "must be a base64 data URL with a media type")
    return {"inlineData": {"mimeType": mime, "data": data}}


_MIME_BY_EXT = {
    **{ext: "image/" + ext for ext in ("png", "gif", "webp", "heic", "heif")},
    **{ext: "audio/" + ext for ext in ("wav", "mp3", "aac", "ogg", "flac")},
    **{ext: "video/" + ext for ext in ("mp4", "mov", "webm")},
    **{ext: "text/" + ext for ext in ("html", "csv")},
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
}


def _guess_mime(name: str | None) -> str | None:
    if not name:
        return None
    path = name.split("?", 1)[0].split("#", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _MIME_BY_EXT.get(ext)
