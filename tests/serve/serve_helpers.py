"""Shared helpers of the serving tests: free ports, starting ``rast serve``, waiting for health, HTTP, stopping."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SERVER_SETTINGS = ["--dtype", "float32", "--enforce-eager", "--max-model-len", "512", "--seed", "0"]
HEALTH_TIMEOUT_S = 180.0
SHUTDOWN_TIMEOUT_S = 30.0
# A ChatML template: the tiny models' tokenizer has none (its special tokens are <|im_start|> and <|im_end|>).
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def rast_command(*args: str) -> list[str]:
    """``rast ...`` run with this interpreter (the same code as the ``rast`` console script)."""
    return [sys.executable, "-m", "rast.cli", *args]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


class Server:
    """A ``rast serve`` subprocess on 127.0.0.1, its output in a log file."""

    def __init__(self, rast_args: list[str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        command = rast_command("serve", "--host", "127.0.0.1", "--port", str(self.port), *rast_args)
        # own session: the test can clean up the whole group if the server misbehaves
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def fail_message(self, what: str) -> str:
        return f"{what}; server log tail ({self.log_path}):\n{log_tail(self.log_path)}"

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> float:
        """Seconds until /health answered 200; raises with the log tail if the server died or timed out."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise AssertionError(self.fail_message(f"server exited with {self.process.returncode} before healthy"))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1.0)
        raise AssertionError(self.fail_message(f"server not healthy after {timeout:.0f} s"))

    def post(self, path: str, body: dict, timeout: float = 120.0) -> dict:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(self.fail_message(f"POST {path} -> {error.code}: {error.read()[:2000]!r}")) from None

    def stop(self, sig: int = signal.SIGTERM,
             timeout: float = SHUTDOWN_TIMEOUT_S) -> tuple[int | None, float, list[int]]:
        """Signal the server; return (exit code or None on timeout, seconds, pids of its children still alive)."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        start = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + 5.0  # children may take a moment to notice their parent is gone
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [c for c in alive if _alive(c)]
            time.sleep(0.2)
        return code, elapsed, [c.pid for c in alive if _alive(c)]

    def kill(self) -> None:
        """Last-resort cleanup: kill the server's own process group (the processes this test started)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)
        self._log.close()


def _alive(process) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@contextmanager
def tiny_rast_server(tiny_models: dict[str, str], folder: Path, alpha: float, rast_args: Sequence[str] = (),
                     vllm_args: Sequence[str] = ()) -> Iterator[Server]:
    """``rast serve`` of the tiny models (one pair at ``alpha``, served as "rast-tiny" with a ChatML template; more
    flags of rast's and of vLLM's may be given), healthy; killed on exit. ``startup_s`` holds the seconds it took to
    answer /health."""
    template = folder / "chat_template.jinja"
    template.write_text(CHAT_TEMPLATE)
    args = ["--base", tiny_models["base"], "--positive", tiny_models["positive"], "--negative", tiny_models["negative"],
            "--alpha", str(alpha), *rast_args, "--", *SERVER_SETTINGS, "--served-model-name", "rast-tiny",
            "--chat-template", str(template), *vllm_args]
    server = Server(args, folder / "server.log")
    try:
        server.startup_s = server.wait_healthy()
        yield server
    finally:
        server.kill()
