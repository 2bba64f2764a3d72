"""The sessions of the load benchmark (benchmarks/bench_load.py): what a learner does on each page,
spoken over Streamlit's own websocket protocol (tools/streamlit_client.py), timed, and paced like
the browser would pace it.

Not a benchmark itself (no ``bench_`` prefix). Each session opens its page, waits until it is ready
(:meth:`Clock.ready`: the load starts when every session is), then repeats its action until the
clock's deadline; only actions that start after the warm-up count. A failure is counted, never
raised, and a missing answer is a failure after ``ANSWER_TIMEOUT``.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from dataclasses import dataclass, field

from tools.streamlit_client import (
    EARLY_FOR_RERUN, FRAGMENT_FINISHED, Page, ProtocolError, canvas_id, canvas_state, component_data,
    settle_canvas,
)

ANSWER_TIMEOUT = 30.0  # seconds a session waits for an answer before it counts an error
READY_TIMEOUT = 240.0  # the first visit to a page loads TensorFlow and the model
DIGIT_STROKES = {  # canvas-relative pen strokes
    "0": [[(0.5 + 0.21 * math.sin(t / 12 * math.pi), 0.5 - 0.3 * math.cos(t / 12 * math.pi)) for t in range(25)]],
    "1": [[(0.52, 0.2), (0.5, 0.5), (0.48, 0.8)]],
    "7": [[(0.26, 0.2), (0.74, 0.2), (0.53, 0.53), (0.44, 0.8)]],
}
CLEAR_PAUSE = 0.6  # between Clear and the next stroke, as a learner's hand does
LIVE_COMPONENT = "dlp_playground_live"  # views/playground/component.py
PAINT_SECONDS = 1 / 60  # the browser's animation frames
ASK_SECONDS = 0.075  # the component asks for frames at most this often (player.js ASK_EVERY_MS)
SHARES = {"draw": 5, "playground": 2, "text": 2, "embeddings": 1}  # of every 10 sessions


def session_mix(sessions: int) -> list[str]:
    """The page of each of ``sessions`` sessions, in the proportions of :data:`SHARES` (every page
    at least once from 4 sessions on): 10 → 5 drawing, 2 playing, 2 writing, 1 projecting."""
    total = sum(SHARES.values())
    counts = {kind: max(1, math.floor(sessions * share / total)) for kind, share in SHARES.items()}
    while sum(counts.values()) < sessions:  # the rest to drawing, the commonest
        counts["draw"] += 1
    while sum(counts.values()) > sessions:
        counts[max(counts, key=counts.get)] -= 1
    return [kind for kind, count in counts.items() for _ in range(count)]


@dataclass
class Figures:
    """What one load run's sessions measured."""

    predictions: list[float] = field(default_factory=list)  # s, stroke sent -> new Prediction
    samples: list[float] = field(default_factory=list)  # s, Generate -> finished sample
    maps: list[float] = field(default_factory=list)  # s, Spherize switched -> map redrawn
    players: list[dict] = field(default_factory=list)  # per Playground session: pictures/s etc.
    errors: list[str] = field(default_factory=list)


class Clock:
    """Sessions get ready (page open, model loaded) first; the load starts when all are, and is
    measured after ``warm_up`` seconds of the same load."""

    def __init__(self, sessions: int, seconds: float, warm_up: float = 0.0):
        self.waiting, self.seconds, self.warm_up = sessions, seconds, warm_up
        self.deadline, self.measure_from = float("inf"), float("inf")  # time.time(), perf_counter()
        self.go = asyncio.Event()

    async def ready(self) -> None:
        self.waiting -= 1
        self._start_when_all_ready()
        await self.go.wait()

    def give_up(self) -> None:
        """A session that failed before it was ready must not hold the others back."""
        if not self.go.is_set():
            self.waiting -= 1
            self._start_when_all_ready()

    def _start_when_all_ready(self) -> None:
        if self.waiting == 0:
            self.deadline = time.time() + self.warm_up + self.seconds
            self.measure_from = time.perf_counter() + self.warm_up
            self.go.set()


@contextlib.asynccontextmanager
async def session_page(url: str, path: str, query: str, errors: list):
    """A websocket-protocol session on one page whose failures are counted, not raised; what the
    page itself showed as failing (exceptions, unknown page, cache misses) is counted once each."""
    page = Page(url, path, query, timeout=ANSWER_TIMEOUT)
    try:
        await page.open()
        yield page
    except Exception as error:  # the load run reports errors
        errors.append(f"{path}: {type(error).__name__}: {str(error).splitlines()[0][:160]}")
    finally:
        errors.extend(f"{path}: {problem}" for problem in dict.fromkeys(page.errors))
        await page.close()


async def drawing_session(url: str, clock: Clock, figures: Figures) -> None:
    """Clear, draw a digit, time the stroke to the updated Prediction; again and again.

    The stroke is what Draw's canvas sends when the pen lifts: its state with a PNG of the drawing.
    Timed from sending it to the message with the new Prediction metric, so the browser's own
    drawing and rendering are not in the time. The network is the page's default (the bundled Fast CNN)."""
    async with session_page(url, "draw", "", figures.errors) as page:
        await page.wait_for(lambda: page.metric("Prediction") is not None and not page.running,
                            READY_TIMEOUT, "the Prediction metric")
        await clock.ready()
        for digit in itertools.cycle(DIGIT_STROKES):
            if time.time() >= clock.deadline:
                break
            try:
                await page.wait_run(await page.click("Clear"))
                if page.metric("Prediction") != "–":
                    raise ProtocolError(f"Clear left the Prediction at {page.metric('Prediction')!r}")
                await asyncio.sleep(CLEAR_PAUSE)
                started = time.perf_counter()
                mark = await page.set_value(canvas_id(page), json_value=canvas_state(DIGIT_STROKES[digit]))
                answered = await page.wait_for(lambda: page.metric("Prediction") not in (None, "–"),
                                               what="an updated Prediction")
                if started >= clock.measure_from:
                    figures.predictions.append(answered - started)
                # (the canvas lives in a fragment: its run, and any run it leads to, must end first)
                await page.wait_for(lambda: any(e.kind == "finish" for e in page.events[mark:]) and not page.running,
                                    what="the stroke's run to end")
                await settle_canvas(page)  # then, as the browser does, the rest of the page
            except ProtocolError as error:  # counted; the next round resynchronises with Clear
                figures.errors.append(f"draw: {error}")
                if "connection lost" in str(error):
                    break


class Playback:
    """The component's playback (views/components/playground_live/player.js, ``receive`` and
    ``playBack``): the frames of each batch are queued and shown one per animation frame at most,
    spread evenly over the time one batch takes to come; more than 24 queued drops the oldest."""

    def __init__(self) -> None:
        self.queue: list[dict] = []
        self.newest = -1
        self.spacing, self.batch_gap, self.per_batch = 0.040, 0.120, 1
        self.last_batch_at, self.next_at = 0.0, 0.0
        self.shown: list[tuple[float, int]] = []  # (when, epoch) of every frame shown
        self.fresh: list[float] = []  # when each frame new to this session arrived

    def receive(self, now: float, frames: list[dict]) -> None:
        if self.last_batch_at:
            self.batch_gap = 0.8 * self.batch_gap + 0.2 * min(now - self.last_batch_at, 1.0)
        self.last_batch_at = now
        fresh = [f for f in frames if f["serial"] > self.newest]
        if fresh:
            self.newest = fresh[-1]["serial"]
        self.queue = (self.queue + fresh)[-24:]
        self.fresh.extend(now for _ in fresh)
        self.per_batch = max(1, len(fresh))
        self.spacing = min(0.080, 0.8 * self.batch_gap / self.per_batch)

    def paint(self, now: float) -> None:
        """One animation frame of the browser."""
        if self.queue and (now >= self.next_at or len(self.queue) > 2 * self.per_batch):
            self.shown.append((now, self.queue.pop(0)["epoch"]))
            self.next_at = now + self.spacing


async def playground_session(url: str, clock: Clock, figures: Figures) -> None:
    """Press Play and take frames as the browser does: the component's "frames" element carries a
    batch of frames and a ``tick``; on each new tick the browser sends the ``drawn`` trigger (the
    batch's last serial), which reruns the Playground's fragment, whose answer is the next batch, and
    meanwhile it plays the batch back at its animation frames (:class:`Playback`). Counted over the
    measured time: the pictures shown per second (what the learner sees), the frames new to this
    session, and the epochs the shown pictures advanced."""
    async with session_page(url, "playground", "", figures.errors) as page:
        await page.wait_for(lambda: bool(page.find(kind="button", key="pg_play")) and not page.running,
                            READY_TIMEOUT, "the Play button")
        await clock.ready()
        batches, playback = [], Playback()

        def receive(node) -> None:
            if node.kind == "bidi_component" and LIVE_COMPONENT in node.proto.component_name:
                data = component_data(node)
                if data and data.get("view") == "frames":
                    if data["playing"]:
                        playback.receive(time.perf_counter(), data["frames"])
                    batches.append((node, data))

        async def paint() -> None:
            while True:
                playback.paint(time.perf_counter())
                await asyncio.sleep(PAINT_SECONDS)

        page.on_element = receive
        mark = await page.click("Play")
        await page.wait_run(mark)
        await page.wait_for(lambda: bool(batches) and batches[-1][1]["playing"], what="a playing batch of frames")
        painter, playing, asked, asked_at = asyncio.create_task(paint()), time.perf_counter(), None, 0.0
        try:
            while time.time() < clock.deadline and not page.errors:
                component, data = batches[-1]
                if not data["playing"]:
                    raise ProtocolError("the Playground stopped playing")
                if data["tick"] != asked:  # player.js asks once per tick, at most every ASK_SECONDS
                    asked = data["tick"]
                    await asyncio.sleep(max(0.0, asked_at + ASK_SECONDS - time.perf_counter()))
                    asked_at = time.perf_counter()
                    await page.trigger(component, "drawn", data["frames"][-1]["serial"])
                await page.wait_for(lambda: batches[-1][1]["tick"] != asked, what="the next batch of frames")
        except ProtocolError as error:
            figures.errors.append(f"playground: {error}")
        finally:
            painter.cancel()
        since = max(playing, clock.measure_from)
        seconds = max(time.perf_counter() - since, 1e-9)
        shown = [epoch for at, epoch in playback.shown if at >= since]
        ends = [e.status for e in page.events[mark:] if e.kind == "finish" and e.fragment_ids]
        figures.players.append({
            "pictures_per_s": len(shown) / seconds,
            "fresh_per_s": sum(1 for at in playback.fresh if at >= since) / seconds,
            "epochs_per_s": (shown[-1] - shown[0]) / seconds if len(shown) > 1 else 0.0,
            "runs_finished": ends.count(FRAGMENT_FINISHED), "runs_cut_short": ends.count(EARLY_FOR_RERUN)})


async def text_session(url: str, clock: Clock, figures: Figures) -> None:
    """Set a new Random seed (the same seed repeats itself), press Generate, time to the finished sample."""
    async with session_page(url, "text", "", figures.errors) as page:
        await page.wait_for(lambda: bool(page.find("Generate", "button")) and not page.running,
                            READY_TIMEOUT, "the Generate button")
        await clock.ready()
        for rng_seed in itertools.count(1):
            if time.time() >= clock.deadline:
                break
            try:
                seed = page.widget("Random seed", "number_input").widget_id
                await page.wait_run(await page.set_value(seed, int_value=rng_seed))
                before = page.texts("code")
                started = time.perf_counter()
                # Done when the run Generate asked for (and the rerun it ends with) has finished
                # with a new sample on the page.
                finished = await page.wait_run(await page.click("Generate"), timeout=60)
                if page.texts("code") == before or not any("A look inside" in h for h in page.texts("heading")):
                    raise ProtocolError("Generate finished without a new sample")
                if started >= clock.measure_from:
                    figures.samples.append(finished.at - started)
            except ProtocolError as error:
                figures.errors.append(f"text: {error}")
                if "connection lost" in str(error):
                    break


async def embeddings_session(url: str, clock: Clock, figures: Figures) -> None:
    """On the Embeddings page's opening map (PCA of the default Fast CNN's features), switch
    "Spherize" on and off: each switch projects the points again and redraws the map. Timed from
    the switch to the end of the page run that drew the new map."""
    async with session_page(url, "embeddings", "", figures.errors) as page:
        await page.wait_for(lambda: bool(page.find("Spherize")) and bool(page.elements("plotly_chart"))
                            and not page.running, READY_TIMEOUT, "the map and its Spherize switch")
        await clock.ready()
        for spherize in itertools.cycle((True, False)):
            if time.time() >= clock.deadline:
                break
            try:
                switch = page.widget("Spherize").widget_id
                started = time.perf_counter()
                finished = await page.wait_run(await page.set_value(switch, bool_value=spherize), timeout=60)
                if not page.elements("plotly_chart"):
                    raise ProtocolError("the map is gone after switching Spherize")
                if started >= clock.measure_from:
                    figures.maps.append(finished.at - started)
            except ProtocolError as error:
                figures.errors.append(f"embeddings: {error}")
                if "connection lost" in str(error):
                    break


SESSIONS = {"draw": drawing_session, "playground": playground_session, "text": text_session,
            "embeddings": embeddings_session}
