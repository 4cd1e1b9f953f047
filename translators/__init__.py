"""Pure translators between LLM wire protocols: no I/O, no clocks, no mitmproxy.

One package per protocol (``openai_chat``, ``openai_responses``, ``anthropic``,
``gemini``), each with the same files and the same verbs, stated once as the ``Codec``
protocol in ``codec.py`` and listed in ``codec.CODECS``. ``convert`` composes two of
them through the IR (``ir.py``) with the policy every pair shares; the addon only ever
calls ``convert``. docs/architecture.md draws the whole path.
"""
