"""Pacing a playing session: how often it draws a frame and how many epochs it trains per frame,
so that many sessions share two cores (see benchmarks/RESULTS.md for the measurements)."""
from __future__ import annotations

import threading
import time
from typing import Sequence

import numpy as np


class Players:
    """The sessions playing the Playground right now, so that they share the machine.

    Each playing session trains and redraws several times a second, which costs a good share
    of a CPU core. In a class, many such sessions would starve everyone's predictions, so the
    page spaces its frames by the number of players (see ``frame_interval``).
    """

    def __init__(self, window: float = 2.0):
        self.window = window
        self._last_frame: dict[str, float] = {}
        self._lock = threading.Lock()

    def frame(self, player: str, now: float | None = None) -> int:
        """Note a frame of ``player``; the number of sessions with a frame in the last ``window`` s."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._last_frame[player] = now
            return self._active(now)

    def count(self, now: float | None = None) -> int:
        """The number of sessions with a frame in the last ``window`` s."""
        with self._lock:
            return self._active(time.monotonic() if now is None else now)

    def _active(self, now: float) -> int:
        """Forget the players whose frames stopped; the number left. Hold the lock."""
        for player, seen in list(self._last_frame.items()):
            if now - seen > self.window:
                del self._last_frame[player]
        return len(self._last_frame)

    def stop(self, player: str) -> None:
        with self._lock:
            self._last_frame.pop(player, None)


PLAYERS = Players()
LONGEST_FRAME_INTERVAL = 2.0  # seconds: however many play, each still sees a picture this often


def frame_interval(frame_seconds: float, players: int, shortest: float,
                   longest: float = LONGEST_FRAME_INTERVAL) -> float:
    """Seconds between a session's frames: never shorter than the frame itself takes (a new
    frame requested mid-frame would abandon it half drawn), and with several players, each
    frame followed by a rest so that all of them together keep about one core busy."""
    return float(np.clip(frame_seconds * max(1.1, players), shortest, longest))


FRAME_INTERVAL_STEPS = (0.1, 0.15, 0.22, 0.33, 0.5, 0.75, 1.1, 1.6, LONGEST_FRAME_INTERVAL)  # s; each ~1.5× the last


CALM_FRAMES = 20  # quick frames in a row before the pace comes down: 2-4 s of them


def paced_interval(current: float, recent: Sequence[float], steps: tuple[float, ...] = FRAME_INTERVAL_STEPS,
                   calm_frames: int = CALM_FRAMES) -> float:
    """The interval to use while ``current`` is in use and the latest frames asked for the
    intervals ``recent`` (oldest first; see ``frame_interval``).

    Changing the interval costs a full rerun of the page, so it moves along a ladder of steps
    about 1.5× apart: up as soon as the newest frame wants 10 % more than the current step (a
    frame must not be cut short by the next), down only once ``calm_frames`` frames in a row fit
    the step below. Quick frames among slow ones are jitter, not a change (benchmarks/RESULTS.md
    has the measurements behind the ladder)."""
    index = int(np.argmin([abs(np.log(step / current)) for step in steps]))
    calm = list(recent)[-calm_frames:]
    if recent and recent[-1] > steps[index] * 1.1:
        wanted = recent[-1]
    elif index > 0 and len(calm) == calm_frames and max(calm) <= steps[index - 1]:
        wanted = max(calm)
    else:
        return steps[index]
    return next((step for step in steps if step >= wanted), steps[-1])


FRAME_SECONDS = 0.1  # the shortest time between pictures; aim for five or more a second
TRAIN_BUDGET_SECONDS = 0.045  # training time per picture (shared out among players); the rest is drawing
MIN_EPOCHS_PER_FRAME = 10  # each call into TensorFlow has a fixed cost; never pay it for one epoch
MAX_EPOCHS_PER_FRAME = 60  # fast enough to converge in seconds, slow enough to watch
REPACE_AFTER_SECONDS = 1.0  # a new interval costs a full rerun of the page: at most one a second


class Pacer:
    """One session's pace while it plays: ``interval``, the seconds between frames of the page's
    live fragment (its ``run_every``), and ``epochs_per_frame``, what each frame trains.

    The page calls, in every full run, :meth:`full_run`; in every frame, :meth:`begin_frame`,
    :meth:`trained` after training and :meth:`end_frame` after drawing; and :meth:`restart`
    when Play or Pause is pressed. ``begin_frame`` and ``end_frame`` return True when the
    interval changed: the page must then rerun in full, where the fragment is declared.
    """

    def __init__(self, player: str, players: Players = PLAYERS, shortest: float = FRAME_SECONDS):
        self.player, self.players, self.shortest = player, players, shortest
        self.interval = shortest
        self.epochs_per_frame = MIN_EPOCHS_PER_FRAME
        self.frame_open = False  # a frame is under way (still True at the next: it was abandoned)
        self.in_full_run = True  # frames run inline in a full run say nothing about the pace
        self.paced_at = 0.0  # when the interval last changed
        self.wanted: list[float] = []  # the intervals the latest frames asked for, oldest first
        self._started, self._adapt, self._playing_now = 0.0, False, 1

    def restart(self) -> None:
        """Play or Pause was pressed: forget this session's frames; a first guess of the interval."""
        self.players.stop(self.player)
        self.interval = paced_interval(self.shortest, [self.shortest * max(1, self.players.count())])

    def full_run(self) -> None:
        """The page runs in full: no frame of the fragment is under way."""
        self.frame_open, self.in_full_run = False, True

    def begin_frame(self, playing: bool, now: float | None = None) -> bool:
        """A frame starts. True if the last one was abandoned half drawn (the browser asked for
        this one before it ended) and the interval became longer."""
        now = time.perf_counter() if now is None else now
        self._started = now
        self._adapt = playing and not self.in_full_run and now - self.paced_at > REPACE_AFTER_SECONDS
        self.in_full_run = False
        if self.frame_open and self._adapt:
            longer = paced_interval(self.interval, [self.interval * 1.4])  # the next step up
            if longer != self.interval:  # (at the longest step already, a full rerun would change nothing)
                self._pace(longer, now)
                return True
        self.frame_open = True
        self._playing_now = self.players.frame(self.player) if playing else 1
        return False

    @property
    def playing_now(self) -> int:
        """How many sessions were playing at the start of this frame (1 when not playing)."""
        return self._playing_now

    def trained(self, epochs: int, seconds: float) -> None:
        """This frame trained ``epochs`` in ``seconds`` (not counting a first call that traced the
        graph): aim the next frame's epochs at its share of the training budget."""
        rate = epochs / max(seconds, 1e-4)
        self.epochs_per_frame = int(np.clip(rate * TRAIN_BUDGET_SECONDS / self._playing_now,
                                            MIN_EPOCHS_PER_FRAME, MAX_EPOCHS_PER_FRAME))

    def end_frame(self, measured: bool, now: float | None = None) -> bool:
        """The frame is drawn. With ``measured`` (its time is typical: not the frame that traced the
        graph), its time moves the interval along the ladder; True if the interval changed."""
        now = time.perf_counter() if now is None else now
        self.frame_open = False
        if not (self._adapt and measured):
            return False
        wanted = frame_interval(now - self._started, self._playing_now, self.shortest)
        self.wanted = [*self.wanted[1 - CALM_FRAMES:], wanted]
        paced = paced_interval(self.interval, self.wanted)
        if paced == self.interval:
            return False
        self._pace(paced, now)
        return True

    def _pace(self, interval: float, now: float) -> None:
        self.interval, self.paced_at, self.frame_open = interval, now, False
        self.wanted = []  # the frames measured at the old pace say nothing about coming down from the new one
