"""Playing sessions share the machine: counted over a short window, and spaced by their number."""
import pytest

from core.playground import (
    CALM_FRAMES, FRAME_INTERVAL_STEPS, FRAME_SECONDS, Pacer, Players, frame_interval, paced_interval,
)
from core.playground.pacing import MAX_EPOCHS_PER_FRAME, MIN_EPOCHS_PER_FRAME


def test_players_are_counted_while_their_frames_keep_coming():
    players = Players(window=2.0)
    assert players.frame("a", now=0.0) == 1
    assert players.frame("b", now=0.5) == 2
    assert players.frame("a", now=1.0) == 2
    assert players.count(now=1.0) == 2
    assert players.frame("a", now=3.0) == 1, "b drew nothing for 2.5 s: it stopped playing"
    players.stop("a")
    assert players.frame("c", now=3.1) == 1


def test_frames_are_spaced_by_their_own_length_and_the_number_of_players():
    assert frame_interval(0.02, 1, shortest=0.1) == 0.1  # quick frames: the page's own pace
    assert frame_interval(0.2, 1, shortest=0.1) == pytest.approx(0.22)  # a slow frame is never cut short by the next
    assert frame_interval(0.2, 4, shortest=0.1) == 0.8  # four players keep about one core busy together
    assert frame_interval(1.0, 10, shortest=0.1) == 2.0  # but a picture still comes every 2 s


def paced_run(series: list[float], interval: float = 0.1) -> list[float]:
    """The intervals a session moves to while its frames ask for ``series``, one after another."""
    changes, recent = [], []
    for wanted in series:
        recent.append(wanted)
        paced = paced_interval(interval, recent)
        if paced != interval:
            changes.append(paced)
            interval, recent = paced, []
    return changes


def test_the_pace_ignores_ordinary_jitter_and_follows_real_changes():
    # Frame times of two players under load, as measured: wanted intervals between 0.10 and 0.20 s.
    jitter = [0.139, 0.142, 0.101, 0.105, 0.124, 0.129, 0.165, 0.111, 0.159, 0.150, 0.102, 0.1, 0.125, 0.2]
    assert paced_run(jitter) == [0.15, 0.22], "two steps up to cover the slowest frames, then no more full reruns"
    assert paced_run(jitter * 5) == [0.15, 0.22], "the same jitter for longer changes nothing more"
    assert paced_interval(0.22, [0.16]) == 0.22  # within the band: stay
    assert paced_interval(0.22, [0.12] * (CALM_FRAMES - 1)) == 0.22  # a few quick frames may be luck
    assert paced_interval(0.22, [0.12] * CALM_FRAMES) == 0.15  # enough in a row fit the step below: down
    assert paced_interval(0.22, [0.12] * CALM_FRAMES + [0.2]) == 0.22
    assert paced_interval(0.1, [0.7]) == 0.75  # a real slow-down: straight to the step that covers it
    assert paced_interval(0.33, [0.01] * CALM_FRAMES) == 0.1  # quick again: straight down to the shortest
    assert paced_interval(2.0, [5.0]) == 2.0  # the longest step is the limit


def test_one_slow_frame_does_not_slow_a_player_for_good():
    # A single player's frames want the shortest interval (frame_interval clips them there); one
    # slow frame moves the pace up, and the quick frames after it bring it back.
    assert paced_run([0.1] * 10 + [0.14] + [0.1] * CALM_FRAMES) == [0.15, 0.1]


def test_every_step_covers_what_it_was_chosen_for():
    for wanted in [0.05, 0.1, 0.12, 0.3, 0.9, 1.7]:
        for current in FRAME_INTERVAL_STEPS:
            paced = paced_interval(current, [wanted] * CALM_FRAMES)
            assert paced >= wanted / 1.1, f"{paced} s would cut short frames that want {wanted} s"


def frame(pacer: Pacer, start: float, seconds: float, playing: bool = True) -> tuple[bool, bool]:
    """One frame of the live fragment that takes ``seconds``: (rerun asked at its start, at its end)."""
    return pacer.begin_frame(playing, now=start), pacer.end_frame(measured=True, now=start + seconds)


def test_a_pacer_follows_slow_frames_up_and_quick_ones_back_down():
    pacer = Pacer("a", players=Players())
    assert pacer.interval == FRAME_SECONDS
    pacer.full_run()
    assert frame(pacer, 10.0, 0.5) == (False, False), "a frame inline in a full run says nothing of the pace"
    assert frame(pacer, 11.0, 0.5) == (False, True) and pacer.interval == 0.75, "slow frames: a longer interval"
    assert frame(pacer, 11.5, 0.5) == (False, False), "at most one change a second (each costs a full rerun)"
    now = 13.0
    for _ in range(CALM_FRAMES - 1):
        assert frame(pacer, now, 0.01) == (False, False)
        now += 0.1
    assert frame(pacer, now, 0.01) == (False, True) and pacer.interval == FRAME_SECONDS, "quick again: back down"
    assert frame(pacer, now + 5, 5.0, playing=False) == (False, False), "paused frames change nothing"


def test_a_frame_cut_short_by_the_next_lengthens_the_interval():
    pacer = Pacer("a", players=Players())
    pacer.full_run()
    assert frame(pacer, 10.0, 0.05) == (False, False)  # inline in the full run
    assert not pacer.begin_frame(True, now=10.2)  # the fragment's own frame starts...
    assert pacer.begin_frame(True, now=11.5), "...and the next began before it ended: it was abandoned"
    assert pacer.interval == FRAME_INTERVAL_STEPS[1] and not pacer.frame_open


def test_play_guesses_the_interval_from_the_players_and_epochs_share_the_budget():
    players = Players()
    for name in ("b", "c", "d"):
        players.frame(name)
    pacer = Pacer("a", players=players)
    pacer.restart()
    assert pacer.interval >= 3 * FRAME_SECONDS
    pacer.begin_frame(True)  # four players now, this one included
    pacer.trained(epochs=10, seconds=0.001)  # 10,000 epochs/s: far more than a frame should train
    assert pacer.epochs_per_frame == MAX_EPOCHS_PER_FRAME
    pacer.trained(epochs=10, seconds=0.1)  # 100 epochs/s shared by four: the fewest a frame trains
    assert pacer.epochs_per_frame == MIN_EPOCHS_PER_FRAME
    pacer.trained(epochs=10, seconds=0.01)  # 1,000 epochs/s × 0.045 s / 4 players
    assert pacer.epochs_per_frame == 11
