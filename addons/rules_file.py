"""Loads rules.yaml from the ``rules`` option and reloads it when the file changes.

A mitmproxy addon in the style of mitmproxy's own: the option is registered in
``load``, read in ``configure`` (where a bad file is an ``OptionsError``, so mitmdump
refuses to start and says why), and a background task polls the file so edits apply
without a restart; a bad edit is logged and the previous rules stay in force.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from mitmproxy import ctx, exceptions

from addons.rules import Rules, RulesError, parse_rules

log = logging.getLogger("gateway")

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "rules.yaml"
POLL_SECONDS = 0.5


def read_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesError(str(path), "(file)", f"cannot be read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise RulesError(
            str(path), "(file)", f"is not UTF-8 text (byte {e.start} is {e.object[e.start]:#04x})"
        ) from None
    return parse_rules(text, str(path), os.environ)


class RulesFile:
    """Owns the current ``Rules``; the gateway asks it on every request, so a reload
    takes effect for the next request without any other addon knowing."""

    def __init__(self) -> None:
        self.rules: Rules | None = None
        self.path: Path = DEFAULT_PATH
        self._stamp: tuple[int, int] | None = None
        self._watcher: asyncio.Task | None = None
        # Why the file on disk is not in force (a bad edit), for /health/ready; None
        # while the rules in force are the file's. Not `error`: mitmproxy would take an
        # attribute of that name for its error hook.
        self.invalid_edit: str | None = None

    def load(self, loader) -> None:
        loader.add_option(
            "rules",
            str,
            "",
            "Path of the gateway's rules.yaml (providers, model routing, routes). "
            "Default: rules.yaml next to the addons/ folder.",
        )

    def configure(self, updated: set[str]) -> None:
        if "rules" not in updated:
            return
        self.path = Path(ctx.options.rules).expanduser() if ctx.options.rules else DEFAULT_PATH
        try:
            self.rules = read_rules(self.path)
        except RulesError as e:
            raise exceptions.OptionsError(f"Invalid rules file: {e}") from None
        self._stamp = _stamp(self.path)
        self.invalid_edit = None
        log.info("gateway: loaded %s", self.path)

    def running(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    def done(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch(self) -> None:
        """Poll for edits. Nothing may end this loop but cancellation: a watcher that
        died would silently ignore every later edit."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self.reload_if_changed()
            except Exception:
                log.exception("gateway: checking %s for changes failed", self.path)

    def reload_if_changed(self) -> None:
        """Keep the previous rules when the edit is invalid: a typo must not take the
        gateway down while it serves traffic."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self.rules = read_rules(self.path)
        except RulesError as e:
            log.error("gateway: kept the previous rules; the edited file is invalid: %s", e)
            self.invalid_edit = str(e)
            return
        self.invalid_edit = None
        log.info("gateway: reloaded %s", self.path)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
