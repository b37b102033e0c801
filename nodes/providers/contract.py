"""The provider contract: what a provider module must provide, and all the job runner relies on.

A provider is a row in registry.PROVIDERS (name, title, key variables, capabilities) and a module
nodes/providers/<name>.py that speaks its protocol. The module provides:

  LIMITS                       RequestLimits: the largest body the provider takes, and which files go by upload
  credentials()                its key(s), from the environment or the key store; MissingCredentials otherwise
  wire(model, body) -> dict    PURE, no I/O: the prepared body (the catalog's field names, files as Media or
                               already as URLs) as the provider's JSON; InputError when it is too large
  describe(model, wire_body)   PURE: (request line, auth line), what the CLI's dry run prints
  parse_status(answer)         PURE: one status answer as Queued | Running | Completed | Failed; the only place
                               that reads the provider's state words
  output_url(result, kind)     PURE: where the result's "video" or "audio" file is (an https URL or a data: URI)
  CLIENT                       a Client subclass, made as CLIENT(session, credentials()), that does the I/O:
      submit(model, wire_body, key) -> Handle   one create; sent with http.SUBMIT (never repeated once it may
                                                have arrived) unless the provider makes a repeat harmless
      status(handle) -> Status                  one status query, through parse_status
      result(handle, final) -> dict             the output of a Completed job; for a Failed one, raises the
                                                provider's account of the failure
    and, only where the provider can (the registry row's capability in brackets; tests check they agree):
      upload_media(body, emit) -> body          files over LIMITS moved to the provider's storage first (fal)
      stream(handle) -> Status...               statuses pushed as they change [status_stream] (fal's SSE)
      cancel(handle) -> str                     ask the provider to stop [can_cancel]; it may not listen
      recover(model, key) -> Handle | None      the job of a submit whose answer was lost, found by our id
                                                (Kling); else, with [idempotent_submit], the runner sends the
                                                same submit again, and otherwise it never does

Everything else is shared: the poll loop (poll.py), the retry policy (core/http.py), the key-rejected message
(credentials.py). A Handle is a job at the provider, rebuilt from the journal's request id and handle data to
reattach after a restart.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, ClassVar, Optional, Union

from ..core.errors import JobFailed, ProviderError
from . import poll
from .registry import Provider


@dataclass(frozen=True)
class Handle:
    """A job at a provider: what it is known by there, and whatever else reattaching needs (`data`, kept in
    the journal as handle_data). Handle(provider, model, record["request_id"], record["handle_data"]) is the
    same job after a restart."""

    provider: str
    model: str
    request_id: str
    data: dict = field(default_factory=dict)


# -- statuses: what parse_status makes of a provider's answer ------------------------------------------
@dataclass(frozen=True)
class Queued:
    position: Optional[int] = None      # where the provider says (fal); None where it does not
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Running:
    logs: tuple[str, ...] = ()          # the job's whole log so far (fal resends it with every status)


@dataclass(frozen=True)
class Completed:
    result: dict = field(default_factory=dict)   # the job's output where the status carries it (not fal's)
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failed:
    error: str
    error_type: str = ""
    logs: tuple[str, ...] = ()


Status = Union[Queued, Running, Completed, Failed]
TERMINAL = (Completed, Failed)


class CancelUnsupported(ProviderError):
    """The provider has no way to cancel a job."""


class Client(ABC):
    """The I/O half of a provider: one instance per job, on the job's HTTP session."""

    provider: ClassVar[Provider]   # its row in the registry
    # How result() words a Failed status; the runner adds it to its own account of the failure. (fal's result
    # replays the model's error instead, with its details.)
    failure_text: ClassVar[str] = "{title} job {request_id} failed: {error}"

    @abstractmethod
    def __init__(self, session, credentials) -> None:
        ...

    async def upload_media(self, body: dict, emit: Callable[[str], None]) -> dict:
        """The body with the files the provider takes by upload replaced by their URLs; most take none."""
        return body

    @abstractmethod
    async def submit(self, model: str, wire_body: dict, key: str = "") -> Handle:
        ...

    async def recover(self, model: str, key: str) -> Optional[Handle]:
        """After a submit whose answer was lost: the job it may have created, where the provider can tell."""
        return None

    @abstractmethod
    async def status(self, handle: Handle) -> Status:
        ...

    def stream(self, handle: Handle) -> AsyncIterator[Status]:
        """Statuses as the provider pushes them, until a terminal one (registry: status_stream). Raises
        poll.StreamUnavailable where it cannot be used at all, a retryable ProviderError when it breaks."""
        raise NotImplementedError

    def statuses(self, handle: Handle, poll_interval: float) -> AsyncIterator[Status]:
        """Statuses until a terminal one, by the shared loop."""
        stream = (lambda: self.stream(handle)) if self.provider.status_stream else None
        return poll.follow(lambda: self.status(handle), lambda status: isinstance(status, TERMINAL),
                           poll.interval(poll_interval, stream is not None), stream)

    async def result(self, handle: Handle, final: Union[Completed, Failed], quick: bool = False) -> dict:
        """The job's output. Where the last status carries it, that is it; `quick` matters only where it is
        fetched (one attempt: a failed job's result only replays its error)."""
        if isinstance(final, Failed):
            raise JobFailed(self.failure_text.format(title=self.provider.title, request_id=handle.request_id,
                                                     error=final.error))
        return final.result

    async def cancel(self, handle: Handle) -> str:
        """Ask the provider to stop the job; returns its word for the outcome (ALREADY_COMPLETED when the job
        had finished). A request only: the provider may finish, and bill, the job anyway."""
        raise CancelUnsupported(f"{self.provider.title} has no cancel")


# What a provider module must have (the runner, the CLI and tests/test_provider_contract.py read it).
MODULE_FUNCTIONS = ("credentials", "wire", "describe", "parse_status", "output_url")
MODULE_VALUES = ("LIMITS", "CLIENT")


def unmet(module) -> list[str]:
    """What `module` lacks of the contract (empty when it satisfies it)."""
    from .body_limits import RequestLimits
    name = module.__name__.rpartition(".")[2]
    gaps = [f"{name}.{f} is not a function" for f in MODULE_FUNCTIONS if not callable(getattr(module, f, None))]
    if not isinstance(getattr(module, "LIMITS", None), RequestLimits):
        gaps.append(f"{name}.LIMITS is not a RequestLimits")
    client = getattr(module, "CLIENT", None)
    if not (isinstance(client, type) and issubclass(client, Client)):
        return gaps + [f"{name}.CLIENT is not a Client"]
    if getattr(client, "__abstractmethods__", None):
        gaps.append(f"{name}.CLIENT does not implement {', '.join(sorted(client.__abstractmethods__))}")
    row = getattr(client, "provider", None)
    if not isinstance(row, Provider) or row.name != name:
        return gaps + [f"{name}.CLIENT.provider is not the registry's row for {name!r}"]
    for capability, method in (("can_cancel", "cancel"), ("status_stream", "stream")):
        overrides = getattr(client, method) is not getattr(Client, method)
        if overrides != getattr(row, capability):
            gaps.append(f"{name}: registry {capability}={getattr(row, capability)} but CLIENT "
                        f"{'overrides' if overrides else 'does not override'} {method}()")
    return gaps
