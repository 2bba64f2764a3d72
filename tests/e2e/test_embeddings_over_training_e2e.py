"""Embeddings' map over training in a real browser (issue 33 §2): Play moves the points in 2-D and 3-D;
a training started on the page shows the points it has saved so far; a network stored without probes
says so and trains again; the LSTM's characters; nothing covers a map's title (issue 30 #9)."""
from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import open_page, screenshot, wait_until_idle
from tests.e2e.test_phone_e2e import PHONE, overflow, whole_page_screenshot
from tools.browser import settled, steady

ANIMATION = ".st-key-emb_ot_plot .js-plotly-plot"
PLAYED_JS = f"""() => {{ const gd = document.querySelector('{ANIMATION}');
  if (!gd || !gd._fullLayout || !gd._fullLayout.sliders) return null;
  const slider = gd._fullLayout.sliders[0];
  return {{active: slider.active, last: slider.steps.length - 1, type: gd.data[0].type,
          frames: gd._transitionData._frames.length,
          x: Array.from(gd.data[0].x._inputArray || gd.data[0].x).slice(0, 20)}}; }}"""


def play_to_the_end(page, name: str) -> None:
    """Screenshot the first saved point, press Play, wait for the last point, screenshot it, and check
    that the points moved."""
    page.wait_for_function(f"() => {{ const s = ({PLAYED_JS})(); return s && s.frames > 11; }}", timeout=60_000)
    first = page.evaluate(PLAYED_JS)
    assert first["active"] == 0 and first["frames"] == 11 + 4 * 10
    screenshot(page, f"{name}-first")
    page.locator(ANIMATION).get_by_text("Play").click()
    page.wait_for_function(f"() => {{ const s = ({PLAYED_JS})(); return s.active === s.last; }}", timeout=60_000)
    assert steady(page, f"JSON.stringify(({PLAYED_JS})())"), "the last frame's points came to rest"
    last = page.evaluate(PLAYED_JS)
    assert last["x"] != first["x"], "Play moved the points"
    screenshot(page, f"{name}-last")
    assert covered(page) == []


def test_the_map_over_training_plays_in_2d_and_3d(page):
    """Issue 33: train a small Fast CNN on Draw, open its map over training on Embeddings, Play moves
    the points from step 0 to the trained network, in 2-D and 3-D."""
    page.set_default_timeout(60_000)
    open_page(page, "draw?limit=3000", wait_for_text="Networks")
    page.get_by_role("button", name="Train Fast CNN").click()
    page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.wait_for(timeout=300_000)
    open_page(page, "embeddings", wait_for_text="Vectors from")
    choose_source(page, "Fast CNN (1 epoch, 3000 images)")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Over training", exact=True).click()
    wait_until_idle(page, timeout=60)
    # The script has ended; Plotly draws the animation (51 frames of 700 points) a moment later.
    page.wait_for_function(f"() => ({PLAYED_JS})() !== null", timeout=60_000)
    assert page.evaluate(PLAYED_JS)["type"] == "scattergl"
    assert page.get_by_text("Separation over training").count() >= 1
    play_to_the_end(page, "embeddings-over-training-2d")
    page.get_by_text("3-D", exact=True).click()
    wait_until_idle(page, timeout=60)
    page.wait_for_function(f"() => {{ const s = ({PLAYED_JS})(); return s && s.type === 'scatter3d'; }}")
    play_to_the_end(page, "embeddings-over-training-3d")
    # At a phone's width the view fits the screen (the colour key under the map, not beside it).
    page.set_viewport_size(PHONE)
    settled(page)
    whole_page_screenshot(page, "phone-embeddings-over-training-whole")
    assert overflow(page) <= 2, f"the over-training view is wider than a phone by {overflow(page)} px"
    assert covered(page) == []


# Plotly's toolbar, the colour key, Play / Pause and the slider must not lie over a chart's title, and the
# key not over the buttons or the slider (issue 30 #9). Box against box, hidden toolbars included (a
# phone always shows them).
COVERED_JS = """() => { const found = [];
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect(); return r.width && r.height ? r : null; };
  const meet = (a, b) => a && b && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
    const title = box(gd.querySelector('.gtitle'));
    const name = title ? gd.querySelector('.gtitle').textContent : `chart ${i}`;
    const parts = {toolbar: box(gd.querySelector('.modebar')), key: box(gd.querySelector('.legend')),
                   buttons: box(gd.querySelector('.updatemenu-container')),
                   slider: box(gd.querySelector('.slider-container'))};
    for (const [what, r] of Object.entries(parts)) if (meet(title, r)) found.push(`the ${what} covers "${name}"`);
    for (const what of ['buttons', 'slider']) if (meet(parts.key, parts[what])) found.push(`the key meets the ${what} of "${name}"`);
  });
  return found; }"""


def covered(page) -> list[str]:
    return page.evaluate(COVERED_JS)


LIVE_TITLES_JS = """() => [...document.querySelectorAll('[class*="st-key-emb_ot_live"] .js-plotly-plot')]
  .map(gd => gd.layout && gd.layout.title ? gd.layout.title.text : '')"""


def choose_source(page, title: str) -> None:
    page.get_by_role("combobox", name="Vectors from").click()
    page.get_by_role("option", name=title, exact=True).click()
    wait_until_idle(page)


def saved_so_far(page) -> int:
    """How many points the live map of a running training shows (0 before the first)."""
    for title in page.evaluate(LIVE_TITLES_JS):
        match = re.search(r"Saved so far: (\d+) of", title)
        if match:
            return int(match.group(1))
    return 0


def test_a_training_started_here_shows_the_points_saved_so_far(page, server_store):
    """Issue 33, bad input: a run still training shows the points it has saved so far, more as it goes."""
    # Draw's e2e trains this network on the same server: start where none of it is stored.
    for entry in server_store.store.entries(kind="digits"):
        if entry.config.get("arch") == "dense2019":
            server_store.store.delete(entry.key)
    open_page(page, "embeddings", wait_for_text="Vectors from")
    choose_source(page, "2019 dense net — not trained yet")
    page.get_by_role("button", name=re.compile(r"^Train 2019 dense net")).click()
    page.wait_for_function(f"() => ({LIVE_TITLES_JS})().some(t => /Saved so far: [1-9]/.test(t))", timeout=180_000)
    first = saved_so_far(page)
    assert page.get_by_text("Cancel training").count() == 1  # its progress beside the points
    screenshot(page, "embeddings-over-training-while-training")
    page.wait_for_function(f"(n) => ({LIVE_TITLES_JS})().some(t => (t.match(/Saved so far: (\\d+)/) || [])[1] > n)",
                           arg=first, timeout=180_000)
    assert saved_so_far(page) > first >= 1
    page.get_by_role("button", name="Cancel training").click()
    page.get_by_text("cancelled", exact=False).first.wait_for(timeout=60_000)


@pytest.fixture
def server_store(app_server, monkeypatch):
    """A job manager on the e2e server's own store: what it trains, the server lists."""
    from core.training.jobs import JobManager
    from core.training.store import ModelStore

    monkeypatch.setenv("DLP_CACHE_DIR", str(app_server.cache))
    monkeypatch.setenv("DLP_BUNDLED", "0")
    return JobManager(ModelStore())


def test_a_network_without_probes_says_so_and_trains_again(page, server_store):
    """Issue 33, bad input: an older store entry (no probes) says so and offers to train again; the
    training again shows its progress, then its map over training plays."""
    job = server_store.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 640})
    assert job.wait(300) and job.status == "done", job.error
    (job.entry.path / "probes.npz").unlink()  # as stored before trainings saved probes
    record = json.loads((job.entry.path / "record.json").read_text())
    del record["files"]["probes.npz"], record["probes"]
    (job.entry.path / "record.json").write_text(json.dumps(record))

    open_page(page, "embeddings", wait_for_text="Vectors from")
    choose_source(page, job.title)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Over training", exact=True).click()
    page.get_by_text("was trained before trainings saved their probes").wait_for()
    screenshot(page, "embeddings-over-training-no-probes")
    page.get_by_role("button", name="Train again, saving probes").click()
    play_to_the_end(page, "embeddings-over-training-trained-again")
    assert page.get_by_text("was trained before trainings saved their probes").count() == 0


def test_the_character_map_shows_every_class_chip_and_name(page, server_store):
    """Issue 30 #10: the character map's label chips are whole (not clipped), on a desktop and a phone,
    and each of its few points carries its character."""
    job = server_store.request("charlstm", {"corpus": "tinyshakespeare", "steps": 5, "units": 32, "batch_size": 8,
                                            "window": 20})
    assert job.wait(300) and job.status == "done", job.error
    open_page(page, "embeddings", wait_for_text="Vectors from")
    choose_source(page, "Characters: " + job.title)
    page.get_by_role("button", name="Run").click()
    page.locator(".st-key-emb_map3d .js-plotly-plot").wait_for(timeout=60_000)
    wait_until_idle(page)
    for width in ("desktop", "phone"):
        if width == "phone":
            page.set_viewport_size(PHONE)
            settled(page)
        chips = page.locator('[data-testid="stButtonGroup"]').filter(has_text="lower-case letter")
        clipped = chips.evaluate("""group => [...group.querySelectorAll('button')].filter(b =>
            b.scrollWidth > b.clientWidth + 1 || b.getBoundingClientRect().right > group.closest(
            '[data-testid="stColumn"], [data-testid="stVerticalBlock"]').getBoundingClientRect().right + 1)
            .map(b => b.innerText)""")
        assert clipped == [], f"clipped label chips at {width} width: {clipped}"
        assert covered(page) == []
        if width == "phone":
            whole_page_screenshot(page, "phone-embeddings-characters-whole")
            assert overflow(page) <= 2
        else:
            screenshot(page, "embeddings-characters")
    names = page.evaluate("""() => document.querySelector('.st-key-emb_map3d .js-plotly-plot').data
        .filter(t => !t.name.startsWith('chosen')).flatMap(t => Array.from(t.text || []))""")
    assert "space" in names and "e" in names


def test_the_lstm_characters_play_over_training(page, server_store):
    """Issue 33 §2: the character LSTM's characters over training, from a real (tiny) training."""
    job = server_store.request("charlstm", {"corpus": "tinyshakespeare", "steps": 20, "units": 32, "batch_size": 8,
                                            "window": 20})
    assert job.wait(300) and job.status == "done", job.error
    open_page(page, "embeddings", wait_for_text="Vectors from")
    choose_source(page, "Characters: " + job.title)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Over training", exact=True).click()
    wait_until_idle(page, timeout=60)
    play_to_the_end(page, "embeddings-over-training-characters")
