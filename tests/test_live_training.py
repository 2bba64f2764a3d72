"""The Playground's background trainer: it trains while playing and only then, publishes frames of
the network's outputs on the map, and shares the machine with other players."""
import threading
import time

import numpy as np

from core.playground import PlaygroundNet, PlaygroundState, featurize, grid, make_dataset
from core.playground.live_training import GRID, LiveTrainer, Turns


def trainer(turns=None, idle_seconds=3.0, **settings) -> LiveTrainer:
    state = PlaygroundState(**settings)
    return LiveTrainer(PlaygroundNet(state), make_dataset(state), turns=turns or Turns(), idle_seconds=idle_seconds)


def play_until(live: LiveTrainer, epochs: int, limit: float = 60.0):
    """Keep asking for frames, as the page does, until ``epochs`` are trained; the frames seen."""
    frames, deadline = [live.frame()], time.monotonic() + limit
    while frames[-1].epoch < epochs and time.monotonic() < deadline:
        frames.append(live.frame(frames[-1].serial, timeout=0.2))
    return frames


def test_play_trains_in_the_background_and_pause_stops_it():
    live = trainer()
    first = live.frame()
    assert (first.epoch, first.serial, first.playing) == (0, 0, False)
    live.play()
    frames = play_until(live, 300)
    assert frames[-1].epoch >= 300
    serials = [f.serial for f in frames]
    assert serials == sorted(serials) and len(set(serials)) > 3, "new frames keep coming (none older)"
    assert any(f.playing for f in frames)
    live.pause()
    paused = live.frame()
    assert paused.epoch == live.net.epoch and not paused.playing, "the last frame shows the weights it stopped at"
    time.sleep(0.3)
    assert live.net.epoch == paused.epoch, "nothing trains after Pause"
    assert live.frame(paused.serial, timeout=0.2).serial == paused.serial, "and no new frame comes"


def test_step_trains_one_epoch_and_shows_it():
    live = trainer()
    frame = live.step()
    assert frame.epoch == 1 == live.net.epoch
    assert frame.history[-1][0] == 1


def test_a_page_that_stops_asking_stops_the_training():
    live = trainer(idle_seconds=0.5)
    live.play()
    play_until(live, 5)
    time.sleep(1.5)  # no frame asked for: the tab was closed
    assert not live.playing
    stopped_at = live.net.epoch
    time.sleep(0.3)
    assert live.net.epoch == stopped_at


class HeldAfterIdleStop:
    """The trainer's lock, except that once the trainer has stopped playing, the next taker (the
    stopped thread, on its way out) waits for ``release`` first."""

    def __init__(self, live: LiveTrainer) -> None:
        self.live, self.lock = live, live._lock
        self.waiting, self.release = threading.Event(), threading.Event()

    def __enter__(self):
        if not self.live._playing and not self.release.is_set():
            self.waiting.set()
            self.release.wait(10)
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_play_again_while_the_idle_thread_ends_keeps_pause_waiting_for_the_new_one():
    """The page came back (Play) just as the old thread stopped for lack of asking: the old thread,
    ending, must not forget the new one, or Pause would return while it still trains."""
    live = trainer(idle_seconds=0.2)
    held = HeldAfterIdleStop(live)
    live._lock = held
    live.play()
    old = live._thread
    assert held.waiting.wait(20), "the thread stops once nobody asks for frames"
    live.play()
    new = live._thread
    assert new is not old and new.is_alive()
    held.release.set()
    old.join(10)
    assert live._thread is new, "the ending thread cleared the new thread's handle"
    live.pause()
    assert not new.is_alive(), "Pause returns once the training has stopped"


def test_two_players_both_train():
    turns = Turns()
    first, second = trainer(turns), trainer(turns, weight_seed=1)
    first.play()
    second.play()
    deadline = time.monotonic() + 60
    while (first.net.epoch < 20 or second.net.epoch < 20) and time.monotonic() < deadline:
        first.frame(timeout=0.05)
        second.frame(timeout=0.05)
        time.sleep(0.02)
    first.close()
    second.close()
    assert first.net.epoch >= 20 and second.net.epoch >= 20


def test_a_frame_holds_every_layer_on_the_map_and_the_weights():
    live = trainer(hidden=[3])
    frame = live.step(5)
    hidden, output = frame.outputs
    assert hidden.shape == (GRID * GRID, 3) and output.shape == (GRID * GRID, 1)
    np.testing.assert_allclose(output, live.net.layer_outputs(featurize(grid(GRID), ["x", "y"]))[-1], atol=1e-6)
    assert [w.shape for w, _ in frame.weights] == [(2, 3), (3, 1)]
    assert frame.epoch == 5 and frame.history[-1][0] == 5


def test_a_new_network_of_a_shape_already_traced_trains_without_tracing_again():
    """Networks of one shape share their traced program: after a Reset or new data, Step need not trace."""
    first = trainer(hidden=[5, 3], weight_seed=1)
    first.step()
    first.net.prepare()  # (the Step did not wait for the trace: wait for it here)
    program = first.net.program
    traced = program.train.experimental_get_tracing_count()
    second = trainer(hidden=[5, 3], weight_seed=2, train_ratio=30, batch_size=7)
    assert second.net.program is program
    second.step(3)
    assert program.train.experimental_get_tracing_count() == traced
    assert second.net.epoch == 3


def test_step_and_play_of_a_new_shape_do_not_wait_for_its_program():
    """A new shape's first Step and first frames while playing come before its program is traced
    (trained in NumPy meanwhile); the trace starts with them, or when the page calls prepare()."""
    import threading

    gate, traces = threading.Event(), []
    live = trainer(hidden=[7, 1, 3])
    program = live.net.program
    assert not program.traced
    program.trace = lambda net: (traces.append(net), gate.wait(60))  # a trace that takes as long as we like
    try:
        started = time.monotonic()
        frame = live.step()
        assert frame.epoch == 1 and live.net.epoch == 1
        live.play()
        assert play_until(live, 20, limit=30)[-1].epoch >= 20
        live.pause()
        assert time.monotonic() - started < 30 and not program.traced and traces == [live.net]  # traced once
    finally:
        gate.set()
        del program.trace


def test_a_trace_asked_for_later_starts_then_or_at_a_step_and_never_for_a_closed_trainer():
    import threading

    traces = []
    live, other = trainer(hidden=[6, 1, 2]), trainer(hidden=[6, 1, 2], weight_seed=3)
    program = live.net.program
    program.trace = lambda net: traces.append(net)
    try:
        live.prepare(after=30)
        other.prepare(after=30)
        time.sleep(0.3)
        assert traces == []  # (not yet: the page is still being sent)
        live.step()
        other.close()
        for thread in threading.enumerate():
            if thread.name == "playground-trace":
                thread.join(10)
        assert traces == [live.net]  # at the Step; none for the closed trainer
    finally:
        del program.trace
