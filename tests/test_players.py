"""Playing sessions share the machine: counted over a short window, and spaced by their number."""
import pytest

from core.playground import Players, frame_interval


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
