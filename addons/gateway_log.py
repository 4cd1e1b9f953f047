"""``--set gateway_log=PATH``: the gateway's JSON log lines, one per exchange, appended
to a file as well as shown by mitmproxy.

A logging handler on the ``gateway`` logger that keeps only the records
``observability.log_exchange`` marks, and writes each as its bare JSON line (JSON
Lines), so the file feeds a log shipper or ``jq`` without parsing mitmproxy's output.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mitmproxy import ctx, exceptions

from addons.observability import EXCHANGE_LINE

log = logging.getLogger("gateway")


class _ExchangeLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return getattr(record, EXCHANGE_LINE)


def _is_exchange(record: logging.LogRecord) -> bool:
    return hasattr(record, EXCHANGE_LINE)


class GatewayLog:
    def __init__(self) -> None:
        self._handler: logging.FileHandler | None = None

    def load(self, loader) -> None:
        loader.add_option(
            "gateway_log",
            str,
            "",
            "Also append the gateway's JSON log lines (one per exchange) to this file.",
        )

    def configure(self, updated: set[str]) -> None:
        if "gateway_log" not in updated:
            return
        self._close()
        if not ctx.options.gateway_log:
            return
        path = Path(ctx.options.gateway_log).expanduser()
        try:
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as e:
            raise exceptions.OptionsError(
                f"gateway_log: cannot write to {path}: {e.strerror or e}"
            ) from None
        handler.addFilter(_is_exchange)
        handler.setFormatter(_ExchangeLines())
        handler.setLevel(logging.INFO)
        if not log.isEnabledFor(logging.INFO):  # the file wants every line, whatever the
            log.setLevel(logging.INFO)  # terminal's verbosity filters out
        log.addHandler(handler)
        self._handler = handler

    def done(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._handler is not None:
            log.removeHandler(self._handler)
            self._handler.close()
            self._handler = None
