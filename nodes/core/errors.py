"""The pack's exceptions, and the one scrubber every message passes through before a user sees it."""
from __future__ import annotations

import os
import re

from ..providers.registry import SECRET_ENV

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
    for source in _stored_secrets:
        try:
            yield from source()
        except Exception:  # the scrubber must never be what fails
            continue


# Where stored keys come from (the key store adds itself when imported): the scrubber sits below the store,
# which raises this module's errors, so it is told rather than importing it.
_stored_secrets: list = []


def add_secret_source(source) -> None:
    """`source()` yields (label, value) of secrets kept outside the environment."""
    if source not in _stored_secrets:
        _stored_secrets.append(source)


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
                 retryable: bool = False, throttled: bool = False):
        self.status = status
        self.request_id = request_id
        self.retryable = retryable
        # The provider said "too many requests" (429, Kling's 1302/1303): nothing was made, later may work.
        self.throttled = throttled
        super().__init__(message)


class JobFailed(ProviderError):
    """The job ran at the provider and ended in an error (COMPLETED with `error`, or cancelled)."""


class Interrupted(KlingError):
    """The user interrupted the prompt; the remote job has been asked to cancel."""
