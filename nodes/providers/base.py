"""What every provider module offers the job runner. Provider modules know JSON and HTTP, never torch or
ComfyUI; each maps the catalog's request body (fal's field names) onto its own wire format and back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Optional

import os

from ..core import keys
from ..core.errors import MissingCredentials, ProviderError
from ..media_in.encode import Media


def env_credential(var: str, title: str, key_help: str) -> str:
    """The key from the environment, else the one stored from ComfyUI's settings (keys.py)."""
    value = keys.secret(var)
    if not value:
        raise MissingCredentials(f"No {title} key: {var} is not set and none is stored. {key_help} "
                                 f"Or {keys.DIALOG}.")
    return value


def env_base_url(var: str, default: str) -> str:
    """A provider's base URL, overridable for proxies and tests; https only (keys travel with it)."""
    url = os.environ.get(var, "").strip().rstrip("/") or default
    if not url.startswith("https://"):
        raise MissingCredentials(f"{var} must be an https URL, got {url!r}")
    return url


@dataclass(frozen=True)
class Handle:
    """A job at a provider. `data` holds whatever else reattaching needs (it is kept in the journal)."""

    provider: str
    model: str
    request_id: str
    data: dict = field(default_factory=dict)


class CancelUnsupported(ProviderError):
    """The provider has no way to cancel a job."""


def walk_media(value: Any, convert: Callable[[Media], Any]) -> Any:
    """The body with every Media replaced by convert(media)."""
    if isinstance(value, Media):
        return convert(value)
    if isinstance(value, dict):
        return {k: walk_media(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [walk_media(v, convert) for v in value]
    return value


class Client:
    """The interface Job uses; one subclass per provider."""

    name = ""
    can_cancel = True
    # True where submitting the same request again cannot create a second job (an idempotency key, or a
    # lookup by our own id that proved the first never arrived).
    idempotent_submit = False

    async def wire(self, model: str, body: dict, emit: Callable[[str], None]) -> dict:
        raise NotImplementedError

    async def submit(self, model: str, wire_body: dict, key: str) -> Handle:
        raise NotImplementedError

    async def recover(self, model: str, key: str) -> Optional[Handle]:
        """After a submit whose answer was lost: the job it may have created, if the provider can tell."""
        return None

    def statuses(self, handle: Handle, poll_interval: float) -> AsyncIterator[dict]:
        """fal-style status objects ({status: IN_QUEUE|IN_PROGRESS|COMPLETED, queue_position, logs,
        error}) until COMPLETED."""
        raise NotImplementedError

    async def result(self, handle: Handle, final: dict, quick: bool = False) -> dict:
        raise NotImplementedError

    def video_url(self, result: dict) -> str:
        raise NotImplementedError

    def audio_url(self, result: dict) -> str:
        raise ProviderError(f"{self.name} serves no audio-only results")

    async def cancel(self, handle: Handle) -> str:
        raise CancelUnsupported(f"{self.name} has no cancel")


def split_mode(model: str) -> tuple[str, str]:
    """A catalog offer writes "<model id>/<mode>" where the provider sets Kling's std|pro mode apart from the
    model id (Kling's own API, Vercel's providerOptions, AI/ML API's motion control): (id, mode or "")."""
    head, sep, tail = model.rpartition("/")
    return (head, tail) if sep and tail in ("std", "pro") else (model, "")
