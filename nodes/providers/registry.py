"""Who the providers are: one import-free table that every other module reads (names, titles, key variables,
`auto` order, capabilities). The provider modules speak the protocols; this table only describes them, so the
key store, the scrubber, the CLI and the ComfyUI adapter can name providers without importing HTTP code.

`auto` picks the first provider in ORDER that serves the variant and whose credentials are set: fal first
(the pack's reference provider: every variant, SSE status, cancel), then Kling's own API (the source, with
external_task_id for crash recovery), then the resellers.
"""
from __future__ import annotations

from dataclasses import dataclass

# Where a user without environment variables puts a key; every missing-key message says so.
DIALOG = "store it in ComfyUI: Settings → Kling Video → API keys (no restart needed)"


@dataclass(frozen=True)
class Provider:
    name: str          # the module under nodes/providers/ and the value of the `provider` input
    title: str         # what users read
    env: tuple[str, ...]  # the key variables, all required
    key_help: str      # where to get a key and how to set it
    base_url_env: str = ""  # the variable that points the provider elsewhere (proxies, tests); https only
    can_cancel: bool = False
    status_stream: bool = False  # statuses pushed as they change (fal's SSE); the others are polled
    # True where submitting the same request again cannot create a second job (an idempotency key, or a
    # lookup by our own id that proves the first never arrived).
    idempotent_submit: bool = False


PROVIDERS = (
    Provider("fal", "fal.ai", ("FAL_KEY",),
             "Create a key at https://fal.ai/dashboard/keys and set it as the FAL_KEY environment variable "
             "(export FAL_KEY=... before starting ComfyUI).",
             can_cancel=True, status_stream=True),
    Provider("kling", "Kling", ("KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY"),
             "Create an access key and secret key at https://app.klingai.com/global/dev and set them as "
             f"KLINGAI_ACCESS_KEY and KLINGAI_SECRET_KEY (or {DIALOG}; KLINGAI_BASE_URL points elsewhere, "
             "https only).",
             base_url_env="KLINGAI_BASE_URL", idempotent_submit=True),
    Provider("aimlapi", "AI/ML API", ("AIMLAPI_KEY",),
             "Create a key at https://aimlapi.com/app/keys and set it as the AIMLAPI_KEY environment variable "
             "(AIMLAPI_BASE_URL points elsewhere, https only).",
             base_url_env="AIMLAPI_BASE_URL"),
    Provider("vercel", "Vercel AI Gateway", ("AI_GATEWAY_API_KEY",),
             "Create a key at https://vercel.com/dashboard/ai-gateway and set it as the AI_GATEWAY_API_KEY "
             "environment variable (AI_GATEWAY_BASE_URL points elsewhere, https only).",
             base_url_env="AI_GATEWAY_BASE_URL", idempotent_submit=True),
)
ORDER = tuple(p.name for p in PROVIDERS)
# fal's own client also accepts the key as two variables; in the environment they count as FAL_KEY.
ENV_PAIRS = {"FAL_KEY": ("FAL_KEY_ID", "FAL_KEY_SECRET")}
# Every variable whose value is a secret: never echoed in a message, a log line or a file.
SECRET_ENV = tuple(var for p in PROVIDERS for var in p.env) + tuple(v for pair in ENV_PAIRS.values() for v in pair)


def info(name: str) -> Provider:
    for p in PROVIDERS:
        if p.name == name:
            return p
    raise KeyError(f"unknown provider {name!r}; known: {', '.join(ORDER)}")


def title(name: str) -> str:
    return info(name).title
