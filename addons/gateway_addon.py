"""The gateway addon class, loaded by ``addons/gateway.py``.

Thin by design: it matches a route, resolves the model through the rules, and hands
bodies to ``translators.convert``; every format decision lives in the translators.
Native routes and same-protocol converter routes forward the caller's bytes (only the
model name and credentials change); other converter routes translate the request in
``request``, the whole answer or error in ``response``, and a stream chunk by chunk
through the callable set in ``responseheaders``.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from mitmproxy import http

from addons import (
    answers,
    body_limit,
    embeddings,
    faults,
    flow_notes,
    intercept,
    keys_config,
    observability,
    relay_plan,
    responses_state,
    routes,
    token_counts,
    upstream,
)
from addons.relay import Relay
from addons.responses_state import ResponsesState
from addons.rules import Resolution, Rules
from addons.rules_file import RulesFile
from addons.store import StoreError
from translators import convert, detect, ir
from translators.errors import TranslationError

log = logging.getLogger("gateway")

DOCS_ROUTES = "docs/routes.md"
StreamCallable = Callable[[bytes], Iterable[bytes] | bytes]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Kind(enum.Enum):
    """What the gateway does with one exchange; each hook branches on it."""

    PASSTHROUGH = "passthrough"  # the caller's bytes go as they came (model, credentials aside)
    REWRITTEN = "rewritten"  # same protocol, re-rendered to drop another provider's state
    TRANSLATED = "translated"  # request and answer converted between two protocols
    LOCAL = "local"  # answered by the gateway itself; nothing goes upstream


@dataclass(slots=True)
class Exchange:
    """What the gateway remembers about one live request, between hooks."""

    request_id: str
    route: routes.Route
    started: float
    kind: Kind = Kind.LOCAL
    provider: str = "-"
    upstream_model: str = "-"
    wire: ir.Protocol | None = None  # protocol spoken to the upstream
    stream: bool = False
    ctx: ir.RenderContext | None = None  # with Kind.TRANSLATED: how to render the answer
    translator: convert.StreamTranslator | None = None  # a translated stream in flight
    usage: ir.Usage | None = None  # what the upstream reported, when it could be read
    # The credential sent upstream, only to scrub it from an answer that echoes it.
    credential: str | None = field(default=None, repr=False)
    turn: responses_state.Turn | None = None  # a Responses call whose state the gateway keeps
    dropped: tuple[str, ...] = ()  # fields the target could not express, left out
    # A translated whole answer (generate, token count, embeddings): how it reaches the
    # caller.
    plan: answers.AnswerPlan | None = None
    notes: dict[str, object] = field(default_factory=dict)  # extra log fields
    key: str | None = None  # the gateway key's name (never the key)
    first_byte: float | None = None  # when the first byte left for the caller
    upstream_status: int | None = None  # the provider's own status, before translation
    upstream_plan: relay_plan.Plan | None = None  # for the relay, which talks to the provider


class Gateway:
    """The hooks. An ``Exchange`` lives from ``request`` until ``response`` or ``error``,
    one of which mitmproxy calls for each flow it carries on (never both)."""

    def __init__(
        self,
        rules_file: RulesFile,
        state: ResponsesState,
        listeners: Sequence[observability.ExchangeListener] = (),
        relay: Relay | None = None,
    ) -> None:
        self._rules_file = rules_file
        self._state = state
        self._live: dict[str, Exchange] = {}
        self._listeners = tuple(listeners)  # told of every exchange logged (metrics, limits)
        # Owns the exchange with the provider: timeouts, faults, fallbacks (docs/faults.md).
        self._relay = relay

    def _rules(self) -> Rules:
        # A method, not a property: mitmproxy getattr()s every attribute of an addon.
        assert self._rules_file.rules is not None, "rules are loaded in configure()"
        return self._rules_file.rules

    # ------------------------------------------------------------------ hooks

    async def request(self, flow: http.HTTPFlow) -> None:
        """Route, resolve, guard and rewrite the request; anything that goes wrong is
        answered here, in the caller's format, and never reaches the upstream."""
        if flow.response or flow.error or not flow.live:
            return
        if "gateway" in flow.metadata:  # claimed by an earlier gateway addon (passthrough)
            return
        rules = self._rules()
        host = intercept.intercepted_host(flow, rules.intercept)  # a provider's own host
        if host is None and not _addressed_to_gateway(flow):
            return
        openai_prefix = dict(rules.routes.converters).get("openai")
        state_path = (
            intercept.state_path(flow.request.path, host)
            if host
            else responses_state.match(flow.request.path, openai_prefix, rules.routes.native)
        )
        if state_path is not None:
            await self._answer_state(flow, state_path)
            return
        route = (
            intercept.route(flow.request.path, host)
            if host
            else routes.match(flow.request.path, rules.routes)
        )
        if route is None:
            if host is None and flow.client_conn.proxy_mode.type_name != "reverse":
                _answer(flow, 404, _not_found_body(flow))
            return
        ex = Exchange(
            request_id=observability.request_id(flow.request.headers.get("x-request-id")),
            route=route,
            started=time.monotonic(),
            key=flow.metadata.get(keys_config.KEY_METADATA),
        )
        self._live[flow.id] = ex
        try:
            if flow.request.method != "POST":
                raise MethodNotAllowed(flow.request.method, route.path)
            await self._forward(flow, ex)
        except MethodNotAllowed as e:
            ex.kind = Kind.LOCAL
            _answer(flow, 405, convert.render_error(route.client, e.to_ir())[1])
            assert flow.response is not None
            flow.response.headers["allow"] = "POST"
        except GuardRefusal as e:
            ex.kind = Kind.LOCAL
            _answer(flow, *convert.render_guard_error(route.client, e.to_ir()))
        except TranslationError as e:
            ex.kind = Kind.LOCAL
            status, body = convert.render_error(route.client, e.to_ir())
            # DESIGN: an oversized body is a 413 in every format (Gemini's own is a 400).
            _answer(flow, 413 if e.kind == "request_too_large" else status, body)
        except Exception:
            # A bug must not leave the request half-rewritten (or, in reverse mode, sent on
            # untranslated): answer in the caller's format instead of mitmproxy's 502 page.
            log.exception("gateway %s: request handling failed", ex.request_id)
            ex.kind = Kind.LOCAL
            message = f"The gateway failed to handle this request (request {ex.request_id})."
            err = ir.Error(kind="api_error", status=500, message=message)
            _answer(flow, *convert.render_error(route.client, err))
        flow.metadata["gateway"] = {
            "request_id": ex.request_id,
            "route": route.name,
            "client": route.client,
            "provider": ex.provider,
            "upstream_model": ex.upstream_model,
            "upstream_protocol": ex.wire,
            "kind": ex.kind.value,
            "translated": ex.kind is Kind.TRANSLATED,
        }
        if ex.dropped:
            flow.metadata["gateway"]["dropped"] = list(ex.dropped)
        if host:
            flow.metadata["gateway"]["intercepted_host"] = host
        if ex.upstream_plan is not None and self._relay is not None:
            await self._relay.exchange(flow, ex.upstream_plan)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Decide streaming before the body arrives: the headers leave when this hook
        returns, so a translated stream gets its caller's content type here."""
        ex = self._live.get(flow.id)
        response = flow.response
        if ex is None or response is None:
            return
        ex = self._served_exchange(flow, ex)
        response.headers["x-request-id"] = ex.request_id
        ex.upstream_status = response.status_code  # ops: upstream errors by provider
        if ex.dropped:
            response.headers["x-gateway-dropped"] = ",".join(ex.dropped)
        streamed = ex.stream and 200 <= response.status_code < 300
        if ex.kind is not Kind.TRANSLATED:
            if streamed:
                response.stream = True
        elif streamed:
            _start_translated_stream(response, ex)
        else:
            # Whole answers and errors are translated in response(), so they must be
            # buffered even when stream_large_bodies would stream them.
            response.stream = False
        if streamed and response.stream:  # ops: time to first token
            response.stream = _first_byte_timer(ex, response.stream)

    async def response(self, flow: http.HTTPFlow) -> None:
        """Translate buffered answers and errors (streams are done by now), keep a
        Responses answer the gateway owns the state of, and log."""
        ex = self._live.pop(flow.id, None)
        plan = self._relay.finish(flow) if self._relay is not None else None
        if ex is None or flow.response is None:
            return
        response = flow.response
        response.headers["x-request-id"] = ex.request_id  # answers made by the gateway itself
        if response.stream is False and response.status_code >= 400 and ex.credential:
            raw = response.get_content(strict=False) or b""
            if ex.credential.encode() in raw:
                response.content = upstream.scrub(raw, ex.credential)
        if ex.translator is not None:
            ex.usage = ex.translator.usage
        elif ex.plan is not None and ex.kind is not Kind.LOCAL:
            # (LOCAL: no provider answered, the relay's fault answer is the caller's already)
            _answer_plan(response, ex)  # sets ex.usage from the answer it parsed
        elif _whole_passthrough_answer(response, ex):
            assert ex.wire is not None
            ex.usage = convert.usage_of(response.get_content(strict=False) or b"", ex.wire)
        if ex.usage is not None and "gateway" in flow.metadata:
            flow.metadata["gateway"]["tokens"] = observability.usage_record(ex.usage)
        if ex.notes and "gateway" in flow.metadata:
            flow.metadata["gateway"].update(ex.notes)
        if ex.turn is not None and ex.kind is Kind.TRANSLATED:
            await self._finish_turn(response, ex)
        # A stream that failed after its 200 went out must not log as a success.
        error = ex.translator.error if ex.translator else None
        self._log(ex, response.status_code, error or _relay_error(plan), plan)
        _annotate(flow, ex, response.status_code, error or _relay_error(plan))

    def error(self, flow: http.HTTPFlow) -> None:
        """The upstream or the client went away: log it, and forget the exchange."""
        ex = self._live.pop(flow.id, None)
        plan = self._relay.finish(flow, caller_gone=True) if self._relay is not None else None
        if ex is not None:
            message = flow.error.msg if flow.error else "unknown error"
            self._log(ex, "error", _relay_error(plan) or message, plan)
            _annotate(flow, ex, "error", _relay_error(plan) or message)

    async def _answer_state(self, flow: http.HTTPFlow, path: responses_state.StatePath) -> None:
        """A Responses state path, answered from the gateway's store. A native path for
        an id the gateway does not hold goes on to OpenAI, which keeps its own state."""
        request = flow.request
        request_id = observability.request_id(request.headers.get("x-request-id"))
        if request.method not in responses_state.allowed_methods(path):
            allow = ", ".join(responses_state.allowed_methods(path))
            message = f"{request.method} is not allowed on {request.path}; use {allow}."
            err = ir.Error(kind="invalid_request", status=405, message=message)
            _answer(flow, 405, convert.render_error("openai_responses", err)[1])
            assert flow.response is not None
            flow.response.headers["allow"] = allow
        else:
            try:
                store = self._state.store_for(self._rules())
                query = dict(request.query.items())
                body = request.get_content(strict=False) or b""
                status, answer = await self._state.answer(store, path, request.method, query, body)
                _answer(flow, status, orjson.dumps(answer))
            except responses_state.NotFound as e:
                if path.native and self._forward_state_to_openai(flow, request_id):
                    return
                err = ir.Error(kind="not_found", status=404, message=e.message, param=e.param)
                _answer(flow, *convert.render_error("openai_responses", err))
            except ValueError as e:
                err = ir.Error(kind="invalid_request", status=400, message=str(e))
                _answer(flow, *convert.render_error("openai_responses", err))
            except StoreError as e:
                log.error("gateway %s: the Responses store failed: %s", request_id, e)
                message = f"The gateway's Responses store failed (request {request_id})."
                err = ir.Error(kind="api_error", status=500, message=message)
                _answer(flow, *convert.render_error("openai_responses", err))
        assert flow.response is not None
        flow.response.headers["x-request-id"] = request_id

    def _forward_state_to_openai(self, flow: http.HTTPFlow, request_id: str) -> bool:
        """Send a native state request the store cannot answer to the first OpenAI
        provider, with its credential; False when none is configured."""
        provider = next(
            (p for p in self._rules().providers.values() if p.protocol == "openai"), None
        )
        if provider is None:
            return False
        credential = upstream.caller_credential(flow.request.headers, None)
        flow.request.url = provider.base_url + flow.request.path.removeprefix("/v1")
        upstream.prepare_headers(
            flow.request.headers, provider, credential, translated=False, same_family=True
        )
        flow.request.headers["x-request-id"] = request_id
        return True

    # ------------------------------------------------------- the request's steps

    async def _forward(self, flow: http.HTTPFlow, ex: Exchange) -> None:
        """The request's path, one named step each: resolve the model, guard a native
        route, splice in stored Responses state, then pass through, rewrite or
        translate, and address the upstream."""
        raw = _request_body(flow, self._rules().max_body_bytes)
        body = convert.load_json(raw)
        if ex.route.endpoint == "embeddings":
            self._embed(flow, ex, body)
            return
        if ex.route.kind == "native":
            self._guard_format(body, ex.route)
        model, res = self._resolve_model(body, ex)
        # A gateway key limited to some models: 403.
        keys_config.check_model(self._rules().keys, ex.key, model, f"{ex.provider}/{res.model}")
        if ex.route.kind == "native":
            self._guard_provider(ex.route, res, model, ex.wire)
        if ex.route.client == "openai_responses":
            # A token count of a turn that continues stored state counts that state too.
            body = await self._begin_turn(body, ex)
        counting = ex.route.endpoint == "count_tokens"
        if counting and token_counts.count_mode(res) == "estimate":
            estimate = token_counts.estimate(body, ex.route.client, model)
            ex.notes.update(estimate.notes)
            _answer(flow, estimate.status, estimate.body or b"")
            return
        if counting:
            ex.wire = token_counts.count_wire(res)
        credential = upstream.caller_credential(flow.request.headers, flow.request.query.get("key"))
        # Fallbacks are rendered from the caller's request as it came, if they are needed.
        original = flow.request.copy() if res.fallbacks and self._relay is not None else None
        if ex.wire == ex.route.client:
            query = _pass_through(flow, ex, body, raw, model, res)
        elif counting:
            sealed = ex.route.client == "openai_responses"  # may carry sealed state
            key = await self._state.state_key(self._rules()) if sealed else None
            _translate_count(flow, ex, body, res, key)
            query = None
        else:
            responses = "openai_responses" in (ex.wire, ex.route.client)
            key = await self._state.state_key(self._rules()) if responses else None
            _translate_request(flow, ex, body, model, res, key)
            query = None
        _address_upstream(flow, ex, res, credential, query)
        if self._relay is not None:
            ex.upstream_plan = self._plan(flow, ex, res, original, model, credential)

    def _embed(self, flow: http.HTTPFlow, ex: Exchange, body: dict) -> None:
        """Embeddings (addons/embeddings.py): resolved and credentialed like a generate
        call, passed through to a provider of the caller's protocol or translated
        between OpenAI's ``/v1/embeddings`` and Gemini's ``embedContent`` /
        ``batchEmbedContents``. A native route guards its own way: the body of an
        embeddings call looks like no generate format."""
        model, res = self._resolve_model(body, ex)
        keys_config.check_model(self._rules().keys, ex.key, model, f"{ex.provider}/{res.model}")
        refusal = embeddings.guard(ex.route, res, model, self._rules().routes)
        if refusal is not None:
            raise GuardRefusal(refusal, param="model", code="400")
        query = list(flow.request.query.items(multi=True))
        call = embeddings.prepare(ex.route, body, model, res, query)
        ex.kind = Kind.TRANSLATED if call.translated else Kind.PASSTHROUGH
        ex.wire, ex.plan, ex.dropped = call.wire, call.plan, call.dropped
        if call.body is not None:
            _set_body(flow, call.body)
        credential = upstream.caller_credential(flow.request.headers, flow.request.query.get("key"))
        flow.request.url = call.url
        ex.credential = upstream.prepare_headers(
            flow.request.headers,
            res.provider,
            credential,
            translated=call.translated,
            same_family=upstream.family(ex.route.client) == res.provider.protocol,
        )
        flow.request.headers["x-request-id"] = ex.request_id

    async def _begin_turn(self, body: dict, ex: Exchange) -> dict:
        """A Responses call: the stored history it continues, spliced in. OpenAI keeps
        its own state, so an id the gateway does not hold goes on to it untouched."""
        try:
            ex.turn = await responses_state.begin_turn(
                self._state.store_for(self._rules()),
                body,
                provider_keeps_state=ex.wire == "openai_responses",
            )
        except responses_state.TurnError as e:
            kind: ir.ErrorKind = "not_found" if e.status == 404 else "overloaded"
            raise TranslationError(e.message, param=e.param, kind=kind, status=e.status) from None
        return ex.turn.body

    async def _finish_turn(self, response: http.Response, ex: Exchange) -> None:
        """Store a translated Responses answer for ``previous_response_id`` and
        conversations; a store failure is logged, the caller already has its answer."""
        assert ex.turn is not None
        if ex.translator is not None:
            answer = ex.translator.final_response
        elif 200 <= response.status_code < 300:
            answer = orjson.loads(response.content or b"{}")
        else:
            answer = None
        if not answer:
            return
        try:
            await responses_state.finish_turn(
                self._state.store_for(self._rules()),
                ex.turn,
                answer,
                provider=ex.provider,
                model=ex.upstream_model,
            )
        except (StoreError, ValueError) as e:
            log.error("gateway %s: storing the response failed: %s", ex.request_id, e)

    def _resolve_model(self, body: dict, ex: Exchange) -> tuple[str, Resolution]:
        """The caller's model name (the Gemini path's, or the body's) and where the rules
        send it; the exchange learns its provider and wire protocol here."""
        model = ex.route.model or body.get("model")
        if model is None:
            raise TranslationError("The request names no model.", param="model")
        if not isinstance(model, str) or not model:
            raise TranslationError("model must be a non-empty string", param="model")
        res = self._rules().resolve(model)
        if res is None:
            raise TranslationError(
                _unknown_model_message(model, self._rules()),
                param="model",
                kind="not_found",
                status=404,
            )
        ex.provider, ex.upstream_model = res.provider.name, res.model
        ex.wire = upstream.wire_protocol(res.provider.protocol, ex.route.client, res.api)
        return model, res

    def _guard_format(self, body: dict, route: routes.Route) -> None:
        """A native route forwards bytes unchanged, so the body must already be in the
        route's format; checked before anything else, so a body of another format is
        named as such rather than refused for a field its own format does not have."""
        ok, looks_like = detect.check(body, route.client)
        here = convert.PROTOCOL_NAMES[route.client]
        named = route.model or body.get("model")
        model = named if isinstance(named, str) and named else "MODEL"
        if not ok:
            if looks_like is None:
                raise GuardRefusal(
                    f"{route.path} takes {here} requests, and this body is not recognisable as "
                    f"any supported format. See {DOCS_ROUTES}.",
                    param="body",
                    code="400",
                )
            there = convert.PROTOCOL_NAMES[looks_like]
            raise GuardRefusal(
                f"{route.path} is a native route for {here} requests, but this body is in "
                f"{there} format. A native route passes the body unchanged to a provider that "
                f"speaks {here}, which would reject it. Send it to "
                f"{_native_or_converter(looks_like, self._rules(), model)} instead. "
                f"See {DOCS_ROUTES}.",
                param="body",
                code="400",
            )

    def _guard_provider(
        self, route: routes.Route, res: Resolution, model: str, wire: ir.Protocol | None
    ) -> None:
        """The model's provider must speak the route's protocol: a native route does not
        convert."""
        if wire != route.client:
            assert wire is not None
            here = convert.PROTOCOL_NAMES[route.client]
            converter = routes.converter_path(route.client, self._rules().routes, model)
            raise GuardRefusal(
                f"{route.path} is a native route for {here} requests, but model '{model}' is "
                f"served by provider '{res.provider.name}', which speaks "
                f"{convert.PROTOCOL_NAMES[wire]}; a native route does not convert. Send it to "
                f"{converter} to have it converted. See {DOCS_ROUTES}.",
                param="model",
                code="400",
            )

    # ------------------------------------------------- the relay (docs/faults.md)

    def _plan(
        self,
        flow: http.HTTPFlow,
        ex: Exchange,
        res: Resolution,
        original: http.Request | None,
        model: str,
        credential: str | None,
    ) -> relay_plan.Plan:
        """What the relay needs to talk to the provider: the first target is the request
        as rewritten above; a fallback is rendered only when the relay needs it."""
        first = _target(flow.request, ex)
        plan = relay_plan.Plan(
            ex.request_id, ex.route.client, ex.stream, self._rules().timeouts, [first]
        )
        if original is not None:
            plan.fallbacks = list(res.fallbacks)
            plan.retry_wait = plan.timeouts.retry_wait
            plan.prepare = lambda name: self._fallback(flow, original, ex, model, credential, name)
        return plan

    def _fallback(
        self,
        flow: http.HTTPFlow,
        original: http.Request,
        ex: Exchange,
        model: str,
        credential: str | None,
        name: str,
    ) -> relay_plan.Target | None:
        """The caller's request rendered for the fallback ``name`` (``provider/model``) by
        the same steps as the first target, on a scratch copy; None when that target
        cannot serve it: a native route never converts, and the target's protocol may
        not express a field the caller sent."""
        res = self._rules().resolve(name)
        if res is None:
            return None
        fex = Exchange(request_id=ex.request_id, route=ex.route, started=ex.started)
        fex.provider, fex.upstream_model = res.provider.name, res.model
        fex.wire = upstream.wire_protocol(res.provider.protocol, ex.route.client, res.api)
        if ex.route.kind == "native" and fex.wire != ex.route.client:
            return None
        scratch = http.HTTPFlow(flow.client_conn, flow.server_conn)
        scratch.request = original.copy()
        raw = scratch.request.get_content(strict=False) or b""
        try:
            body = convert.load_json(raw)
            if fex.wire == ex.route.client:
                query = _pass_through(scratch, fex, body, raw, model, res)
            else:
                _translate_request(scratch, fex, body, model, res, None)
                query = None
        except TranslationError as e:
            log.info("gateway %s: fallback %s skipped: %s", ex.request_id, name, e.message)
            return None
        _address_upstream(scratch, fex, res, credential, query)
        return _target(scratch.request, fex)

    def _served_exchange(self, flow: http.HTTPFlow, ex: Exchange) -> Exchange:
        """Once the relay answered: the exchange of the target whose answer this is (a
        fallback's has its own protocol and render context), or, when no provider
        answered, a local one: the gateway's own answer is in the caller's format."""
        plan = self._relay.plan(flow) if self._relay is not None else None
        if plan is None:
            return ex
        if plan.served is None:
            ex.kind = Kind.LOCAL
            return ex
        served = plan.served.context
        if not isinstance(served, Exchange) or served is ex:
            return ex
        self._live[flow.id] = served
        if "gateway" in flow.metadata:
            flow.metadata["gateway"].update(
                provider=served.provider,
                upstream_model=served.upstream_model,
                upstream_protocol=served.wire,
                kind=served.kind.value,
                translated=served.kind is Kind.TRANSLATED,
            )
        return served

    def _log(
        self,
        ex: Exchange,
        status: int | str,
        error: str | None = None,
        plan: relay_plan.Plan | None = None,
    ) -> None:
        record = observability.log_exchange(
            request_id=ex.request_id,
            route=ex.route.name,
            client=ex.route.client,
            provider=ex.provider,
            upstream_model=ex.upstream_model,
            status=status,
            latency_ms=(time.monotonic() - ex.started) * 1000,
            error=error,
            usage=ex.usage,
            dropped=ex.dropped,
            notes=ex.notes,
            ttft_ms=(ex.first_byte - ex.started) * 1000 if ex.first_byte is not None else None,
            key=ex.key,
            upstream_status=ex.upstream_status,
            attempts=plan.attempts if plan is not None else None,
        )
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("gateway %s: an exchange listener failed", ex.request_id)


def _annotate(flow: http.HTTPFlow, ex: Exchange, status: int | str, error: str | None) -> None:
    """The one-line comment and the marker mitmweb's flow list shows (flow_notes.py)."""
    flow.comment, flow.marked = flow_notes.note(
        client=ex.route.client,
        provider=ex.provider,
        model=ex.upstream_model,
        kind=ex.kind.value,
        status=status,
        seconds=time.monotonic() - ex.started,
        usage=ex.usage,
        dropped=ex.dropped,
        error=error,
    )


def _pass_through(
    flow: http.HTTPFlow, ex: Exchange, body: dict, raw: bytes, model: str, res: Resolution
) -> list[tuple[str, str]] | None:
    """Same protocol on both sides: the caller's bytes go on, with the upstream's model
    name, unless the conversation carries another provider's state, which is stripped.
    Returns the caller's query to keep (Gemini's)."""
    route = ex.route
    wire = route.client
    ex.kind = Kind.PASSTHROUGH
    ex.stream = route.stream if route.stream is not None else body.get("stream") is True
    generate = route.endpoint == "generate"
    if ex.turn is not None and ex.turn.changed:
        ex.kind = Kind.REWRITTEN  # history the gateway kept, for a provider that has none
        _set_body(flow, orjson.dumps({**body, "model": res.model}))
    elif route.kind != "native" and generate and convert.carries_gateway_state(raw):
        ex.kind = Kind.REWRITTEN
        req = convert.parse_request(body, wire, model=route.model, stream=route.stream)
        _set_body(flow, convert.render_request(req, wire, model=res.model).body)
    elif res.model != model and wire != "gemini":
        body["model"] = res.model
        _set_body(flow, orjson.dumps(body))
    return list(flow.request.query.items(multi=True)) if wire == "gemini" else None


def _translate_request(
    flow: http.HTTPFlow,
    ex: Exchange,
    body: dict,
    model: str,
    res: Resolution,
    state_key: bytes | None,
) -> None:
    """Caller format -> IR -> the upstream's format, and what the answer will need."""
    route, wire = ex.route, ex.wire
    assert wire is not None
    if not convert.supported(route.client, wire):
        raise TranslationError(
            f"Converting {convert.PROTOCOL_NAMES[route.client]} requests to "
            f"{convert.PROTOCOL_NAMES[wire]} is not supported yet.",
            kind="not_implemented",
            status=501,
        )
    req = convert.parse_request(body, route.client, model=route.model, stream=route.stream)
    rendered = convert.render_request(
        req,
        wire,
        model=res.model,
        default_max_tokens=res.max_tokens,
        json_via_tool=res.structured_output == "tool",
        max_tokens_field=res.provider.max_tokens_field,
        state_key=state_key,
        provider=res.provider.name,
        strict=res.strict,
    )
    _set_body(flow, rendered.body)
    ex.kind, ex.stream, ex.dropped = Kind.TRANSLATED, req.stream, rendered.dropped
    ex.ctx = _render_context(flow, ex, req, rendered, model, state_key)
    ex.plan = answers.GeneratePlan(wire, route.client, ex.ctx)


def _translate_count(
    flow: http.HTTPFlow, ex: Exchange, body: dict, res: Resolution, state_key: bytes | None
) -> None:
    """A count request for a model of another protocol, as the count request of the
    provider's own counting endpoint (addons/token_counts.py); its answer is translated
    back by a ``CountPlan``. A count stores no Responses turn."""
    assert ex.wire is not None
    req = convert.parse_count_request(body, ex.route.client, model=ex.route.model)
    rendered = convert.render_count_request(
        req, ex.wire, model=res.model, state_key=state_key, provider=res.provider.name
    )
    _set_body(flow, rendered)
    ex.kind, ex.stream, ex.turn = Kind.TRANSLATED, False, None
    ex.plan = token_counts.CountPlan(ex.wire, ex.route.client)


def _answer_plan(response: http.Response, ex: Exchange) -> None:
    """A companion endpoint's answer through its plan; usage and notes for the log."""
    assert ex.plan is not None
    out = answers.apply(response, ex.plan, ex.request_id)
    ex.usage = out.usage
    ex.notes.update(out.notes)


def _render_context(
    flow: http.HTTPFlow,
    ex: Exchange,
    req: ir.Request,
    rendered: convert.Rendered,
    model: str,
    state_key: bytes | None,
) -> ir.RenderContext:
    """What the answer's renderer needs and cannot compute itself (no clocks or ids in
    translators/), and what the request changed that the answer must undo. A Responses
    answer's id is the key it is stored under, so it is seeded by the flow's own unique
    id rather than a request id the caller may reuse."""
    json_array = ex.route.client == "gemini" and flow.request.query.get("alt") != "sse"
    seed = flow.id if ex.route.client == "openai_responses" else ex.request_id
    return ir.RenderContext(
        model=model,
        created=int(time.time()),
        request_id=seed,
        include_usage=req.include_usage,
        source=ex.wire,
        input_tokens_estimate=convert.estimate_input_tokens(req),
        tool_names=rendered.tool_names,
        json_tool=rendered.json_tool,
        tool_origins=rendered.tool_origins,
        framing="json_array" if json_array else "sse",
        state_key=state_key,
        provider=ex.provider,
        echo=responses_state.echoed(ex.turn) if ex.turn is not None else {},
    )


def _address_upstream(
    flow: http.HTTPFlow,
    ex: Exchange,
    res: Resolution,
    credential: str | None,
    query: list[tuple[str, str]] | None,
) -> None:
    """Point the request at the provider, with exactly its credential and headers."""
    assert ex.wire is not None
    flow.request.url = upstream.upstream_url(
        res.provider, ex.wire, ex.route.endpoint, res.model, ex.stream, query
    )
    ex.credential = upstream.prepare_headers(
        flow.request.headers,
        res.provider,
        credential,
        translated=ex.kind is Kind.TRANSLATED,
        same_family=upstream.family(ex.route.client) == res.provider.protocol,
    )
    flow.request.headers["x-request-id"] = ex.request_id


def _whole_passthrough_answer(response: http.Response, ex: Exchange) -> bool:
    """A successful answer the upstream sent whole and the gateway passed on, whose usage
    is read for the log line (a passed-through stream is never parsed)."""
    forwarded = ex.kind in (Kind.PASSTHROUGH, Kind.REWRITTEN)
    return forwarded and response.stream is False and 200 <= response.status_code < 300


def _start_translated_stream(response: http.Response, ex: Exchange) -> None:
    """Swap the upstream's stream headers for the caller's and translate chunk by chunk."""
    assert ex.wire is not None and ex.ctx is not None
    translator = ex.translator = convert.StreamTranslator(ex.wire, ex.route.client, ex.ctx)
    for name in ("content-length", "content-encoding", "content-disposition"):
        response.headers.pop(name, None)
    json_array = ex.ctx.framing == "json_array"
    response.headers["content-type"] = "application/json" if json_array else "text/event-stream"
    response.headers["cache-control"] = "no-cache"
    response.stream = _stream_callable(translator, ex.request_id, client=ex.route.client)


class GuardRefusal(TranslationError):
    """The native-route guard's 400, answered in DESIGN's guard shape: ``type``
    ``invalid_request_error`` and the string ``code`` "400" in the route's envelope."""


class MethodNotAllowed(TranslationError):
    """A gateway route asked with another method than POST: 405, with ``Allow``."""

    def __init__(self, method: str, path: str) -> None:
        super().__init__(
            f"{method} is not allowed on {path}; it takes POST.", kind="invalid_request", status=405
        )


def _stream_callable(
    translator: convert.StreamTranslator, request_id: str, *, client: ir.Protocol | None = None
):
    """mitmproxy calls this once per upstream chunk and once with b"" at the end.

    An exception escaping it would leave the caller hanging with headers sent, so every
    failure becomes the caller's in-stream error. Returning b"" mid-stream would end the
    HTTP/1.1 response, so "nothing yet" is an empty list.
    """

    def on_chunk(chunk: bytes) -> bytes | list[bytes]:
        try:
            out = translator.feed(chunk) if chunk else translator.finish()
        except Exception:
            log.exception("gateway %s: stream translation failed", request_id)
            try:
                out = translator.fail(
                    f"The gateway failed to translate the stream (request {request_id})."
                )
            except Exception:  # the renderer itself is broken: nothing more can be said
                out = b""
        if not chunk and client is not None:
            out = faults.close_failed_stream(client, out, translator.error is not None)
        return out if out or not chunk else []

    return on_chunk


def _first_byte_timer(ex: Exchange, stream: bool | StreamCallable) -> StreamCallable:
    """The stream as it was (``True``: forwarded as is, or a translator), noting when
    its first byte leaves for the caller (``gateway_time_to_first_token_seconds``)."""
    inner = stream if callable(stream) else None

    def on_chunk(chunk: bytes) -> Iterable[bytes] | bytes:
        # An empty chunk mid-stream would end the HTTP/1.1 response: [] says "nothing".
        out = inner(chunk) if inner is not None else (chunk or [])
        if ex.first_byte is None and out:
            ex.first_byte = time.monotonic()
        return out

    return on_chunk


def _target(request: http.Request, ex: Exchange) -> relay_plan.Target:
    """A target for the relay: the request as rewritten for ``ex``'s provider."""
    assert ex.wire is not None
    return relay_plan.Target(
        ex.provider,
        ex.upstream_model,
        ex.wire,
        (request.scheme, request.host, request.port),
        request.path,
        request.method.encode(),
        [(name.lower(), value) for name, value in request.headers.fields],
        request.raw_content or b"",
        context=ex,
    )


def _relay_error(plan: relay_plan.Plan | None) -> str | None:
    """What the relay saw go wrong, naming the provider: a fault it answered itself, or
    a stream that broke off."""
    if plan is None:
        return None
    return str(plan.fault) if plan.fault is not None else plan.error


def _addressed_to_gateway(flow: http.HTTPFlow) -> bool:
    """Requests sent to the proxy as if it were the API (an SDK whose base URL points at
    it), or any request in reverse mode. Traffic that merely uses mitmproxy as a proxy —
    a browser, a tunnel to a real provider — names another host:port and is not ours."""
    client = flow.client_conn
    if client.proxy_mode.type_name == "reverse":
        return True
    if client.tls_established:  # inside a CONNECT tunnel to some other server
        return False
    local_host, local_port = client.sockname[:2]
    request = flow.request
    return request.port == local_port and (request.host in _LOOPBACK or request.host == local_host)


def _request_body(flow: http.HTTPFlow, limit: int) -> bytes:
    """The request body decoded, never past ``limit`` bytes: a 413 rather than a
    decompression bomb taking the process's memory and event loop."""
    raw = flow.request.raw_content or b""
    try:
        return body_limit.decoded(raw, flow.request.headers.get("content-encoding", ""), limit)
    except body_limit.BodyTooLarge as e:
        raise TranslationError(str(e), param="body", kind="request_too_large", status=413) from None
    except ValueError as e:
        raise TranslationError(f"The request body cannot be decoded: {e}", param="body") from None


def _set_body(flow: http.HTTPFlow, content: bytes) -> None:
    """Replace the request body with plain JSON; the caller's content-encoding (gzip)
    must go first, or mitmproxy re-encodes the new body under the old header."""
    flow.request.headers.pop("content-encoding", None)
    flow.request.content = content


def _answer(flow: http.HTTPFlow, status: int, body: bytes) -> None:
    flow.response = http.Response.make(status, body, {"content-type": "application/json"})


def _not_found_body(flow: http.HTTPFlow) -> bytes:
    message = (
        f"The gateway has no route for {flow.request.method} {flow.request.path}. "
        f"Native routes: /v1/chat/completions, /v1/responses, /v1/messages, "
        f"/v1beta/models/MODEL:generateContent; converter routes put /openai, /anthropic or "
        f"/gemini in front of those. See {DOCS_ROUTES}."
    )
    return orjson.dumps({"error": {"type": "not_found_error", "code": "404", "message": message}})


def _unknown_model_message(model: str, rules: Rules) -> str:
    providers = ", ".join(sorted(rules.providers))
    return (
        f"No provider is configured for model '{model}'. Add a rule to the `models` list of "
        f'rules.yaml, e.g. {{match: "{model}", provider: <name>}}, or write the model as '
        f"<provider>/{model}. Configured providers: {providers}."
    )


def _native_or_converter(protocol: ir.Protocol, rules: Rules, model: str) -> str:
    native = routes.NATIVE_PATH[protocol].replace("{model}", model)
    converter = routes.converter_path(protocol, rules.routes, model)
    return f"{native} (native) or {converter} (converted for any provider)"
