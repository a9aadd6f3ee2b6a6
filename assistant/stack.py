"""Start and stop the three processes: action server, Rasa server, web app.

Used by ``python -m assistant run``, the end-to-end tests and the benchmark.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import httpx

from assistant.config import PROJECT_ROOT, SECRET_NAMES


class StackError(RuntimeError):
    """A process did not start or become healthy in time."""


@dataclass
class Ports:
    """The ports the three processes listen on (all on 127.0.0.1)."""

    actions: int = 5055
    rasa: int = 5005  # the first Rasa server; the others listen on the ports after it
    web: int = 8000
    rasa_instances: int = 2

    def rasa_ports(self) -> List[int]:
        """The port of each Rasa server."""
        return [self.rasa + i for i in range(self.rasa_instances)]

    def rasa_names(self) -> List[str]:
        """Process names of the Rasa servers: rasa, rasa2, rasa3, ..."""
        return ["rasa" if i == 0 else f"rasa{i + 1}" for i in range(self.rasa_instances)]


@dataclass
class Stack:
    """The running processes and where they listen."""

    ports: Ports
    env: Dict[str, str]
    log_dir: Path
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.actions}"

    def pids(self) -> Dict[str, int]:
        """Process id of each running process."""
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def start(self, name: str, timeout: float = 240.0) -> None:
        """Start one process (``actions``, ``rasa``, ``rasa2``... or ``web``) and wait until it is healthy."""
        self.start_many([name], timeout)

    def start_many(self, names: List[str], timeout: float = 240.0) -> None:
        """Start processes together (the Rasa servers load their models in parallel), then
        wait until each is healthy."""
        health = {}
        for name in names:
            cmd, health[name] = self._command(name)
            log = open(self.log_dir / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen(
                cmd, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
        for name in names:
            self._wait_healthy(name, health[name], timeout)

    def stop(self, name: str) -> None:
        """Stop one process (SIGTERM, then SIGKILL after 15 s)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        """Stop every process, web app first."""
        for name in ["web"] + self.ports.rasa_names() + ["actions"]:
            self.stop(name)

    def _command(self, name: str):
        # No secret on any command line (``ps`` shows them to every local user): the
        # processes read their tokens from the environment set by stack_env.
        py = sys.executable
        if name == "actions":
            return [py, "-m", "assistant.action_server", "-p", str(self.ports.actions)], \
                f"{self.actions_url}/health"
        rasa_ports = dict(zip(self.ports.rasa_names(), self.ports.rasa_ports()))
        if name in rasa_ports:
            port = rasa_ports[name]
            return [py, "-m", "assistant.rasa_server", "run", "--enable-api", "-i", "127.0.0.1",
                    "-p", str(port),
                    "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                    "--model", self.env.get("ASSISTANT_MODELS_DIR", "models")], \
                f"http://127.0.0.1:{port}/webhooks/webapp/"
        if name == "web":
            return [py, "-m", "uvicorn", "assistant.web.app:create_app", "--factory",
                    "--host", "127.0.0.1", "--port", str(self.ports.web), "--no-access-log",
                    # rasa pins an old websockets; the web app needs no websockets
                    "--ws", "none"], f"{self.web_url}/healthz"
        raise ValueError(name)

    def _wait_healthy(self, name: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StackError(f"{name} exited with code {proc.returncode}; see {self.log_dir / (name + '.log')}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise StackError(f"{name} was not healthy after {timeout:.0f} s; see {self.log_dir / (name + '.log')}")


def stack_env(database_url: str, ports: Ports, tokens: Dict[str, str],
              extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment for the three processes, pointing them at each other. ``tokens`` holds
    each secret of :data:`assistant.config.SECRET_NAMES` (by environment only)."""
    env = dict(os.environ)
    env.update({f"ASSISTANT_{name.upper()}": tokens[name] for name in SECRET_NAMES})
    env.update({
        "ASSISTANT_DATABASE_URL": database_url,
        "ASSISTANT_ACTION_ENDPOINT": f"http://127.0.0.1:{ports.actions}/webhook",
        "ASSISTANT_ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions}",
        "ASSISTANT_RASA_URL": ",".join(f"http://127.0.0.1:{p}" for p in ports.rasa_ports()),
        "ASSISTANT_WEB_PORT": str(ports.web),
        "SANIC_HOST": "127.0.0.1",
        # tiny models on 2 cores: one TF thread each avoids thread-pool overhead and contention
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    env.update(extra or {})
    return env


def start_stack(database_url: str, ports: Ports, tokens: Dict[str, str], log_dir: Path,
                extra_env: Optional[Dict[str, str]] = None, only: Optional[List[str]] = None) -> Stack:
    """Start actions, the Rasa servers and the web app; stop what started if any fails.
    ``tokens``: the secrets (see :func:`tokens_of`).
    ``only`` limits it to some of them (``"rasa"`` means every Rasa server)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(ports=ports, env=stack_env(database_url, ports, tokens, extra_env), log_dir=log_dir)
    try:
        for name in only or ("actions", "rasa", "web"):
            stack.start_many(ports.rasa_names() if name == "rasa" else [name])
    except BaseException:
        stack.stop_all()
        raise
    return stack


def tokens_of(settings) -> Dict[str, str]:
    """The secrets of ``settings`` (an :class:`assistant.config.Settings`) for :func:`start_stack`."""
    return {name: getattr(settings, name) for name in SECRET_NAMES}


def random_tokens() -> Dict[str, str]:
    """Fresh secrets for a stack of its own (tests, benchmark)."""
    import secrets

    return {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
