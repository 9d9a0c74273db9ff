"""Streaming: the app against the fake Messages API at 300 tokens/s, in a real pty.

One run: start the app (Anthropic brain pointed at tests/fake_api.py's server,
in a process of its own), send a prompt, and while the reply streams
(``words`` one-word tokens) type letters into the prompt. Then, from the
recording of the terminal (see pty_app.py) and the app's lag probe
(``WORKBENCH_LAG_PROBE``):

- ``tokens_per_s``: words rendered per second, from half a second after the first
  word of the reply showed on the screen to the last one showing (the reply comes
  in paragraphs of 60 words, as prose does: ``--paragraph 0`` streams one long
  paragraph, a stress case for the Markdown renderer);
- ``lag_p50_ms`` / ``lag_p99_ms``: how late the probe's 10 ms sleeps woke while
  the reply streamed (the first half second of the stream left out: it holds the
  one-off cost of the first request, reported as ``first_request_lag_ms``);
- ``loop_busy_share``: the probe's lateness summed over the window, about the share
  of the time the loop was busy (1: saturated);
- ``key_latency_p99_ms``: from writing a key to the pty until the screen shows it
  in the prompt.

Each figure is the median over runs. Prints JSON lines (see ../shared/BENCHMARKS.md).
``--stalls`` prints what each late wake-up was spent on; ``--profile`` writes a cProfile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_app import (  # noqa: E402
    KeyTimer,
    PtyApp,
    add_diagnostics,
    diagnosed_argv,
    engine_ready,
    fake_api,
    loadavg,
    loop_busy_share,
    median,
    percentile,
    prompt_text,
    read_probe,
    renice,
    sandbox,
    stall_report,
)

TOKENS_PER_S = 300.0
WORD = re.compile(r"w1\.(\d+)")
WARM_UP_S = 0.5  # the first request builds the SDK's client: a one-off, reported apart


def word_times(app: PtyApp, words: int, since: float) -> tuple[float, float, float]:
    """When the reply's first word showed on the screen, when its last did, and the words
    rendered per second in between (the first ``WARM_UP_S`` left out)."""
    timeline: list[tuple[float, int]] = []  # (time, the highest word number on the screen)
    for t, screen in app.recording.replay(app.cols, app.rows):
        if t < since:
            continue
        # a frame caught mid-redraw can show a word's start over an older one's digits ("w1.12"
        # over "w1.895": "w1.125"), even a number past the last word: such readings are left out
        found = [n for n in map(int, WORD.findall("\n".join(screen.display))) if n < words]
        if found:
            timeline.append((t, max(found)))
            if timeline[-1][1] == words - 1:
                break
    if not timeline or timeline[-1][1] != words - 1:
        raise RuntimeError("the reply's last word never showed")
    first, last = timeline[0][0], timeline[-1][0]
    steady_t, steady_i = next((t, i) for t, i in timeline if t >= first + WARM_UP_S)
    return first, last, (words - 1 - steady_i) / (last - steady_t)


def one_run(words: int, args: argparse.Namespace) -> dict[str, float]:
    with fake_api(TOKENS_PER_S, words, paragraph=args.paragraph) as api, sandbox() as box:
        probe = box.root / "lag.json"
        argv, stacks = diagnosed_argv(args, box)
        app = PtyApp(argv, env=box.env(api_url=api.url, probe=probe), cwd=box.workspace)
        app.start()
        try:
            app.wait_for(engine_ready, 30, what="the engine to open")
            time.sleep(0.5)
            sent = app.write(b"Tell me a long story.\r")
            # keys are typed once the reply streams (and the prompt was cleared when it was sent)
            app.wait_for(
                lambda screen: (
                    WORD.search("\n".join(screen.display)) is not None
                    and prompt_text(screen) is not None
                    and "story" not in (prompt_text(screen) or "")
                ),
                30,
                poll_s=0.01,
                what="the reply to start",
            )
            streaming = time.monotonic()
            timer = KeyTimer(app)
            timer.type_until(lambda: time.monotonic() > streaming + words / TOKENS_PER_S - 0.5)
            last_word = f"w1.{words - 1}"
            app.wait_for(
                lambda screen: any(last_word in line for line in screen.display), 60, what="the end of the reply"
            )
            cpu_s = app.cpu_s()
            time.sleep(1.0)  # the last keys typed show before the app is asked to quit
        finally:
            app.quit()
        first, last, rendered = word_times(app, words, sent)
        lags = read_probe(probe, first + WARM_UP_S, last)
        keys = timer.latencies_ms()
        if stacks is not None:
            print(stall_report(stacks, probe, first + WARM_UP_S, last), file=sys.stderr)
        return {
            "tokens_per_s": rendered,
            "lag_p50_ms": percentile(lags, 50),
            "lag_p99_ms": percentile(lags, 99),
            "lag_max_ms": max(lags),
            "loop_busy_share": loop_busy_share(lags, last - first - WARM_UP_S),
            "first_request_lag_ms": max(read_probe(probe, sent, first + WARM_UP_S)),
            "key_latency_p50_ms": percentile(keys, 50),
            "key_latency_p99_ms": percentile(keys, 99),
            "keys": len(keys),
            "app_cpu_s": cpu_s,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, help="runs (default 5, --quick 3)")
    parser.add_argument("--words", type=int, help="words (tokens) in the streamed reply (default 3000, --quick 900)")
    parser.add_argument("--paragraph", type=int, default=60, help="words per paragraph of the reply (0: one paragraph)")
    add_diagnostics(parser)
    args = parser.parse_args()
    nice = renice(args.nice)
    runs = args.runs or (3 if args.quick else 5)
    words = args.words or (900 if args.quick else 3000)

    results = []
    for run in range(runs):
        results.append(one_run(words, args))
        r = results[-1]
        print(
            f"stream run {run}: {r['tokens_per_s']:.0f} tokens/s, lag p50 {r['lag_p50_ms']:.1f} ms "
            f"p99 {r['lag_p99_ms']:.1f} ms, key p99 {r['key_latency_p99_ms']:.0f} ms",
            file=sys.stderr,
        )

    def med(key: str, digits: int = 1) -> float:
        return round(median([r[key] for r in results]), digits)

    figures = {
        key: med(key, 3 if key == "loop_busy_share" else 1)
        for key in (
            "lag_p50_ms",
            "lag_p99_ms",
            "lag_max_ms",
            "first_request_lag_ms",
            "loop_busy_share",
            "key_latency_p50_ms",
            "key_latency_p99_ms",
            "app_cpu_s",
        )
    }
    print(
        json.dumps(
            {
                "bench": "stream",
                "case": "stream",
                "offered_tokens_per_s": TOKENS_PER_S,
                "words": words,
                "paragraph_words": args.paragraph,
                "runs": runs,
                "tokens_per_s": med("tokens_per_s", 0),
                **figures,
                "keys_per_run": int(med("keys", 0)),
                "gc_freeze_after_s": args.gc_freeze_after,
            }
        )
    )
    print(
        json.dumps(
            {
                "bench": "stream",
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
