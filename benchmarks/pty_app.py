"""The app in a real pseudo-terminal, for the interactive benchmarks.

:class:`PtyApp` starts ``workbench`` on the slave side of a fresh pty (size
``cols`` × ``rows``, raw mode, so a key written before the app is up waits in
the input queue instead of being echoed by the line discipline), and a reader
thread drains the master side into a list of ``(time, bytes)`` chunks. Times
are ``time.monotonic()``, which on Linux is the system-wide CLOCK_MONOTONIC,
so they compare with the lag probe's samples written by the app.

What the screen showed when is worked out from the recording with ``pyte`` (a
VT emulator): :meth:`PtyApp.wait_for` replays it while the app runs (for the
steps between measurements), :func:`first_shown` replays it afterwards, chunk by
chunk, to time an effect exactly without the emulator's work competing with the
app for the CPU while it is being measured.

``python benchmarks/pty_app.py serve …`` runs the fake Messages API
(tests/fake_api.py) with the benchmarks' responder (:class:`TurnsResponder`),
keeping to its token rate on average, and prints its URL; ``… wrap …`` runs the
app with diagnostics (stack and garbage-collection sampling, a gc.freeze what-if:
:func:`_wrapped_app`). Every interactive benchmark takes ``--nice``, ``--profile``,
``--stalls`` and ``--gc-freeze-after`` (:func:`add_diagnostics`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyte

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

Predicate = Callable[[pyte.Screen], bool]
PROBE_ENV = "WORKBENCH_LAG_PROBE"
CTRL_Q = b"\x11"


@dataclass
class Recording:
    """Everything the app wrote to its terminal, with the time each read returned."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)

    def replay(self, cols: int, rows: int) -> Iterator[tuple[float, pyte.Screen]]:
        """Feed the chunks one by one to an emulator, yielding after each one."""
        screen = pyte.Screen(cols, rows)
        stream = pyte.ByteStream(screen)
        for t, data in list(self.chunks):
            stream.feed(data)
            yield t, screen


class PtyApp:
    """``argv`` run in a pty; the recording of its output in :attr:`recording`."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, cols: int = 120, rows: int = 40) -> None:
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.cols = cols
        self.rows = rows
        self.recording = Recording()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._master = -1
        self._reader: threading.Thread | None = None
        # the live view used by wait_for: fed incrementally from the recording
        self._screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._fed = 0

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> float:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        tty.setraw(slave)
        self._master = master
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,  # its own session, with the pty as controlling terminal
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()
        return self.started_at

    def _read(self) -> None:
        chunks = self.recording.chunks
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the slave side was closed (the app exited)
                return
            if not data:
                return
            chunks.append((time.monotonic(), data))

    def write(self, data: bytes) -> float:
        """Write to the app's input; returns when it was written."""
        os.write(self._master, data)
        return time.monotonic()

    def quit(self, keys: bytes = CTRL_Q, timeout: float = 20.0) -> int | None:
        """Ask the app to quit with a key, then wait; kill it if it does not."""
        assert self.proc is not None
        if self.proc.poll() is None:
            try:
                self.write(keys)
                return self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        return self.kill()

    def kill(self) -> int | None:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait()
        self.close()
        return code

    def close(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1

    # ---------------------------------------------------------------- the screen

    def screen(self) -> pyte.Screen:
        """The screen as the app has drawn it so far."""
        chunks = self.recording.chunks
        end = len(chunks)
        for _, data in chunks[self._fed : end]:
            self._stream.feed(data)
        self._fed = end
        return self._screen

    def wait_for(self, predicate: Predicate, timeout: float = 30.0, poll_s: float = 0.05, what: str = "") -> None:
        """Until the screen satisfies ``predicate`` (checked every ``poll_s``)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self.screen()):
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"the app exited ({self.proc.returncode}) before {what or predicate}:\n{self.text()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what or predicate} within {timeout}s; the screen:\n{self.text()}")
            time.sleep(poll_s)

    def text(self) -> str:
        return "\n".join(self.screen().display)

    def family(self) -> list[int]:
        """The app's process and its descendants (the brain host)."""
        assert self.proc is not None
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in task.read_text().split()]
        return pids

    def rss_mb(self) -> float:
        """The resident set size of the app and its brain host now, in MiB."""
        total = 0
        for pid in self.family():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the app and its brain host have used so far."""
        ticks = 0
        for pid in self.family():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def renice(increment: int) -> int:
    """Change this process's priority (before any thread or child starts: they inherit it).
    A negative ``increment`` shields the figures from other work on a shared machine; it needs root.
    Returns the niceness in force."""
    if increment:
        try:
            os.nice(increment)
        except PermissionError:
            print("warning: not allowed to raise the priority; running at the usual one", file=sys.stderr)
    return os.nice(0)


def loadavg() -> float:
    """The one-minute load average: how busy the machine was (other work skews every figure)."""
    return round(os.getloadavg()[0], 2)


# -------------------------------------------------------------------- reading the screen


def prompt_text(screen: pyte.Screen, every_line: bool = False) -> str | None:
    """The text in the prompt box: the lowest box of the right-hand column (its title
    changes with the engine's state, so it is found by place). Its first line, or with
    ``every_line`` its lines run together (a long word wraps without a space). None if
    no such box shows."""
    rows = screen.display
    for row in range(len(rows) - 2, -1, -1):
        left = rows[row].rfind("╭")
        if left > 0:
            right = rows[row].find("╮", left)
            lines = []
            for line in rows[row + 1 :]:
                if line[left : left + 1] == "╰":
                    break
                inside = line[left + 1 : right if right > left else None].strip()
                # a notification (its left edge drawn with ▌) may cover the box's right-hand side:
                # the prompt's text ends there, or at a wide gap
                lines.append(re.split(r"\s{3,}|▌", inside, maxsplit=1)[0].rstrip())
                if not every_line:
                    break
            return "".join(lines)
    return None


def first_shown(
    recording: Recording, cols: int, rows: int, checks: list[tuple[float, Predicate]]
) -> list[float | None]:
    """For each ``(since, predicate)``: the time of the first chunk read at or after ``since``
    after which the screen satisfied the predicate (None if it never did).

    A check is tried only while open (from ``since`` until found), so a long
    recording replays quickly.
    """
    order = sorted(range(len(checks)), key=lambda i: checks[i][0])
    found: list[float | None] = [None] * len(checks)
    opened = 0
    open_checks: list[int] = []
    for t, screen in recording.replay(cols, rows):
        while opened < len(order) and checks[order[opened]][0] <= t:
            open_checks.append(order[opened])
            opened += 1
        if open_checks:
            for index in [i for i in open_checks if checks[i][1](screen)]:
                found[index] = t
                open_checks.remove(index)
        elif opened == len(order):
            break
    return found


ENGINE_READY = re.compile(r"\d{8}T\d{6}Z-")  # the session id in the header: the engine is open


def engine_ready(screen: pyte.Screen) -> bool:
    return bool(ENGINE_READY.search(screen.display[0]))


class KeyTimer:
    """Types letters into the prompt at a steady pace and, afterwards, times when each showed.

    Letters go in groups of ``group``; a group's letters start with a letter the
    previous group's do not, and once the group shows it is erased with backspaces
    (not timed) before the next. The check for the k-th letter of a group passes once the prompt
    holds at least its first k letters and nothing else, so a frame that shows two
    keys at once passes both.
    """

    LETTERS = "abcdefghijklmnopqrstuvwxy"

    def __init__(self, app: PtyApp, every_s: float = 0.1, group: int = 8) -> None:
        self.app = app
        self.every_s = every_s
        self.group = group
        self.checks: list[tuple[float, Predicate]] = []
        self._groups = 0
        self.undrawn = 0  # groups not seen whole in the output within the time allowed

    def type_until(self, done: Callable[[], bool], limit_s: float = 600.0) -> None:
        deadline = time.monotonic() + limit_s
        while not done() and time.monotonic() < deadline:
            g = self._groups
            self._groups += 1
            text = "".join(self.LETTERS[(g + i) % len(self.LETTERS)] for i in range(self.group))
            mark = len(self.app.recording.chunks)
            for k in range(1, self.group + 1):
                written = self.app.write(text[k - 1].encode())
                self.checks.append((written, _holds_prefix(text, k)))
                time.sleep(self.every_s)
            # erased only once the whole group has been drawn: erased in the same frame as
            # its last letters were typed, those letters would never show
            self._drawn(text.encode(), mark)
            self.app.write(b"\x7f" * self.group)
            time.sleep(self.every_s * 3)

    def _drawn(self, text: bytes, since: int, timeout: float = 60.0) -> None:
        """Until ``text`` is in the output read since chunk ``since`` (a cheap look at the raw bytes)."""
        chunks = self.app.recording.chunks
        deadline = time.monotonic() + timeout
        while not any(text in data for _, data in chunks[since:]):
            if time.monotonic() > deadline:
                self.undrawn += 1
                return
            time.sleep(0.005)

    def latencies_ms(self) -> list[float]:
        shown = first_shown(self.app.recording, self.app.cols, self.app.rows, self.checks)
        missing = sum(1 for t in shown if t is None)
        if missing or self.undrawn:
            print(
                f"warning: {missing} of {len(shown)} keys never showed; {self.undrawn} of {self._groups} "
                "groups were not seen whole before being erased",
                file=sys.stderr,
            )
        return [(t - since) * 1000 for (since, _), t in zip(self.checks, shown) if t is not None]


def _holds_prefix(text: str, k: int) -> Predicate:
    def predicate(screen: pyte.Screen) -> bool:
        typed = prompt_text(screen) or ""
        return len(typed) >= k and text.startswith(typed)

    return predicate


# -------------------------------------------------------------------- the app's environment


@dataclass
class Sandbox:
    """A workspace, config folder and bundle store of its own, removed afterwards."""

    root: Path
    workspace: Path
    config_home: Path
    bundles: Path
    pycache: Path

    def env(
        self, *, api_url: str | None = None, probe: Path | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "WORKBENCH_", "TEXTUAL"))}
        # a user's install has bytecode; this machine's shells set PYTHONDONTWRITEBYTECODE, so the
        # benchmarks keep their own bytecode cache (warmed by a first, uncounted run)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            LANG=env.get("LANG", "C.UTF-8"),
            XDG_CONFIG_HOME=str(self.config_home),
            XDG_DATA_HOME=str(self.root / "data"),
            WORKBENCH_BUNDLES=str(self.bundles),
            PYTHONPYCACHEPREFIX=str(self.pycache),
        )
        if api_url is not None:
            env.update(ANTHROPIC_BASE_URL=api_url, ANTHROPIC_API_KEY="sk-ant-bench-not-a-real-key")
        if probe is not None:
            env[PROBE_ENV] = str(probe)
        env.update(extra or {})
        return env

    def write_config(self, text: str) -> None:
        path = self.config_home / "workbench" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def session_events(self) -> list[dict[str, Any]]:
        """The events of the one session in the store (torn lines skipped)."""
        logs = sorted(self.bundles.glob("*/events.jsonl"))
        assert len(logs) == 1, f"expected one session in {self.bundles}, found {len(logs)}"
        events = []
        for line in logs[0].read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return events


PYCACHE = Path(tempfile.gettempdir()) / "workbench-bench-pycache"


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    try:
        box = Sandbox(root, root / "workspace", root / "config", root / "bundles", PYCACHE)
        for folder in (box.workspace, box.config_home, box.bundles):
            folder.mkdir(parents=True)
        (box.workspace / "notes.txt").write_text("The benchmark's workspace.\n" * 5)
        yield box
    finally:
        shutil.rmtree(root, ignore_errors=True)


def app_argv(profile: Path | None = None) -> list[str]:
    """``workbench`` from the same environment as this interpreter; under cProfile
    (written to ``profile`` when the app exits) if asked."""
    if profile is not None:
        return [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "workbench"]
    script = Path(sys.executable).parent / "workbench"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workbench"]


def read_probe(path: Path, since: float = 0.0, until: float = float("inf")) -> list[float]:
    """The lag samples (ms) the app's probe recorded between two monotonic times."""
    data = json.loads(path.read_text())
    return [lag for t, lag in data["samples"] if since <= t <= until]


def loop_busy_share(lags_ms: list[float], window_s: float) -> float:
    """The probe's lateness summed over the window's length: roughly the share of the time
    the loop was busy with other work (1: saturated). Unlike a percentile of wake-ups, it
    is not flattered by a loop so busy it wakes the probe seldom (one long stall is one
    sample among many punctual ones)."""
    return sum(lags_ms) / 1000 / window_s if window_s > 0 else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), nearest-rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -------------------------------------------------------------------- the fake API


class TurnsResponder:
    """Benchmark traffic: each agent's task takes ``turns`` replies of ``words`` one-word
    tokens (``w<turn>.<i>``, in paragraphs of ``paragraph`` words; 0: one paragraph) at
    ``tokens_per_s``. Every reply but the last ends in a call of ``tool`` (an agent's
    turn goes on only through a tool call), so a task is ``turns`` requests and
    ``turns - 1`` tool calls. The reply number is read from the request, so one
    responder serves any number of agents, and what each receives is fixed: that is
    what makes the expected event count computable.
    """

    def __init__(
        self,
        tokens_per_s: float,
        words: int,
        turns: int = 1,
        tool: str = "Read",
        tool_input: dict[str, Any] | None = None,
        paragraph: int = 0,
    ) -> None:
        from tests.fake_api import Reply, ToolCall

        self.Reply, self.ToolCall = Reply, ToolCall
        self.delay = 1.0 / tokens_per_s if tokens_per_s > 0 else 0.0
        self.words = words
        self.turns = turns
        self.tool = tool
        self.tool_input = tool_input or {}
        self.paragraph = paragraph

    def text(self, turn: int) -> str:
        p = self.paragraph
        return "".join(f"w{turn}.{i}" + ("\n\n" if p and (i + 1) % p == 0 else " ") for i in range(self.words)).strip()

    def __call__(self, body: dict[str, Any]) -> Any:
        turn = 1 + sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        if turn < self.turns:
            return self.Reply(
                text=self.text(turn),
                tool_calls=[self.ToolCall(name=self.tool, input=self.tool_input)],
                token_delay_s=self.delay,
            )
        return self.Reply(text=self.text(turn), token_delay_s=self.delay)


class FakeApi:
    """The running fake API: its URL, and when its gate opened (see :func:`fake_api`)."""

    def __init__(self, url: str, proc: subprocess.Popen[str]) -> None:
        self.url = url
        self._proc = proc

    def gate_opened_at(self, timeout: float = 600.0) -> float:
        """Waits for the server's word that every held agent was let go; its time.monotonic()."""
        import select

        assert self._proc.stdout is not None
        if not select.select([self._proc.stdout], [], [], timeout)[0]:
            raise TimeoutError("the fake API's gate did not open")
        return float(self._proc.stdout.readline().split()[-1])


@contextmanager
def fake_api(
    tokens_per_s: float,
    words: int,
    turns: int = 1,
    tool: str = "Read",
    tool_input: dict[str, Any] | None = None,
    paragraph: int = 0,
    gate: int = 0,
) -> Iterator[FakeApi]:
    """The fake Messages API in a process of its own (so its work is not the app's).

    ``gate`` N: the first reply to each agent starts (``message_start``) but then holds, with
    ``ping`` events, until N first requests have come: agents typed in one by one then
    stream all at once."""
    import select

    argv = [
        sys.executable,
        __file__,
        "serve",
        "--tokens-per-s",
        str(tokens_per_s),
        "--words",
        str(words),
        "--turns",
        str(turns),
        "--tool",
        tool,
        "--tool-input",
        json.dumps(tool_input or {}),
        "--paragraph",
        str(paragraph),
        "--gate",
        str(gate),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        if not select.select([proc.stdout], [], [], 30)[0]:
            raise RuntimeError("the fake API did not start within 30 s")
        line = proc.stdout.readline()
        match = re.search(r"http://\S+", line)
        if not match:
            raise RuntimeError(f"the fake API did not start: {line!r}")
        yield FakeApi(match.group(0), proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _paced_server_class() -> type:
    from tests.fake_api import FakeAnthropicServer

    class PacedServer(FakeAnthropicServer):
        """Keeps to the rate on average: each delay runs to the event's place on a schedule
        (start + n × token delay) instead of sleeping a fixed time after the last event,
        which, with the sleep's overshoot and the writing, would send 300 tokens/s as ~240.
        With a ``gate``, first replies hold after ``message_start`` until ``gate`` have come."""

        gate = 0
        arrived = 0
        opened: float | None = None
        first_replies: set[int] = set()

        def _next_response(self, body):  # type: ignore[no-untyped-def]
            response = super()._next_response(body)
            if type(self).gate and not any(m.get("role") == "assistant" for m in body.get("messages", [])):
                self.first_replies.add(id(response))  # an agent's first request: held at the gate
            return response

        def _events(self, reply, message, blocks):  # type: ignore[no-untyped-def]
            cls = type(self)
            held = id(reply) in self.first_replies
            self.first_replies.discard(id(reply))
            if held:
                cls.arrived += 1
                if cls.arrived >= cls.gate and cls.opened is None:
                    cls.opened = time.monotonic()
                    print(f"gate opened at {cls.opened}", flush=True)
            start = None
            n = 0
            for name, data, delay in super()._events(reply, message, blocks):
                if delay:
                    now = time.monotonic()
                    start = now if start is None else start
                    n += 1
                    delay = max(0.0, start + (n - 1) * delay - now)
                yield name, data, delay
                if held and name == "message_start":
                    while cls.opened is None:
                        yield "ping", {"type": "ping"}, 0.05

    return PacedServer


def _serve(argv: list[str]) -> None:
    from tests.fake_api import _serve_forever

    parser = argparse.ArgumentParser(prog="pty_app.py serve")
    parser.add_argument("--tokens-per-s", type=float, default=50.0)
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--turns", type=int, default=1)
    parser.add_argument("--tool", default="Read")
    parser.add_argument("--tool-input", default="{}")
    parser.add_argument("--paragraph", type=int, default=0)
    parser.add_argument("--gate", type=int, default=0)
    args = parser.parse_args(argv)
    responder = TurnsResponder(
        args.tokens_per_s, args.words, args.turns, args.tool, json.loads(args.tool_input), args.paragraph
    )
    server_class = _paced_server_class()
    server_class.gate = args.gate
    asyncio.run(_serve_forever(server_class(responder=responder)))


# -------------------------------------------------------------------- where stalls come from


def _wrapped_app(argv: list[str]) -> None:
    """Run the app (in this process) with diagnostics the benchmarks may ask for:

    ``--stacks OUT``: a thread samples the main thread's stack every millisecond or so
    (as often as the GIL lets it), and each garbage collection is recorded with its
    duration (a collection holds the GIL, so no sample can show it); at exit they go
    to ``OUT`` as JSON lines ``[time, [frames, innermost last]]``. Matched against the
    lag probe's late wake-ups (:func:`stall_report`) they say what the loop was doing.

    ``--gc-freeze-after S``: ``gc.freeze()`` S seconds after start, a what-if: with the
    start-up heap (modules, classes, schemas) out of the collector's way, a full
    collection has far fewer objects to traverse. ``S`` = 0: as soon as the engine is
    open (``Workbench.open`` returned), with the brain's API client built first.
    """
    import atexit
    import gc
    import traceback

    parser = argparse.ArgumentParser(prog="pty_app.py wrap")
    parser.add_argument("--stacks", type=Path)
    parser.add_argument("--gc-freeze-after", type=float)
    args, rest = parser.parse_known_args(argv)
    if args.gc_freeze_after:
        threading.Timer(args.gc_freeze_after, gc.freeze).start()
    elif args.gc_freeze_after == 0:
        from workbench.engine.engine import Workbench

        opened = Workbench.open.__func__  # type: ignore[attr-defined]

        async def open_then_freeze(cls, *a, **k):  # type: ignore[no-untyped-def]
            bench = await opened(cls, *a, **k)
            getattr(bench.brain, "client", None)  # the Anthropic brain builds its client on first use
            gc.freeze()
            return bench

        Workbench.open = classmethod(open_then_freeze)  # type: ignore[method-assign]
    if args.stacks is not None:
        main_id = threading.main_thread().ident
        samples: list[tuple[float, list[str]]] = []
        stop = threading.Event()
        collecting: dict[str, float] = {}

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                collecting["t"] = time.monotonic()
            else:
                began = collecting.pop("t", time.monotonic())
                took = (time.monotonic() - began) * 1000
                samples.append(
                    (began, [f"gc generation {info['generation']}: {took:.1f} ms, {info['collected']} collected"])
                )

        def sample() -> None:
            while not stop.wait(0.001):
                frame = sys._current_frames().get(main_id)
                if frame is not None:
                    stack = [
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_stack(frame)[-40:]
                    ]
                    samples.append((time.monotonic(), stack))

        def write() -> None:
            stop.set()
            with open(args.stacks, "w") as f:
                for t, stack in samples:
                    f.write(json.dumps([t, stack]) + "\n")

        gc.callbacks.append(on_gc)
        atexit.register(write)
        threading.Thread(target=sample, name="stack-sampler", daemon=True).start()
    from workbench.frontends.cli.main import main

    sys.argv = ["workbench", *rest]
    sys.exit(main())


def wrapped_argv(stacks: Path | None = None, gc_freeze_after: float | None = None) -> list[str]:
    """The app under :func:`_wrapped_app`'s diagnostics."""
    argv = [sys.executable, __file__, "wrap"]
    if stacks is not None:
        argv += ["--stacks", str(stacks)]
    if gc_freeze_after is not None:
        argv += ["--gc-freeze-after", str(gc_freeze_after)]
    return argv


def add_diagnostics(parser: argparse.ArgumentParser) -> None:
    """The options the interactive benchmarks share: priority, profiling, what-ifs."""
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness increment for this process, the app and the fake API (e.g. -10 on a busy machine; needs root)",
    )
    parser.add_argument("--profile", type=Path, help="run the app under cProfile, written here (last run)")
    parser.add_argument(
        "--stalls",
        action="store_true",
        help="sample the app's main thread and garbage collections; print what each late "
        "wake-up of the lag probe was spent on (to stderr)",
    )
    parser.add_argument(
        "--gc-freeze-after", type=float, metavar="S", help="what-if: gc.freeze() in the app S seconds after it starts"
    )


def diagnosed_argv(args: argparse.Namespace, box: Sandbox) -> tuple[list[str], Path | None]:
    """The app's command line for these options, and where its stack samples will be."""
    if args.profile is not None:
        return app_argv(args.profile), None
    if args.stalls or args.gc_freeze_after is not None:
        stacks = box.root / "stacks.jsonl" if args.stalls else None
        return wrapped_argv(stacks, args.gc_freeze_after), stacks
    return app_argv(), None


def stall_report(
    samples: Path, probe: Path, since: float, until: float, min_lag_ms: float = 30.0, depth: int = 10
) -> str:
    """For each late wake-up of the probe in the window: the garbage collections and the
    stacks sampled meanwhile (most common first), and a tally of the causes at the end."""
    from collections import Counter

    stacks = [json.loads(line) for line in samples.read_text().splitlines()]
    data = json.loads(probe.read_text())
    interval_ms = data["interval_s"] * 1000
    lines, gc_ms, total_ms = [], 0.0, 0.0
    for began, lag in data["samples"]:
        if not (since <= began <= until) or lag < min_lag_ms:
            continue
        end = began + (interval_ms + lag) / 1000
        window = [(t, stack) for t, stack in stacks if began <= t <= end]
        collections = [stack[0] for t, stack in window if stack[0].startswith("gc generation")]
        seen = Counter(
            " <- ".join(reversed(stack[-depth:]))
            for t, stack in window
            if not stack[0].startswith("gc generation") and "selectors.py" not in stack[-1]
        )
        total_ms += lag
        gc_ms += sum(float(c.split(": ")[1].split(" ms")[0]) for c in collections)
        lines.append(f"--- {lag:.0f} ms late at +{began - since:.3f}s")
        lines += [f"  {c}" for c in collections if not c.endswith(" 0.0 ms, 0 collected")]
        lines += [f"  {n:4d}  {stack[:400]}" for stack, n in seen.most_common(3)]
    lines.append(f"=== {total_ms:.0f} ms late in all; garbage collections during the late wake-ups: {gc_ms:.0f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve(sys.argv[2:])
    elif sys.argv[1:2] == ["wrap"]:
        _wrapped_app(sys.argv[2:])
    else:
        sys.exit(
            f"usage: {sys.argv[0]} serve [--tokens-per-s N] [--words N] [--turns N] [--tool NAME]\n"
            f"       {sys.argv[0]} wrap [--stacks OUT] [--gc-freeze-after S] [workbench arguments]"
        )
