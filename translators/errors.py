"""The one exception translators raise for input they cannot translate."""

from __future__ import annotations

from translators import ir


class TranslationError(Exception):
    """A caller's request that cannot go where it was sent, with the field at fault.

    Codecs raise it for malformed bodies and for features the target cannot express;
    the addon renders it as the *caller's* protocol error, so the SDK raises its own
    exception type with this message.
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        kind: ir.ErrorKind = "invalid_request",
        status: int = 400,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.kind: ir.ErrorKind = kind
        self.status = status
        self.code = code

    def to_ir(self) -> ir.Error:
        return ir.Error(
            kind=self.kind,
            message=self.message,
            status=self.status,
            param=self.param,
            code=self.code,
        )
