"""Run a real ComfyUI (from $COMFYUI_DIR) with this pack installed, as a user would, for the tests.

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

ROOT = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComfyUI:
    def __init__(self, comfy_dir: str, base: pathlib.Path, env: dict):
        self.dir = pathlib.Path(comfy_dir)
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (base / "custom_nodes").mkdir(parents=True, exist_ok=True)
        for sub in ("input", "output", "temp", "user"):
            (base / sub).mkdir(exist_ok=True)
        link = base / "custom_nodes" / "comfyui-kling-video"
        if not link.exists():
            link.symlink_to(ROOT, target_is_directory=True)
        self.log_path = base / "comfyui.log"
        self.env = {**os.environ, **env}
        self.proc = None

    def start(self, timeout: float = 240) -> "ComfyUI":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
             "--disable-auto-launch", "--base-directory", str(self.base),
             "--database-url", "sqlite:///:memory:"],
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


def _is_widget(kind) -> bool:
    return isinstance(kind, list) or kind in WIDGET_TYPES


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
            if name in linked:
                link = linked[name]
                inputs[name] = [str(link[1]), link[2]]
                if _is_widget(kind):
                    values.pop(0)  # a converted widget still holds its slot in widgets_values
            elif _is_widget(kind):
                if values:
                    inputs[name] = values.pop(0)
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt
