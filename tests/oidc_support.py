"""The OpenID Connect provider the single sign-on tests run against: panva's certified
oidc-provider (tests/oidc/provider.mjs; `make oidc-provider` installs it with npm ci)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest

OIDC_DIR = Path(__file__).resolve().parent / "oidc"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_provider(tmp: Path, *, client_id: str, client_secret: str, redirect_uris: List[str],
                 accounts: Dict, host: str = "127.0.0.1") -> Iterator[str]:
    """Start the provider (on loopback; ``host`` names it in its issuer URL, e.g. ``localhost``
    to make it another site than the app on 127.0.0.1) and yield its issuer URL."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OpenID Connect provider is not installed: run `make oidc-provider` (Node.js, npm ci)")
    port = free_port()
    issuer = f"http://{host}:{port}"
    config = tmp / "oidc-provider.json"
    config.write_text(json.dumps({
        "port": port, "issuer": issuer, "accounts": accounts,
        "client": {"client_id": client_id, "client_secret": client_secret, "redirect_uris": redirect_uris},
    }))
    log_path = tmp / "oidc-provider.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([node, str(OIDC_DIR / "provider.mjs"), str(config)], stdout=log,
                                   stderr=subprocess.STDOUT, env={**os.environ, "DEBUG": ""})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("the test OpenID Connect provider did not start:\n" + log_path.read_text()[-2000:])
                time.sleep(0.2)
            yield issuer
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
