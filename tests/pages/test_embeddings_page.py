"""The Embeddings page under AppTest: every kind of source, the offer to train, filtering and isolating."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np

from streamlit.testing.v1 import AppTest

import core.training.jobs
import core.embeddings.projection

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_embeddings(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/embeddings/page.py").run()
    assert not at.exception, at.exception
    return at


def choose_source(at: AppTest, value: str) -> None:
    # AppTest cannot apply the page's format_func, so the choice goes through session state.
    at.session_state["emb_source"] = value
    at.run()
    assert not at.exception, at.exception


def run(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception


def plotted(at: AppTest, key: str = "emb_plot") -> dict:
    """name -> number of points of each group of the map (not the ring around the chosen point)."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id)
    figure = json.loads(chart.proto.spec)
    return {t["name"]: count(t["x"]) for t in figure["data"] if not t["name"].startswith("chosen")}


def wait_for_progress(at: AppTest, text: str, seconds: float = 180) -> bool:
    """Rerun (as the page's fragment would) until a progress bar says `text`; False after `seconds`.

    Time-bounded rather than rerun-bounded: a rerun takes milliseconds on an idle machine and the
    projection runs in a background thread, so a fixed number of reruns can end before it does.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any(text in bar.proto.text for bar in at.get("progress")):
            return True
        time.sleep(0.2)
    return False


def count(values) -> int:
    return decoded(values).size


def decoded(values) -> np.ndarray:
    """Plotly sends NumPy arrays as typed binary ("bdata"), lists as lists."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values, dtype=float)


def test_raw_pixels_pca_filter_and_isolate(fresh_manager, monkeypatch):
    computed = []
    real_pca = core.embeddings.projection.pca
    monkeypatch.setattr(core.embeddings.projection, "pca", lambda *a, **k: computed.append(a[1:]) or real_pca(*a, **k))
    at = open_embeddings()  # PCA needs no Run: the page opens on a map (2,000 raw digits)...
    assert len(computed) == 1 and sum(plotted(at).values()) == 2000
    at.number_input(key="emb_n").set_value(600).run()  # ...and follows a change at once
    run(at)
    assert len(computed) == 2
    traces = plotted(at)
    assert sorted(traces) == [str(d) for d in range(10)] and sum(traces.values()) == 600
    at.pills(key="emb_filter_raw_10").set_value(["1", "7"]).run()
    traces = plotted(at)
    assert sorted(traces) == ["1", "7"] and 0 < sum(traces.values()) < 600
    at.pills(key="emb_filter_raw_10").set_value([str(d) for d in range(10)]).run()
    at.slider(key="emb_k").set_value(5).run()
    at.toggle(key="emb_isolate").set_value(True).run()
    assert sum(plotted(at).values()) == 6  # the chosen point and its five neighbours
    assert len(computed) == 2, "filtering, neighbours and isolating reuse the session's PCA"
    assert not at.exception


def test_untrained_network_is_offered_for_training(fresh_manager):
    at = open_embeddings()
    options = at.selectbox(key="emb_source").options
    assert "2019 dense net — not trained yet" in options
    assert "Characters of the text LSTM — not trained yet" in options
    choose_source(at, "train-digits:dense2019")
    assert any("not trained yet" in i.value for i in at.info)
    button = next(b for b in at.button if b.label.startswith("Train 2019 dense net"))
    button.click().run()
    manager = core.training.jobs.get_manager()
    job = manager.find("digits", {"arch": "dense2019"})
    assert job is not None and job.status in ("queued", "running")
    try:  # while it trains, the map over training shows the points saved so far (step 0 first)
        from core.embeddings.probes import read_probes

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and read_probes(job.run_dir) is None:
            time.sleep(0.5)
        at.run()
        live = next(c for c in at.get("plotly_chart") if "emb_ot_live" in c.proto.id)
        assert "Saved so far: " in json.loads(live.proto.spec)["layout"]["title"]["text"]
    finally:
        job.cancel()
        job.wait(60)


def test_character_embeddings_of_a_trained_lstm(fresh_manager):
    manager = core.training.jobs.get_manager()
    job = manager.request("charlstm", {"corpus": "tinyshakespeare", "steps": 5, "units": 32, "batch_size": 8,
                                       "window": 20})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    options = at.selectbox(key="emb_source").options
    assert "Characters: " + job.title in options and "Characters of the text LSTM — not trained yet" not in options
    choose_source(at, f"chars:{job.key}")
    run(at)
    traces = plotted(at)
    vocab = len(manager.load("charlstm", job.config).vocab)
    assert sum(traces.values()) == vocab
    assert "lower-case letter" in traces and "capital letter" in traces
    assert at.dataframe, "neighbours of a character are listed in a table"
    at.segmented_control(key="emb_method").set_value("t-SNE").run()
    run(at)
    assert wait_for_progress(at, "t-SNE finished"), [e.value for e in at.error]
    assert sum(plotted(at).values()) == vocab


def test_playground_last_hidden_layer(fresh_manager):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/playground/page.py").run()
    assert not at.exception, at.exception
    open_embeddings(at)
    choose_source(at, "playground")
    run(at)
    # The default network is 4-2: its last hidden layer has two numbers, so 3-D PCA says so.
    assert any("only 2 numbers" in i.value for i in at.info)
    traces = plotted(at)
    assert set(traces) == {"class −1 (orange)", "class +1 (blue)"} and sum(traces.values()) == 500


def trace_points(at: AppTest, name: str, key: str = "emb_plot") -> np.ndarray:
    """(points, dims) coordinates of the map's trace called ``name``."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id)
    trace = next(t for t in json.loads(chart.proto.spec)["data"] if t["name"] == name)
    return np.stack([decoded(trace[axis]) for axis in ("x", "y", "z") if axis in trace], axis=1)


def test_spherize_places_the_digit_drawn_on_the_draw_page(fresh_manager):
    """Issue 17: with Spherize on and a digit drawn on the Draw page, the drawing's vector is
    spherized together with the map's points (this path once raised a NameError)."""
    from core.data import load_mnist
    from core.digits.preprocess import preprocess
    from tests.pages.test_draw_page import drawn

    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 600})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    # What the Draw page leaves in session state after a stroke: the preprocessed 28×28 digit.
    at.session_state["current_digit"] = preprocess(drawn(load_mnist().x_test[0])).digit
    choose_source(at, f"digits:{job.key}")
    at.number_input(key="emb_n").set_value(300).run()
    at.toggle(key="emb_sphere").set_value(True).run()
    run(at)
    assert any("Your drawing" in c.value for c in at.caption)
    mine = trace_points(at, "your drawing")
    points = np.concatenate([trace_points(at, str(d)) for d in range(10)])
    assert mine.shape == (1, 3) and len(points) == 300
    # Spherized vectors have length 1, so every PCA coordinate, the drawing's too, lies in [-1, 1].
    assert np.abs(points).max() <= 1 + 1e-6 and np.abs(mine).max() <= 1 + 1e-6
    at.toggle(key="emb_sphere").set_value(False).run()
    run(at)
    assert np.abs(trace_points(at, "your drawing")).max() > 1, "raw activations are not on the unit sphere"


def animation(at: AppTest, key: str = "emb_ot_plot") -> dict:
    """The figure of the chart whose key contains ``key`` (the over-training map by default)."""
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id)
    return json.loads(chart.proto.spec)


def test_a_network_on_26_letters_uses_its_own_classes(fresh_manager, monkeypatch):
    """Issue 29: a network trained on EMNIST letters (a small 26-class set made in the test) shows
    letters, not digits, everywhere on the page: legend, filter, hover, predictions, neighbours."""
    from tests.small_datasets import use_small_letters

    data = use_small_letters(monkeypatch)
    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "dataset": "emnist_letters", "epochs": 1})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    choose_source(at, f"digits:{job.key}")
    letters = [chr(ord("a") + i) for i in range(26)]
    assert at.pills(key="emb_filter_digits_26").options == letters
    figure = json.loads(next(c for c in at.get("plotly_chart") if "emb_plot" in c.proto.id).proto.spec)
    shown = {t["name"] for t in figure["data"] if not t["name"].startswith("chosen")}
    assert shown <= set(letters) and "z" in shown
    assert sum(plotted(at).values()) == 2000
    texts = [text for t in figure["data"] if not t["name"].startswith("chosen") for text in t["text"]]
    assert all(text.split(" · ")[1] in letters for text in texts)
    assert any(text.endswith("predicted z") for text in texts)  # past index 9, where digits end
    assert len({t["marker"]["color"] for t in figure["data"] if t["name"] in letters}) == len(shown)
    at.radio(key="emb_colour").set_value("right / wrong").run()
    assert set(plotted(at)) <= {"right", "wrong"}
    at.segmented_control(key="emb_view").set_value("Over training").run()
    figure = animation(at)
    assert {t["name"] for t in figure["data"]} <= set(letters)
    assert len(data.y_test) == 400 and sum(count(t["x"]) for t in figure["data"]) == 400


def test_a_fine_tuned_network_is_offered_beside_its_base(fresh_manager):
    """Issue 31: "... + your handwriting" (a stored digits_finetune entry) is in the list right after
    its base and maps like any network; fine-tuning saves no probes, so it has no over-training view."""
    from core.digits.finetune import KIND  # saves the model alone, as a real fine-tuning does (no probes)

    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 300})
    assert job.wait(300) and job.status == "done", job.error
    tuned_key = "f" * 16
    manager.store.put(tuned_key, job.model(), {
        "kind": "digits_finetune", "title": "2019 dense net + your handwriting",
        "config": {"base": job.key, "resume": job.key, "arch": "dense2019", "drawings": "d" * 16, "replay": True,
                   "seed": 0},
        "class_names": [str(d) for d in range(10)]}, KIND.save)
    at = open_embeddings()
    options = at.selectbox(key="emb_source").options
    assert options.index("2019 dense net + your handwriting") == options.index(job.title) + 1
    choose_source(at, f"digits:{tuned_key}")
    assert sum(plotted(at).values()) == 2000
    assert "emb_method" in [w.key for w in at.segmented_control]
    assert "emb_view" not in [w.key for w in at.segmented_control]


def test_the_projectors_search_rings_what_it_finds(fresh_manager):
    """Issue 30 #11: search by label (or name, or prediction), as text or a regular expression; what it
    finds is ringed on the map and becomes the selection; a broken expression is said, not raised."""
    from core.data import load_mnist

    at = open_embeddings()
    at.text_input(key="emb_search").set_value("7").run()
    sevens = int((load_mnist().y_test[:2000] == 7).sum())
    assert any(c.value == f"{sevens:,} of 2,000 points match." for c in at.caption)
    assert plotted(at).get(f"found: {sevens:,}") == sevens
    at.toggle(key="emb_search_regex").set_value(True).run()
    at.text_input(key="emb_search").set_value("^[0-3]$").run()
    low = int((load_mnist().y_test[:2000] <= 3).sum())
    assert plotted(at).get(f"found: {low:,}") == low
    at.toggle(key="emb_isolate").set_value(True).run()
    shown = plotted(at)
    assert set(shown) == {"0", "1", "2", "3", f"found: {low:,}"} and sum(shown[d] for d in "0123") == low
    at.radio(key="emb_search_by").set_value("name").run()
    at.text_input(key="emb_search").set_value("^#1[0-9]$").run()
    assert plotted(at).get("found: 10") == 10
    at.text_input(key="emb_search").set_value("(").run()
    assert any("is not a regular expression" in e.value for e in at.error) and not at.exception


def test_what_you_look_at_survives_a_page_switch(fresh_manager):
    """Issue 30 #3 on Embeddings: the chosen vectors, method, 3-D and the over-training view come back
    after a visit to another page."""
    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 300})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    choose_source(at, f"digits:{job.key}")
    at.toggle(key="emb_3d").set_value(False).run()
    at.segmented_control(key="emb_method").set_value("UMAP").run()
    at.segmented_control(key="emb_view").set_value("Over training").run()
    at.toggle(key="emb_ot_3d").set_value(True).run()
    at.switch_page("views/draw/page.py").run()
    assert not at.exception, at.exception
    open_embeddings(at)
    assert at.selectbox(key="emb_source").value == f"digits:{job.key}"
    assert at.segmented_control(key="emb_view").value == "Over training"
    assert at.toggle(key="emb_ot_3d").value is True
    assert animation(at)["data"][0]["type"] == "scatter3d"
    at.segmented_control(key="emb_view").set_value("Trained network").run()
    assert at.segmented_control(key="emb_method").value == "UMAP" and at.toggle(key="emb_3d").value is False


def test_the_projector_bundle_says_why_it_is_not_offered_for_many_points(fresh_manager):
    """Issue 30 #10: above the bundle's size limit its button gives way to a sentence saying why and
    how many points it is offered for; below it, the button is there."""
    from views.embeddings.point import MAX_BUNDLE_NUMBERS

    at = open_embeddings()  # 2,000 raw digits × 784 numbers: within the limit
    assert any(b.label == "Prepare a TensorBoard projector bundle" for b in at.button)
    at.number_input(key="emb_n").set_value(20_000).run()
    assert not at.exception, at.exception
    assert not any(b.label == "Prepare a TensorBoard projector bundle" for b in at.button)
    said = next(c.value for c in at.caption if c.value.startswith("No projector bundle"))
    assert "20,000 points × 784 numbers" in said and f"{MAX_BUNDLE_NUMBERS // 784:,} of these points" in said
    assert any(b.label == "Coordinates (CSV)" for b in at.get("download_button"))


def test_a_wide_layer_gets_fewer_points_so_a_map_cannot_hold_a_gigabyte(fresh_manager):
    """A convolution map has thousands of numbers per image (the Fast CNN's conv1: 3,456): its map
    stops at MAX_LAYER_NUMBERS numbers, and the page says why. The default dense layer keeps 10,000."""
    from core.embeddings.sources import MAX_LAYER_NUMBERS, max_layer_points

    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "fast_cnn", "epochs": 1, "train_limit": 300})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    choose_source(at, f"digits:{job.key}")
    assert at.number_input(key="emb_n").max == 10_000
    assert not any("numbers per image" in c.value for c in at.caption)
    layer = next(s for s in at.selectbox if s.key and s.key.startswith("emb_layer_"))
    layer.set_value("conv1").run()
    assert not at.exception, at.exception
    limit = max_layer_points(3_456)
    assert limit == MAX_LAYER_NUMBERS // 3_456 < 10_000
    assert at.number_input(key="emb_n").max == limit
    assert any("3,456 numbers per image" in c.value and f"{limit:,} points" in c.value for c in at.caption)
    at.number_input(key="emb_n").set_value(limit).run()
    run(at)
    assert sum(plotted(at).values()) == limit


def test_the_layer_limit_keeps_dense_layers_whole_and_convolution_maps_small():
    from core.embeddings.sources import MIN_POINTS, max_layer_points

    assert max_layer_points(1_024) == 10_000  # the widest dense layer (the 2017 stream CNN's)
    assert max_layer_points(25_088) == 408  # its first convolution: 408 × 25,088 × 4 bytes ≈ 41 MB
    assert max_layer_points(10_000_000) == MIN_POINTS
