"""Training that keeps running while the Playground plays, and the frames it publishes.

One :class:`LiveTrainer` per playing session trains its ``PlaygroundNet`` in a background thread,
a few epochs at a time, and publishes a :class:`Frame` every ``FRAME_SECONDS``: the epoch, both
losses, the weights and every neuron's outputs on a ``GRID`` × ``GRID`` grid of the map, as NumPy
arrays. The page fetches the frames made since its last fetch in one batch
(:meth:`LiveTrainer.frames`) and the browser plays them back, so the picture rate does not depend
on the round trip; a frame costs the server a forward pass over the grid. How a frame travels to
the browser is the page's business (views/playground/wire.py).

All the trainers of a server take turns (:data:`TURNS`), so any number of players share about
one core between them and the other stays free for the web server and everyone else's pages.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from core.playground.datasets import Dataset, featurize, grid
from core.playground.history import thin_history, thin_snapshots

GRID = 50  # grid points per side of each neuron's picture
CHUNK_SECONDS = 0.012  # training per turn: short, so a waiting frame or player is served soon
MAX_EPOCHS_PER_CHUNK = 50
FRAME_SECONDS = 1 / 30  # a frame every 33 ms while playing: 30 pictures a second, a margin over 20
RECENT_FRAMES = 8  # frames kept for a page that fetches them in batches
IDLE_SECONDS = 3.0  # nobody asked for a frame this long (tab closed): stop training


class Turns:
    """A fair lock: the trainers that wait get it in the order they asked (a plain Lock lets the
    thread that just released it take it again, and one player could starve the rest)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[int] = []
        self._next_ticket = 0

    def __enter__(self) -> "Turns":
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._queue.append(ticket)
            self._condition.wait_for(lambda: self._queue[0] == ticket)
        return self

    def __exit__(self, *exc) -> None:
        with self._condition:
            self._queue.pop(0)
            self._condition.notify_all()

    def waiting(self) -> int:
        with self._condition:
            return len(self._queue)


TURNS = Turns()


@dataclass
class Frame:
    serial: int  # 0, 1, 2, ... one per published frame of this trainer
    epoch: int
    train_loss: float
    test_loss: float
    weights: list[tuple[np.ndarray, np.ndarray]]
    outputs: list[np.ndarray]  # every layer's outputs on the grid (hidden..., shown output)
    history: list[tuple[int, float, float]]
    playing: bool
    diverged: bool = False
    made_at: float = field(default_factory=time.monotonic)


class LiveTrainer:
    """Trains ``net`` on ``data`` in a background thread while playing.

    ``grid_features`` are the network's inputs at the ``GRID`` × ``GRID`` points of the map
    (:func:`grid_inputs`), the same for every frame. Every method is safe to call from the page's
    script threads. A network whose program is not ready yet (see core.playground.network) trains
    in NumPy and is drawn op by op meanwhile: no control waits for the trace, which runs in the
    background from :meth:`prepare` on (the page asks for it a moment after it has drawn the new
    network, so that the trace does not slow down that run or the browser's receiving it) or from
    the first Step or Play.
    """

    def __init__(self, net, data: Dataset, turns: Turns = TURNS, history: list | None = None,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        self.net = net
        features = net.state.features
        self._x_train, self._y_train = featurize(data.x_train, features), data.y_train
        self._x_test, self._y_test = featurize(data.x_test, features), data.y_test
        self.grid_features = self._grid = grid_inputs(features)
        self._turns, self._idle_seconds = turns, idle_seconds
        self._lock = threading.Lock()  # the network: one trainer step or frame at a time
        self._changed = threading.Condition()
        self._playing = False
        self._closed = False
        self._wanted_at = time.monotonic()
        self._epochs_per_second = 200.0  # a first guess; measured from the first chunks on
        self._thread: threading.Thread | None = None
        self.history: list[tuple[int, float, float]] = list(history or [])
        self.snapshots: list[tuple[int, list]] = []  # (epoch, weights) over the run, for a saved run
        self._frame: Frame | None = None
        self._recent: deque[Frame] = deque(maxlen=RECENT_FRAMES)
        self._tracer: threading.Thread | None = None
        self._trace_now = threading.Event()  # (a delayed trace is wanted at once)
        with self._lock:
            self._publish()  # (the first picture of a new network: no time to trace for it)

    # ---- controls ----------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    def prepare(self, after: float = 0.0) -> None:
        """Trace and compile the network's program in the background if it is not ready, in ``after``
        seconds: sooner if a Step or Play asks for it meanwhile, not at all if the trainer is closed
        by then (a network replaced by another, whose shape may never be needed)."""
        with self._changed:
            if not after:
                self._trace_now.set()
            if self.net.program.traced or self._tracer is not None:
                return
            # (not a daemon thread: TensorFlow aborts the process on a trace cut short by exit)
            self._tracer = threading.Thread(target=self._trace, args=(after,), name="playground-trace")
            self._tracer.start()

    def _trace(self, after: float) -> None:
        self._trace_now.wait(after)
        if not self._closed:
            self.net.prepare()

    def play(self) -> None:
        with self._changed:
            if self._closed or self._playing:
                return
            self._playing, self._wanted_at = True, time.monotonic()
            self._thread = threading.Thread(target=self._run, name="playground-live", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        """Stop training; returns once the thread has finished its chunk and published the last frame."""
        with self._changed:
            self._playing = False
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def step(self, epochs: int = 1) -> Frame:
        """Train ``epochs`` epochs now (while paused) and publish the frame."""
        self.pause()
        self.prepare()
        with self._lock:
            self.net.train(self._x_train, self._y_train, epochs, traced=False)
            return self._publish()

    def close(self) -> None:
        """Stop for good, without waiting for the chunk under way (it trains this trainer's own network:
        a page replacing the network need not wait for it)."""
        with self._changed:
            self._closed, self._playing = True, False
            self._changed.notify_all()
        self._trace_now.set()  # (a trace still waiting to start: it need not)

    # ---- frames -----------------------------------------------------------------------------
    def frame(self, newer_than: int = -1, timeout: float = 0.0) -> Frame:
        """The newest frame; while playing, wait up to ``timeout`` s for one newer than ``newer_than``."""
        return self.frames(newer_than, timeout)[-1]

    def frames(self, newer_than: int = -1, timeout: float = 0.0) -> list[Frame]:
        """The frames newer than ``newer_than`` still kept (oldest first; at least the newest frame),
        waiting up to ``timeout`` s for one while playing. Asking keeps the training going."""
        with self._changed:
            self._wanted_at = time.monotonic()
            self._changed.wait_for(lambda: self._frame.serial > newer_than or not self._playing, timeout)
            return [f for f in self._recent if f.serial > newer_than] or [self._frame]

    def _run(self) -> None:
        self.prepare()
        while True:
            with self._changed:
                if not self._playing:
                    break
                if time.monotonic() - self._wanted_at > self._idle_seconds:
                    self._playing = False  # the page stopped asking: its tab is closed or hidden
                    break
            epochs = int(np.clip(self._epochs_per_second * CHUNK_SECONDS, 1, MAX_EPOCHS_PER_CHUNK))
            with self._turns, self._lock:
                started, traced = time.perf_counter(), self.net.program.traced
                self.net.train(self._x_train, self._y_train, epochs, traced=False)
                spent = time.perf_counter() - started
                if traced == self.net.program.traced:  # (not a chunk that waited for the trace)
                    self._epochs_per_second = 0.7 * self._epochs_per_second + 0.3 * epochs / max(spent, 1e-4)
                # Due once less than half a chunk remains: checked only between chunks, a plain
                # ">= FRAME_SECONDS" lands on the chunk after, up to a chunk (~13 ms) late every frame.
                if time.monotonic() - self._frame.made_at + spent / 2 >= FRAME_SECONDS:
                    frame = self._publish()
                    if frame.diverged:
                        with self._changed:
                            self._playing = False
        with self._lock, self._changed:
            if self._thread is threading.current_thread():  # (a Play meanwhile has started another)
                self._thread = None
            if self._frame.epoch != self.net.epoch or self._frame.playing:
                self._publish()  # the paused picture shows exactly the weights it stopped at
            self._changed.notify_all()

    def _publish(self) -> Frame:
        """Compute and publish a frame of the current weights (op by op while the program is not
        ready). Hold ``self._lock``."""
        net = self.net
        train_loss = net.loss(self._x_train, self._y_train, traced=False)
        test_loss = net.loss(self._x_test, self._y_test, traced=False)
        diverged = net.diverged(train_loss, test_loss)
        weights = net.weight_arrays()
        if not self.history or self.history[-1][0] != net.epoch:
            self.history = thin_history([*self.history, (net.epoch, train_loss, test_loss)])
            self.snapshots = thin_snapshots([*self.snapshots, (net.epoch, weights)])
        outputs = net.layer_outputs(self._grid, traced=False) if not diverged else []
        frame = Frame(serial=self._frame.serial + 1 if self._frame else 0, epoch=net.epoch,
                      train_loss=train_loss, test_loss=test_loss, weights=weights,
                      outputs=outputs, history=self.history, playing=self._playing and not diverged,
                      diverged=diverged)
        with self._changed:
            self._frame = frame
            self._recent.append(frame)
            self._changed.notify_all()
        return frame


def grid_inputs(features: list[str]) -> np.ndarray:
    """The network's inputs at the map's ``GRID`` × ``GRID`` points, row by row from the top."""
    return featurize(grid(GRID), features)

