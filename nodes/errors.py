"""The pack's exceptions, and the one scrubber every message passes through before a user sees it."""
from __future__ import annotations

import os
import re

# Environment variables whose values must never be echoed.
SECRET_ENV = ("FAL_KEY", "FAL_KEY_SECRET", "AIMLAPI_KEY", "AI_GATEWAY_API_KEY", "KLINGAI_ACCESS_KEY",
              "KLINGAI_SECRET_KEY")
_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")

_DATA_URI = re.compile(r"data:([\w/+.-]+);base64,[A-Za-z0-9+/=]{16,}")


def shorten_data_uris(text: str) -> str:
    """A data URI in a message or log is megabytes of noise (and user content); keep its type and size."""
    return _DATA_URI.sub(lambda m: f"data:{m.group(1)};base64,…[{len(m.group(0))} chars]", text)


def scrub(text: str) -> str:
    """Remove secrets and bulky data URIs from text meant for logs, errors or files."""
    text = _JWT.sub("<JWT>", shorten_data_uris(str(text)))
    for name, value in _secrets():
        # Short values would mangle ordinary words; real keys are long.
        if len(value) >= 8:
            text = text.replace(value, f"<{name}>")
    return text


def _secrets():
    """(label, value) of every key in the environment and in the keys file."""
    for name in SECRET_ENV:
        yield name, os.environ.get(name, "")
    try:
        from . import keys  # late: keys imports the journal, which imports this module
        yield from keys.stored_items()
    except Exception:  # the scrubber must never be what fails
        return


class KlingError(Exception):
    """Base of every error the pack raises on purpose; its message is already scrubbed."""

    def __init__(self, message: str):
        super().__init__(scrub(message))


class InputError(KlingError, ValueError):
    """A node input breaks a rule; raised before any request is sent."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class MissingCredentials(KlingError):
    pass


class ProviderError(KlingError):
    """The provider answered with an error (or not at all)."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None,
                 retryable: bool = False):
        self.status = status
        self.request_id = request_id
        self.retryable = retryable
        super().__init__(message)


class JobFailed(ProviderError):
    """The job ran at the provider and ended in an error (COMPLETED with `error`, or cancelled)."""


class Interrupted(KlingError):
    """The user interrupted the prompt; the remote job has been asked to cancel."""
