"""One user's Playground: the setup, your own points, the network that trains and whether it plays.

The page keeps one :class:`PlaygroundSession` in ``st.session_state.pg_session``; every widget
acts on it in its callback, before the page runs, so a change costs one page run. No Streamlit
here: the page binds widgets to these methods, and tests drive them directly.
"""
from __future__ import annotations

import numpy as np

from core.errors import AppError
from core.playground import (
    CustomPoints, Dataset, PlaygroundNet, PlaygroundState, make_dataset, parse_points_csv,
)
from core.playground.live_training import LiveTrainer

# A new network's trace holds Python's lock for a while: started with the page run that shows the
# network, it slowed that run and the sending of its pictures (benchmarks/bench_playground_live.py,
# "+ layer while playing").
TRACE_DELAY = 0.5


class PlaygroundSession:
    """The state behind the page (``state``, ``points``) and what follows from it: ``data``,
    ``net``, ``trainer`` (None, with ``error`` saying why, when they cannot be made), ``playing``
    (Play was pressed and not Pause), ``network`` (numbers the networks: the browser draws the
    frames of the current one only) and ``redraw`` (a control changed what the page shows since it
    was last drawn)."""

    def __init__(self, state: PlaygroundState, link_notes: list[str] = ()) -> None:
        self.state = state
        self.points = CustomPoints()
        self.link_notes = list(link_notes)  # what a link held that could not be used, shown once
        self.data: Dataset | None = None
        self.net: PlaygroundNet | None = None
        self.trainer: LiveTrainer | None = None
        self.error: str | None = None
        self.playing = False
        self.network = 0
        self.redraw = False
        self.shown, self.tick = -1, 0  # the newest frame sent to the browser; the frames fragment's runs
        self.page_runs = 0  # runs of the whole page
        self.csv_problem: str | None = None  # why the last CSV file could not be read
        self.saved_as: str | None = None  # the run just saved for the Runs page
        self.build()

    @classmethod
    def from_link(cls, query: dict[str, str]) -> "PlaygroundSession":
        state, notes = PlaygroundState.from_query(query)
        return cls(state, notes)

    # ---- structure: a new network ---------------------------------------------------------
    def build(self) -> None:
        """A fresh network and data for the current state (Reset, or any change of the setup)."""
        self.close()
        self.playing, self.redraw = False, True
        self.network += 1
        self.shown = -1
        self.data = self.net = self.trainer = self.error = None
        self.state.custom_classes = self.points.num_classes
        try:
            self.data = make_dataset(self.state, (self.points.xy, self.points.labels()))
            self.net = PlaygroundNet(self.state)
            self.trainer = LiveTrainer(self.net, self.data)
        except AppError as error:
            self.error = str(error)
            if self.state.dataset == "custom":  # a map to add points on, with the ones so far
                self.data = Dataset(self.points.xy, self.points.labels(), np.zeros((0, 2)), np.zeros(0))

    # A widget's callback that brings the value the state already has is no change. Streamlit calls
    # a callback when the value a browser message carries differs from the one it kept, and it
    # forgets a page's widgets when another page is shown: a message from the Playground that
    # reaches the server after a switch to another page (a frames ask flushed just after the click
    # on the link; views/components/playground_live/player.js) makes every widget's callback fire
    # with the value it shows. Obeyed, each replaced the playing network by a new, paused one.
    def change(self, **values) -> None:
        """Set these fields of the state and start again from a new network (nothing, if the state
        has these values already)."""
        if all(getattr(self.state, name) == value for name, value in values.items()):
            return
        for name, value in values.items():
            setattr(self.state, name, value)
        self.build()

    def change_activation(self, activation: str) -> None:
        """One activation for every hidden layer (the per-layer choices are dropped)."""
        if activation != self.state.activation:
            self.change(activation=activation, layer_activations=[])

    def change_problem(self, problem: str) -> None:
        if problem == self.state.problem:
            return
        self.state.for_problem(problem)
        self.state.layer_activations = []
        self.build()

    def change_advanced(self, advanced: bool) -> None:
        if advanced == self.state.advanced:
            return
        self.state.advanced = advanced
        self.state.fit_limits()
        self.build()

    def reset(self) -> None:
        """New random weights (their seed goes into the link), epoch 0; the data stay."""
        self.state.reseed()
        self.build()

    def regenerate(self) -> None:
        """New points from the same distribution."""
        self.change(seed=self.state.seed + 1)

    # ---- changes that keep the network --------------------------------------------------------
    def set_learning_rate(self, rate: float) -> None:
        """As the playground: the weights stay, the next steps take the new rate."""
        self.state.learning_rate = rate
        if self.net is not None:
            self.net.learning_rate.assign(rate)

    def show(self, **values) -> None:
        """How the pictures look (show_test, discretize): the network trains on."""
        if all(getattr(self.state, name) == value for name, value in values.items()):
            return
        for name, value in values.items():
            setattr(self.state, name, value)
        self.redraw = True

    # ---- running -----------------------------------------------------------------------------
    def play(self) -> None:
        if self.trainer is not None:
            self.playing, self.redraw = True, True
            self.trainer.play()

    def pause(self) -> None:
        self.playing, self.redraw = False, True
        if self.trainer is not None:
            self.trainer.pause()

    def step(self) -> None:
        """One epoch, while paused."""
        if self.trainer is not None:
            self.pause()
            self.trainer.step()

    def keep_playing(self) -> None:
        """Play again after the trainer stopped because nobody asked for frames (a hidden tab)."""
        if self.playing and self.trainer is not None and not self.trainer.playing \
                and not self.trainer.frame().diverged:
            self.trainer.play()

    def stopped_by_divergence(self) -> bool:
        """Whether playing just ended because the losses stopped being numbers."""
        if self.playing and self.trainer is not None and self.trainer.frame().diverged:
            self.playing, self.redraw = False, True
            return True
        return False

    def prepare(self) -> None:
        """Get the network's program ready in the background, from ``TRACE_DELAY`` on (the page calls
        this once it has drawn the network; Step and Play need not wait for it)."""
        if self.trainer is not None:
            self.trainer.prepare(after=TRACE_DELAY)

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.close()

    # ---- your own points -------------------------------------------------------------------------
    def add_point(self, x: float, y: float, point_class: int) -> None:
        """A point of your own where the map was clicked or tapped."""
        self.points = self.points.add(x, y, point_class)
        self.build()

    def remove_points(self) -> None:
        self.points = CustomPoints()
        self.build()

    def load_points(self, csv: bytes) -> None:
        """Your points from a CSV file (a BadInput says what is wrong with it; nothing changes then)."""
        self.points = parse_points_csv(csv)
        self.build()
