"""A server that never answers, or only pings, never keeps a turn waiting: every request has a deadline.

Against the fake Messages API on loopback, through the real SDK: in process, in the brain host, and
through ``workbench run``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_api import FakeAnthropicServer, NoHeaders, PingsOnly, Reply, serve_in_thread
from tests.processes import alive, until_sync
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.hosted import HostedBrain
from workbench.engine.config import ConfigError, load_config
from workbench.protocol.brain_io import BrainError, BrainRequest, MessageDone, RetryNotice
from workbench.protocol.content import TextBlock

MODEL = "claude-sonnet-4-6"
STALL_S = 0.3  # the tests' stall timeout: short, since each test's server stalls on purpose
SAFETY_NET_S = 60


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer() as fake:
        yield fake


def ask() -> BrainRequest:
    return BrainRequest(model=MODEL, messages=[{"role": "user", "content": "hello"}])


def brain(server: FakeAnthropicServer, **kwargs: object) -> AnthropicBrain:
    settings = {"api_key": "k", "backoff_base_s": 0.01, "backoff_cap_s": 0.01, "stall_timeout_s": STALL_S, **kwargs}
    return AnthropicBrain(MODEL, base_url=server.base_url, **settings)  # type: ignore[arg-type]


async def failure_of(stream: AsyncIterator[object]) -> tuple[list[object], BrainError]:
    events: list[object] = []
    with pytest.raises(BrainError) as caught:
        async with asyncio.timeout(SAFETY_NET_S):
            async for event in stream:
                events.append(event)
    return events, caught.value


@pytest.mark.parametrize(
    ("stall", "sentence"),
    [
        (NoHeaders(), "did not answer within 0.3 s"),
        (PingsOnly(), "The API stopped sending the reply"),
        (PingsOnly(message_start=True), "The API stopped sending the reply"),
    ],
    ids=["no headers", "pings only", "pings after message_start"],
)
async def test_a_stalled_server_is_given_up_on_and_tried_again(
    server: FakeAnthropicServer, stall: object, sentence: str
) -> None:
    server.enqueue(stall, Reply(text="second try"))
    events = [e async for e in brain(server).stream(ask())]
    (notice,) = [e for e in events if isinstance(e, RetryNotice)]
    assert sentence in notice.message
    assert events[-1] == MessageDone(content=[TextBlock(text="second try")], stop_reason="end_turn")


async def test_a_server_that_stalls_every_time_fails_in_a_sentence(server: FakeAnthropicServer) -> None:
    server.enqueue(PingsOnly(), PingsOnly(), PingsOnly())
    events, error = await failure_of(brain(server, max_attempts=3).stream(ask()))
    assert error.message == (
        "The API stopped sending the reply after 3 attempts: "
        "nothing for 0.3 s after 0 events (keep-alive pings do not count)"
    )
    assert error.error_type == "timeout"
    assert len([e for e in events if isinstance(e, RetryNotice)]) == 2


async def test_the_whole_request_has_a_deadline(server: FakeAnthropicServer) -> None:
    server.enqueue(*[PingsOnly()] * 10)
    _events, error = await failure_of(brain(server, stall_timeout_s=60, request_timeout_s=0.5).stream(ask()))
    assert error.message.startswith("The API did not finish the reply within the 0.5 s allowed")
    assert not error.retryable


async def test_a_stream_cut_every_time_says_so_in_a_sentence(server: FakeAnthropicServer) -> None:
    server.enqueue(*[Reply(text="a b c", cut_after=1)] * 4)
    _events, error = await failure_of(brain(server).stream(ask()))
    assert error.message == "The API closed the stream mid-reply after 4 attempts: the stream ended after 1 event"


class _WithoutBlockStarts(FakeAnthropicServer):
    """A server that skips ``content_block_start``: deltas for blocks never opened."""

    def _events(self, reply, message, blocks):  # type: ignore[no-untyped-def]
        return (e for e in super()._events(reply, message, blocks) if e[0] != "content_block_start")


async def test_a_stream_the_sdk_cannot_follow_fails_in_a_sentence() -> None:
    async with _WithoutBlockStarts(Reply(text="a b")) as odd:
        _events, error = await failure_of(brain(odd).stream(ask()))
    assert error.message.startswith("The API sent a stream that could not be read")
    assert error.error_type == "bad_response"


async def test_the_host_keeps_the_same_deadlines(server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    hosted = HostedBrain(MODEL, base_url=server.base_url, stall_timeout_s=STALL_S, max_attempts=2)
    server.enqueue(NoHeaders(), NoHeaders())
    try:
        _events, error = await failure_of(hosted.stream(ask()))
    finally:
        await hosted.aclose()
    assert "did not answer within 0.3 s after 2 attempts" in error.message


def test_the_deadlines_are_settings(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    config_file = tmp_path / ".workbench" / "config.toml"
    config_file.write_text("[api]\nrequest_timeout_s = 90\nstall_timeout_s = 15\nmax_attempts = 2\n")
    config = load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert (config.api.request_timeout_s, config.api.stall_timeout_s, config.api.max_attempts) == (90, 15, 2)
    config_file.write_text("[api]\nstall_timeout_s = 0\n")
    with pytest.raises(ConfigError, match="stall_timeout_s"):
        load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


# ---------------------------------------------------------------- the host when the app dies

_APP_WAITING_ON_THE_HOST = """
import asyncio, subprocess, sys
from workbench.brains.hosted import HostedBrain
from workbench.protocol.brain_io import BrainRequest

async def main():
    brain = HostedBrain("m", base_url=sys.argv[1])
    stream = brain.stream(BrainRequest(model="m", messages=[{"role": "user", "content": "hi"}]))
    waiting = asyncio.ensure_future(anext(stream))
    while brain._process is None:
        await asyncio.sleep(0.01)
    shown = [brain._process.pid]
    if sys.argv[2:] == ["share"]:  # a child that keeps the app's end of the host's stdin open
        holder = subprocess.Popen(["sleep", "600"], pass_fds=[brain._process.stdin.fileno()], start_new_session=True)
        shown.append(holder.pid)
    print(*shown, flush=True)
    await waiting

asyncio.run(main())
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_a_killed_app_leaves_no_brain_host(sig: signal.Signals) -> None:
    with serve_in_thread(NoHeaders()) as server:
        app = _app_waiting_on_its_host(server)
        try:
            host = int(app.stdout.readline())  # type: ignore[union-attr]
            until_sync(lambda: len(server.message_requests) == 1, "the host's request to reach the server")
            app.send_signal(sig)
            app.wait(timeout=SAFETY_NET_S)
            until_sync(lambda: not alive(host), "the brain host to exit")
        finally:
            app.kill()
            app.wait()


def test_a_host_whose_app_died_exits_even_if_its_stdin_lives_on() -> None:
    """Another process holds the app's end of the host's stdin (a forked child, say): the host
    still notices that the app is gone."""
    with serve_in_thread(NoHeaders()) as server:
        app = _app_waiting_on_its_host(server, share_the_pipe=True)
        holder = None
        try:
            host, holder = (int(n) for n in app.stdout.readline().split())  # type: ignore[union-attr]
            until_sync(lambda: len(server.message_requests) == 1, "the host's request to reach the server")
            app.kill()
            app.wait(timeout=SAFETY_NET_S)
            until_sync(lambda: not alive(host), "the brain host to exit")
            assert alive(holder)
        finally:
            app.kill()
            app.wait()
            if holder is not None:
                os.kill(holder, signal.SIGKILL)


def _app_waiting_on_its_host(server: FakeAnthropicServer, share_the_pipe: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "ANTHROPIC_API_KEY": "test-key"}
    argv = [sys.executable, "-c", _APP_WAITING_ON_THE_HOST, server.base_url] + (["share"] if share_the_pipe else [])
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)


# ---------------------------------------------------------------- workbench run


def _run(server: FakeAnthropicServer, tmp_path: Path, *, config: str = "") -> subprocess.CompletedProcess[str]:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    user_config = tmp_path / "config" / "workbench" / "config.toml"  # the user's own: applied without --trust
    user_config.parent.mkdir(parents=True, exist_ok=True)
    user_config.write_text(textwrap.dedent(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env |= {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": server.base_url,
        "WORKBENCH_BUNDLES": str(tmp_path / "bundles"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return subprocess.run(
        [sys.executable, "-m", "workbench", "run", "--brain", "anthropic", "hello"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET_S * 2,
    )


def test_run_against_a_server_that_only_pings_fails_in_time_and_says_why(tmp_path: Path) -> None:
    with serve_in_thread(*[PingsOnly()] * 2) as server:
        done = _run(server, tmp_path, config="[api]\nstall_timeout_s = 0.5\nmax_attempts = 2\n")
    assert done.returncode == 1
    assert "The API stopped sending the reply after 2 attempts" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_after_a_stream_cut_every_time_exits_non_zero(tmp_path: Path) -> None:
    with serve_in_thread(*[Reply(text="a b", cut_after=1)] * 2) as server:
        done = _run(server, tmp_path, config="[api]\nmax_attempts = 2\n")
    assert done.returncode == 1
    assert "The API closed the stream mid-reply after 2 attempts" in done.stderr
