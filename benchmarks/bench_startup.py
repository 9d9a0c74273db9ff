"""Start-up: from process start to the first screen ready and accepting keys.

The app runs in a real pseudo-terminal (see pty_app.py). From the moment it is
spawned a printable key is written every ``KEY_EVERY_S`` (a key that arrives
before the prompt has the focus is dropped by Textual, so a single key written
at once would never show); the clock stops at the first chunk of terminal output
after which the screen shows the key in the prompt. The figure is therefore
"the first moment a key typed shows", at most one key interval late.

``engine_ready_median_s`` is when the session header shows the session id: the
engine (bundle store, tokenizer, brain) is open and a prompt can be sent. It opens
after the first screen, in a worker, so it does not hold up the first key; that it
does not freeze the screen meanwhile either is ``key_latency_max_ms``: the slowest
of the keys typed (25 a second) from the first key shown until the engine is open
(median over runs).

``bare_textual_s``: the same figure for a bare Textual app (bare_textual_app.py: header,
label, input, footer), its runs taken between the app's; ``bare_ratio`` = median_s / that.

Each run is a fresh process with an empty bundle store and config. A first,
uncounted run fills the bytecode cache, as any installed app has one.
Prints JSON lines (see ../shared/BENCHMARKS.md); ``--quick`` runs fewer times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_app import (  # noqa: E402
    ENGINE_READY,
    PtyApp,
    app_argv,
    engine_ready,
    first_shown,
    loadavg,
    median,
    prompt_text,
    renice,
    sandbox,
)

KEY = b"z"
KEY_EVERY_S = 0.005
LETTERS = string.ascii_lowercase[:-1] + string.ascii_uppercase + string.digits  # each once, no "z"
LETTER_EVERY_S = 0.04
TIMEOUT_S = 20.0
BARE_APP = Path(__file__).resolve().parent / "bare_textual_app.py"


def one_run(api: bool) -> dict[str, float]:
    """Seconds from spawn to the first key shown in the prompt, to the first output and to
    the engine being open; and the slowest key typed from the first key shown until then."""
    with sandbox() as box:
        # with an API key the engine opens the Anthropic brain (a URL nothing listens on:
        # nothing is sent before a prompt is)
        env = box.env(api_url="http://127.0.0.1:9" if api else None)
        app = PtyApp(app_argv(), env=env, cwd=box.workspace)
        start = app.start()
        chunks = app.recording.chunks
        seen = 0
        checks = []
        try:
            while True:
                app.write(KEY)
                # a cheap look at the raw output; the exact time comes from replaying it afterwards
                if any(KEY in data for _, data in chunks[seen:]):
                    break
                seen = max(0, len(chunks) - 1)
                if time.monotonic() - start > TIMEOUT_S:
                    raise TimeoutError(f"no key echoed within {TIMEOUT_S}s:\n{app.text()}")
                time.sleep(KEY_EVERY_S)
            # then more keys, each new, timed, until the engine is open (the session id shows
            # in the header) and a little more; they follow the first keys on the prompt's line
            opened = 0.0
            for k, letter in enumerate(LETTERS):
                if not opened and any(ENGINE_READY.search(data.decode("utf-8", "replace")) for _, data in chunks):
                    opened = time.monotonic()
                if opened and time.monotonic() > opened + 0.3:
                    break
                checks.append((app.write(letter.encode()), _shows(LETTERS[: k + 1])))
                time.sleep(LETTER_EVERY_S)
            while not any(ENGINE_READY.search(data.decode("utf-8", "replace")) for _, data in chunks):
                if time.monotonic() - start > TIMEOUT_S:
                    raise TimeoutError(f"the engine did not open within {TIMEOUT_S}s:\n{app.text()}")
                time.sleep(0.02)
            time.sleep(0.2)
        finally:
            app.quit()
        shown, ready, *letters = first_shown(
            app.recording, app.cols, app.rows, [(start, _shows(KEY.decode())), (start, engine_ready), *checks]
        )
        if shown is None or ready is None:
            raise RuntimeError("the key never showed in the prompt (the raw scan saw it elsewhere)")
        latencies = [(t - since) * 1000 for (since, _), t in zip(checks, letters) if t is not None]
        if len(latencies) < len(checks):
            print(f"warning: {len(checks) - len(latencies)} of {len(checks)} keys never showed", file=sys.stderr)
        return {
            "seconds": shown - start,
            "first_output_s": chunks[0][0] - start,
            "engine_ready_s": ready - start,
            "key_latency_max_ms": max(latencies) if latencies else float("nan"),
        }


def bare_run() -> float:
    """Seconds from spawn to the first key shown in a bare Textual app's input (bare_textual_app.py)."""
    with sandbox() as box:
        app = PtyApp([sys.executable, str(BARE_APP)], env=box.env(), cwd=box.workspace)
        start = app.start()
        chunks = app.recording.chunks
        seen = 0
        try:
            while not any(KEY in data for _, data in chunks[seen:]):
                seen = max(0, len(chunks) - 1)
                if time.monotonic() - start > TIMEOUT_S:
                    raise TimeoutError(f"no key echoed within {TIMEOUT_S}s:\n{app.text()}")
                app.write(KEY)
                time.sleep(KEY_EVERY_S)
            time.sleep(0.2)
        finally:
            app.quit()
        (shown,) = first_shown(app.recording, app.cols, app.rows, [(start, _typed)])
        if shown is None:
            raise RuntimeError("the key never showed in the bare app's input")
        return shown - start


def _typed(screen: pyte.Screen) -> bool:
    return any(KEY.decode() in line for line in screen.display)


def _shows(text: str) -> Callable[[pyte.Screen], bool]:
    return lambda screen: text in (prompt_text(screen, every_line=True) or "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, help="runs per case (default 7, --quick 3)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness increment for this process and the app (e.g. -10 on a busy machine; needs root)",
    )
    args = parser.parse_args()
    nice = renice(args.nice)
    runs = args.runs or (3 if args.quick else 7)

    one_run(api=False)  # fills the bytecode cache; not counted
    bare_run()
    for case, api in (("first_screen", False), ("first_screen_api", True)):
        results, bare = [], []
        for run in range(runs):  # the bare app's runs between the app's, so both see the same machine
            results.append(one_run(api))
            bare.append(bare_run())
            print(f"{case} run {run}: {results[-1]['seconds']:.3f}s, bare Textual {bare[-1]:.3f}s", file=sys.stderr)
        seconds = [r["seconds"] for r in results]
        print(
            json.dumps(
                {
                    "bench": "startup",
                    "case": case,
                    "brain": "anthropic" if api else "scripted",
                    "runs": runs,
                    "median_s": round(median(seconds), 3),
                    "max_s": round(max(seconds), 3),
                    "min_s": round(min(seconds), 3),
                    "first_output_median_s": round(median([r["first_output_s"] for r in results]), 3),
                    "engine_ready_median_s": round(median([r["engine_ready_s"] for r in results]), 3),
                    "key_latency_max_ms": round(median([r["key_latency_max_ms"] for r in results]), 1),
                    "bare_textual_s": round(median(bare), 3),
                    "bare_ratio": round(median(seconds) / median(bare), 2),
                }
            )
        )
    print(
        json.dumps(
            {
                "bench": "startup",
                "case": "summary",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "quick": args.quick,
                "nice": nice,
                "loadavg": loadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
