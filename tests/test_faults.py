"""The fault-injection suite behind README's fault table: each fault, its outcome, how many jobs fal
created (the policy allows 1, or 0 where fal refused), and that no paid result was lost."""
import asyncio
import os

import pytest

from comfyui_kling_video.nodes.catalog import variant
from comfyui_kling_video.nodes.core.errors import KlingError
from comfyui_kling_video.nodes.jobs.generate import generate
from comfyui_kling_video.nodes.jobs.runner import Limits
from comfyui_kling_video.nodes.jobs.journal import Journal
from comfyui_kling_video.nodes.request import prepare

T2V = variant("t2v")
NGINX_503 = dict(status=503, body="<html><body>503 Service Temporarily Unavailable nginx</body></html>")
INTERNAL = dict(status=500, body={"detail": "Internal error", "error_type": "internal_error"})


def faults():
    f = pytest.param
    return [
        # id: (injections, fake settings, outcome, jobs created at fal)
        f([("submit", dict(NGINX_503, times=3))], {}, "ok", 1, id="submit 503 burst from the load balancer"),
        f([("submit", dict(status=429, body={"detail": "Too many requests"}, headers={"Retry-After": "1"}))], {},
          "ok", 1, id="submit 429 with Retry-After"),
        f([("submit", dict(INTERNAL, headers={"x-fal-request-id": "r"}))], {}, "error", 0,
          id="submit 500 from fal itself (not repeated)"),
        f([("submit", dict(reset=True, process=True))], {}, "error", 1,
          id="submit answer lost after fal made the job (not repeated)"),
        f([("submit", dict(status=200, body="<html>proxy</html>", process=True))], {}, "error", 1,
          id="submit answered with malformed JSON (not repeated)"),
        f([("stream", dict(reset=True, times=3)), ("status", dict(INTERNAL, times=3))], {}, "ok", 1,
          id="status 5xx burst"),
        f([("stream", dict(reset=True)), ("status", dict(status=429, body={"detail": "slow down"},
                                                          headers={"Retry-After": "1"}))], {}, "ok", 1,
          id="status 429 with Retry-After"),
        f([("stream", dict(reset=True, times=2)), ("status", dict(reset=True, times=2))], {}, "ok", 1,
          id="connection reset during status"),
        f([("stream", dict(status=200, body="not json", content_type="text/event-stream")),
           ("status", dict(status=200, body="<html>oops</html>", times=2))], {}, "ok", 1,
          id="malformed JSON in status"),
        f([("result", dict(reset=True, times=2))], {}, "ok", 1, id="connection reset during result"),
        f([("result", dict(NGINX_503, times=3))], {}, "ok", 1, id="result 5xx burst"),
        f([("result", dict(status=200, body="{\"video\": ", times=2))], {}, "ok", 1, id="malformed JSON in result"),
        f([("file", dict(truncate_at=2000))], {}, "ok", 1, id="connection reset mid-download (Range resume)"),
        f([("file", dict(status=200, body=b"", content_type="video/mp4", truncate_at=3000))], {}, "ok", 1,
          id="truncated MP4 (fetched again)"),
        f([], {"next_outcome": ("error", {"error": "generation failed", "error_type": "internal_error"})},
          "error", 1, id="COMPLETED with error"),
        f([], {"hold": True}, "error", 1, id="IN_QUEUE past the queue-wait limit (cancelled)"),
    ]


@pytest.mark.parametrize("injections,settings,outcome,jobs", faults())
def test_fault(fal_env, tmp_path, injections, settings, outcome, jobs, caplog):
    caplog.set_level("DEBUG")
    for name, value in settings.items():
        setattr(fal_env, name, value)
    for op, kwargs in injections:
        if op == "file" and kwargs.get("body") == b"":  # a complete-looking but cut-short 200
            kwargs = dict(status=200, body=fal_env.video_bytes[:3000], content_type="video/mp4")
        fal_env.inject(op, **kwargs)
    run = generate(lambda: prepare(T2V, {"prompt": "fault"}), tmp_path / "out",
                   limits=Limits(queue_wait=1.0 if settings.get("hold") else 600, poll_interval=0.2))
    error = ""
    if outcome == "ok":
        _, done = asyncio.run(run)
        assert done.path.read_bytes() == fal_env.video_bytes
    else:
        with pytest.raises(KlingError) as err:
            asyncio.run(run)
        error = str(err.value)
    # The key never leaks: not in the error, the logs, the journal, the spend log or any file written.
    key = os.environ["FAL_KEY"]
    assert key not in error and key not in caplog.text
    for path in [*Journal().root.rglob("*"), *(tmp_path / "out").rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert len(fal_env.jobs) == jobs
    record = Journal().all()[0] if Journal().all() else None
    if jobs and fal_env.jobs and next(iter(fal_env.jobs.values())).ok and outcome == "error":
        # fal holds a good result we could not collect: the journal keeps what is needed to get it
        assert record and record["state"] in ("pending", "submitted", "completed")
