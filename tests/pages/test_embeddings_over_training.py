"""Embeddings' "over training" view under AppTest (issue 33 §2): the saved points played as one
animation, the separation curve, a network stored without probes, the LSTM's characters."""
from __future__ import annotations

import json

import numpy as np

import core.training.jobs
from tests.pages.test_embeddings_page import animation, choose_source, count, decoded, open_embeddings, wait_for_progress

def test_the_map_over_training_plays_the_saved_points(fresh_manager):
    """Issue 33 §2: a network trained with probes shows its map at every saved point, as frames of
    one animation (step 0 first), with the separation curve beside it."""
    from core.embeddings.probes import read_probes
    from core.training.runs import LogSchedule

    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 640, "batch_size": 32})
    assert job.wait(300) and job.status == "done", job.error
    at = open_embeddings()
    choose_source(at, f"digits:{job.key}")
    at.segmented_control(key="emb_view").set_value("Over training").run()
    assert not at.exception, at.exception
    figure = animation(at)
    steps = [str(s) for s in LogSchedule(20).histogram_steps()]
    key_frames = [f["name"] for f in figure["frames"] if "+" not in f["name"]]
    assert key_frames == steps and steps[0] == "0"
    assert len(figure["frames"]) == len(steps) + 4 * (len(steps) - 1)  # four in-between frames per interval
    assert [s["label"] for s in figure["layout"]["sliders"][0]["steps"]] == [f"{int(s):,}" for s in steps]
    assert sorted(t["name"] for t in figure["data"]) == [str(d) for d in range(10)]
    assert sum(count(t["x"]) for t in figure["data"]) == 700
    # The first frame is step 0's layout, the last the trained network's: the points moved.
    first, last = figure["frames"][0]["data"][0], figure["frames"][-1]["data"][0]
    assert not np.allclose(decoded(first["x"]), decoded(last["x"]))
    curve = animation(at, "emb_ot_curve")
    separation = decoded(curve["data"][0]["y"])
    accuracy = decoded(curve["data"][1]["y"])
    stored = read_probes(job.entry.path).sets["images"]
    assert len(separation) == len(steps) and np.allclose(accuracy, stored.accuracy)
    assert any("turned (a rotation or a mirror)" in c.value for c in at.caption)
    # 3-D, right / wrong at each point, and t-SNE started from the previous point's layout.
    at.toggle(key="emb_ot_3d").set_value(True).run()
    assert animation(at)["data"][0]["type"] == "scatter3d"
    at.radio(key="emb_ot_colour_images").set_value("prediction").run()
    assert not at.exception, at.exception
    figure = animation(at)  # one trace whose colours change per frame, a key entry per class
    assert [t["name"] for t in figure["data"]] == ["probes"] + [str(d) for d in range(10)]
    predicted = [f["data"][0]["marker"]["color"] for f in figure["frames"] if "+" not in f["name"]]
    assert len(predicted) == len(steps) and predicted[0] != predicted[-1]
    at.radio(key="emb_ot_colour_images").set_value("right / wrong").run()
    figure = animation(at)
    assert [t["name"] for t in figure["data"]] == ["probes", "right", "wrong"]
    colours = [set(f["data"][0]["marker"]["color"]) for f in figure["frames"] if "+" not in f["name"]]
    assert colours[0] != colours[-1] or len(colours[0]) == 2
    at.toggle(key="emb_ot_3d").set_value(False).run()
    at.segmented_control(key="emb_ot_method").set_value("t-SNE").run()
    try:  # the chain runs in the background, point after point (tests/test_over_training.py waits for one)
        assert wait_for_progress(at, "points laid out", 60)
    finally:
        from core.embeddings.over_training import cancel_chains

        cancel_chains()


def test_a_network_without_probes_says_so_and_offers_to_train_again(fresh_manager):
    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 300})
    assert job.wait(300) and job.status == "done", job.error
    # As an entry stored before trainings saved probes: no probes.npz, no word of it in the record.
    (job.entry.path / "probes.npz").unlink()
    record_path = job.entry.path / "record.json"
    record = json.loads(record_path.read_text())
    del record["files"]["probes.npz"], record["probes"]
    record_path.write_text(json.dumps(record))
    at = open_embeddings()
    choose_source(at, f"digits:{job.key}")
    at.segmented_control(key="emb_view").set_value("Over training").run()
    said = next(i.value for i in at.info if "before trainings saved their probes" in i.value)
    assert "first 700 test images" in said and f"It took about {record['duration_s']:.0f} s the first time" in said
    assert not at.get("plotly_chart")
    next(b for b in at.button if b.label == "Train again, saving probes").click().run()
    again = manager.find("digits", job.config)
    assert again is not None and again.status in ("queued", "running", "done")
    assert again.wait(300) and again.status == "done", again.error
    at.run()  # the network trained again has its probes: the view plays them
    assert not at.exception and not any("before trainings saved" in i.value for i in at.info)
    assert [f["name"] for f in animation(at)["frames"]][0] == "0"


def test_the_lstm_characters_over_training(fresh_manager):
    """The character LSTM's two probe sets, as its training records them (core/text/char_probes.py: its
    characters' embeddings; its hidden state over a fixed held-out passage, right or wrong about the next
    character), play on the page: each set and layer is offered, the characters carry their names as
    they move, and the passage's curve is the accuracy the training recorded."""
    from core.embeddings.points import CHARACTER_CLASSES
    from core.embeddings.probes import read_probes

    manager = core.training.jobs.get_manager()
    job = manager.request("charlstm", {"corpus": "tinyshakespeare", "steps": 20, "units": 32, "batch_size": 8,
                                       "window": 20})
    assert job.wait(300) and job.status == "done", job.error
    stored = read_probes(job.entry.path)
    assert stored is not None and stored.steps[0] == 0 and len(stored.steps) == 11
    characters, passage = stored.sets["characters"], stored.sets["passage"]
    width = characters.layers["embedding"].shape[2]

    at = open_embeddings()
    choose_source(at, f"chars:{job.key}")
    at.segmented_control(key="emb_view").set_value("Over training").run()
    assert not at.exception, at.exception
    layers = at.selectbox(key=f"emb_ot_layer_chars:{job.key}").options
    assert layers == [f"{characters.title}: embedding ({width} numbers)", f"{passage.title}: hidden (32 numbers)"]
    figure = animation(at)
    assert {t["name"] for t in figure["data"]} <= set(CHARACTER_CLASSES)
    assert sum(count(t["x"]) for t in figure["data"]) == len(characters)
    shown = [name for t in figure["data"] for name in t["text"]]  # names ride along with their points
    assert sorted(shown) == sorted(characters.names) and all(t["mode"] == "markers+text" for t in figure["data"])
    assert at.radio(key="emb_ot_colour_characters").options == ["label"]  # no prediction per character
    curve = animation(at, "emb_ot_curve")
    assert [t["name"] for t in curve["data"]] == ["classes apart (embedding)"]  # nothing is right or wrong here
    at.selectbox(key=f"emb_ot_layer_chars:{job.key}").set_value(layers[1]).run()
    assert at.radio(key="emb_ot_colour_passage").options == ["label", "right / wrong at that point"]
    at.radio(key="emb_ot_colour_passage").set_value("right / wrong").run()
    figure = animation(at)
    assert [t["name"] for t in figure["data"]] == ["probes", "right", "wrong"]
    curve = animation(at, "emb_ot_curve")
    accuracy = decoded(curve["data"][1]["y"])
    assert np.allclose(accuracy, passage.accuracy) and len(accuracy) == 11


