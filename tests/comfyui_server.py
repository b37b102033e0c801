"""Run a real ComfyUI with this pack installed, as a user would, for the tests.

Which ComfyUIs: hosts(). tests/run.sh sets KLING_TEST_COMFYUI_HOSTS to the two it sets up (ComfyUI 0.3.75
with frontend 1.32.9, ComfyUI 0.33.0 with frontend 1.58.1); a developer's own $COMFYUI_DIR runs alone.
Everything ComfyUI writes goes under a temporary --base-directory; the pack is linked into its
custom_nodes/ under a hyphenated folder name, as `git clone` would name it.
"""
from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]
HOSTS_VAR = "KLING_TEST_COMFYUI_HOSTS"


@dataclass(frozen=True)
class Host:
    name: str                            # "0.3.75", "0.33.0", or "custom"
    dir: str                             # the ComfyUI checkout
    front_end_root: str | None = None    # passed as --front-end-root when set
    python: str = sys.executable         # the interpreter that runs its main.py


def parse_hosts(spec: str) -> list[Host]:
    """`name=dir[=front_end_root[=python]]` entries separated by ";" (the KLING_TEST_COMFYUI_HOSTS format)."""
    hosts = []
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        parts = entry.split("=")
        if len(parts) < 2 or len(parts) > 4 or not all(parts[:2]):
            raise ValueError(f"{HOSTS_VAR}: entry {entry!r} must be name=dir[=front_end_root[=python]]")
        name, comfy_dir, front_end_root, python = (parts + [None, None])[:4]
        if not pathlib.Path(comfy_dir, "main.py").is_file():
            raise ValueError(f"{HOSTS_VAR}: {name}: {comfy_dir} has no main.py")
        if front_end_root and not pathlib.Path(front_end_root, "index.html").is_file():
            raise ValueError(f"{HOSTS_VAR}: {name}: front-end root {front_end_root} has no index.html")
        hosts.append(Host(name, comfy_dir, front_end_root or None, python or sys.executable))
    if len({h.name for h in hosts}) != len(hosts):
        raise ValueError(f"{HOSTS_VAR}: host names must differ: {spec!r}")
    return hosts


def hosts() -> list[Host]:
    """The ComfyUIs the real-host tests run on: KLING_TEST_COMFYUI_HOSTS, else $COMFYUI_DIR as "custom", else none."""
    spec = os.environ.get(HOSTS_VAR, "").strip()
    if spec:
        return parse_hosts(spec)
    own = os.environ.get("COMFYUI_DIR")
    return [Host("custom", own)] if own else []


def host_params() -> list:
    """One pytest param per host (id = its name), for a fixture's params=; a single skipped one when there is none."""
    import pytest
    found = hosts()
    if not found:
        return [pytest.param(None, id="no-comfyui", marks=pytest.mark.skip(
            reason=f"no ComfyUI: run tests/run.sh, or set COMFYUI_DIR to a ComfyUI checkout"))]
    return [pytest.param(h, id=h.name) for h in found]


def vhs_dir() -> str | None:
    """VideoHelperSuite's checkout (tests/setup_comfyui_033.sh unpacks it and sets KLING_TEST_VHS_DIR), or None."""
    named = os.environ.get("KLING_TEST_VHS_DIR")
    path = named or str(ROOT / ".cache" / "custom_nodes" / "comfyui-videohelpersuite")
    if pathlib.Path(path, "__init__.py").is_file():
        return path
    if named:
        raise FileNotFoundError(f"KLING_TEST_VHS_DIR: {named} is not a VideoHelperSuite checkout")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComfyUI:
    """`host`: a Host, or a plain ComfyUI directory (run with this interpreter and its own frontend).
    `custom_nodes`: other packs' checkouts to link beside this one (e.g. vhs_dir())."""

    def __init__(self, host: Host | str | os.PathLike, base: pathlib.Path, env: dict, custom_nodes=()):
        self.host = host if isinstance(host, Host) else Host("custom", str(host))
        self.dir = pathlib.Path(self.host.dir)
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (base / "custom_nodes").mkdir(parents=True, exist_ok=True)
        for sub in ("input", "output", "temp", "user"):
            (base / sub).mkdir(exist_ok=True)
        for name, target in (("comfyui-kling-video", ROOT),
                             *((pathlib.Path(p).name, pathlib.Path(p)) for p in custom_nodes)):
            link = base / "custom_nodes" / name
            if not link.exists():
                link.symlink_to(target, target_is_directory=True)
        self.log_path = base / "comfyui.log"
        self.env = {**os.environ, **env}
        self.proc = None

    def start(self, timeout: float = 240) -> "ComfyUI":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.host.python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
             "--disable-auto-launch", "--base-directory", str(self.base),
             "--database-url", "sqlite:///:memory:",
             *(["--front-end-root", self.host.front_end_root] if self.host.front_end_root else [])],
            cwd=self.dir, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            try:
                self.get("/object_info/LoadImage")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer within {timeout} s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def post(self, path: str, body) -> dict:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data = r.read()
                return json.loads(data) if data else {}
        except urllib.error.HTTPError as e:
            raise AssertionError(f"POST {path} -> {e.code}: {e.read().decode(errors='replace')}") from None

    def queue(self, prompt: dict) -> str:
        return self.post("/prompt", {"prompt": prompt, "client_id": "kling-video-tests"})["prompt_id"]

    def wait(self, prompt_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            history = self.get(f"/history/{prompt_id}")
            if prompt_id in history and history[prompt_id].get("status", {}).get("completed") is not None:
                entry = history[prompt_id]
                if entry["status"].get("status_str") in ("success", "error"):
                    return entry
            time.sleep(0.25)
        raise AssertionError(f"prompt {prompt_id} did not finish in {timeout} s:\n{self.log()[-3000:]}")


WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"  # ComfyUI >= 0.4: a combo whose choice adds its own widgets


def _is_widget(kind) -> bool:
    return isinstance(kind, list) or kind in WIDGET_TYPES


def _dynamic_combo(name: str, spec: list, values: list, inputs: dict) -> None:
    """A dynamic combo's value, then its chosen option's widgets, which the frontend names `parent.child`
    and keeps right after it in widgets_values."""
    choice = inputs[name] = values.pop(0)
    option = next((o for o in spec[1].get("options", []) if o["key"] == choice), None)
    if option is None:
        raise ValueError(f"{name}: {choice!r} is not one of its options")
    for section in ("required", "optional"):
        for sub, sub_spec in option["inputs"].get(section, {}).items():
            if values and sub_spec[0] == DYNAMIC_COMBO:
                _dynamic_combo(f"{name}.{sub}", sub_spec, values, inputs)
            elif values and _is_widget(sub_spec[0]):
                inputs[f"{name}.{sub}"] = values.pop(0)


def ui_to_api(workflow: dict, object_info: dict) -> dict:
    """Turn a UI-format workflow (what example_workflows/ holds) into an API prompt, the way the
    frontend does: links become [node, slot], widget values fill the widget inputs in schema order."""
    links = {l[0]: l for l in workflow["links"]}
    prompt = {}
    for node in workflow["nodes"]:
        info = object_info[node["type"]]
        linked = {i["name"]: links[i["link"]] for i in node.get("inputs", []) if i.get("link") is not None}
        order = list(info["input"].get("required", {}).items()) + list(info["input"].get("optional", {}).items())
        values = list(node.get("widgets_values") or [])
        inputs = {}
        for name, spec in order:
            kind = spec[0]
            if len(spec) > 1 and spec[1].get("hidden"):
                continue  # no widget in the frontend, so nothing in widgets_values
            if kind == DYNAMIC_COMBO and name not in linked:
                if values:
                    _dynamic_combo(name, spec, values, inputs)
            elif name in linked:
                link = linked[name]
                inputs[name] = [str(link[1]), link[2]]
                if _is_widget(kind):
                    values.pop(0)  # a converted widget still holds its slot in widgets_values
            elif _is_widget(kind):
                if values:
                    inputs[name] = values.pop(0)
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt
