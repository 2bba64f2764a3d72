"""An hour of Play in the load benchmark's setting: one server, its 10 websocket sessions (5 drawing,
2 playing the Playground, 2 writing text, 1 on Embeddings, as ``bench_load``) for 60 minutes after its 90-s warm-up;
the server's memory growth per Playground frame sent (goal from issue 20: < 10 kB per frame).
``--quick``: 2 minutes after 30 s.

All of the server's growth is charged to the frames, although the drawing and text sessions make
garbage too, so the figure is an upper bound. The reference is the growth per frame of the first
10 minutes of the same run: a leak per frame shows as the same slope in both, and a cache that fills
and stops as a first-10-minutes slope the hour does not keep.
"""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from benchmarks.bench_load import SESSIONS, load_run
from benchmarks.harness import Result, growth_per_minute, minute_means
from tools.browser import start_app, stop_app

PLAY_SECONDS = 3600
WARM_UP_SECONDS = 90


def per_frame_kb(samples: list[tuple[float, float]], frames_per_second: float) -> float:
    """The least-squares growth of the server (MB over seconds) in kB per frame sent."""
    return growth_per_minute(samples) * 1024 / 60 / max(frames_per_second, 1e-9)


def run(quick: bool = False) -> list[Result]:
    seconds, warm_up = (120, 30) if quick else (PLAY_SECONDS, WARM_UP_SECONDS)
    cache = Path(tempfile.mkdtemp(prefix="dlp-play-hour-"))
    server = start_app(cache, extra_env={"DLP_QUEUE": "", "DLP_BUNDLED": "1"})
    try:
        load = asyncio.run(load_run([server.url], SESSIONS, seconds, {"server": server.process.pid}, warm_up))
    finally:
        stop_app(server)
    figures, memory, cpu, elapsed = load.figures, load.memory["server"], load.cpu, load.elapsed
    latencies, samples, errors = figures.predictions, figures.samples, figures.errors
    warm = [(t, mb) for t, mb in memory if t >= 0]
    frames_per_second = sum(p["fresh_per_s"] for p in figures.players)  # both players together
    frames = frames_per_second * elapsed
    first = [(t, mb) for t, mb in warm if t < min(600, seconds / 6)]
    ours, early = per_frame_kb(warm, frames_per_second), per_frame_kb(first, frames_per_second)
    sizes = [mb for _, mb in warm]
    means = minute_means(warm)
    shown = ", ".join(f"{mb:.0f}" for mb in (means if len(means) <= 12 else means[::5]))
    return [
        Result(f"server growth per Playground frame over {elapsed / 60:.0f} min of the load setting", ours, early,
               "kB/frame", "< 10 kB", ours < 10,
               note=f"reference: the first {first[-1][0] if first else 0:.0f} s of the same run. "
                    f"{frames:,.0f} frames to 2 players ({frames_per_second / 2:.1f}/s each), "
                    f"{len(latencies)} predictions, {len(samples)} text samples, errors: {len(errors)} "
                    f"({'; '.join(sorted(set(errors)))[:200] or 'none'}); server CPU {cpu['servers']:.0%} of a "
                    f"core; RSS {min(sizes, default=0):.0f}-{max(sizes, default=0):.0f} MB, mean of "
                    f"{'each' if len(means) <= 12 else 'every fifth'} minute: {shown or 'n/a'} MB; all growth "
                    f"charged to the frames (an upper bound)"),
    ]
