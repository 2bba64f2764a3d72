"""The Draw page under AppTest: training from the page, a drawing read live, bad input explained.

The canvas is a browser component AppTest cannot draw on, so these tests hand the page a
canvas result holding a real MNIST digit (the e2e test draws with a real mouse).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import core.training.jobs
from core.data import load_mnist

APP = str(Path(__file__).resolve().parents[2] / "app.py")
# A small, quick network: the MLP from the 2019 talk on 6000 images.
SETTINGS = {"dense2019": {"epochs": 2, "train_limit": 6000}}


@pytest.fixture
def canvas(monkeypatch):
    """What the canvas last sent: set ``canvas.image`` to an RGBA array (or None) before a run.

    AppTest runs no JavaScript, so a stand-in takes the component's place and hands the page each
    new image as a pen-up picture (``canvas.live = True``: as a picture sent while the pen moves);
    the component's own decoding is tested in tests/test_digit_canvas.py and its drawing in the
    e2e tests."""
    from views.draw.canvas import Frame

    class Canvas:
        image = None
        live = False
        keys: list[str] = []
        instances: list[int] = []
        answered: list[int] = []
        frames = 0
        _last = None

        def __call__(self, *, stroke_width, key, instance, size=280, live=True, answered=0, restore=None,
                     settle=False):
            self.keys.append(key)
            self.instances.append(instance)
            self.answered.append(answered)

        def current(self):
            if self.image is None:
                return None
            if self._last is None or self._last[0] is not self.image:
                self.frames += 1
                self._last = (self.image, Frame(self.image, self.frames, not self.live, "data:image/png;base64,"))
            return self._last[1]

        def forget(self):
            self.image = None

    fake = Canvas()
    monkeypatch.setattr("views.draw.canvas.digit_canvas", fake)
    monkeypatch.setattr("views.draw.canvas.current_frame", fake.current)
    monkeypatch.setattr("views.draw.canvas.forget_frame", fake.forget)
    return fake


def drawn(digit: np.ndarray, box=(60, 60, 220, 220)) -> np.ndarray:
    """An MNIST digit as the canvas would send it: white strokes on black, RGBA, 280×280."""
    left, top, right, bottom = box
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    patch = np.asarray(Image.fromarray(digit).resize((right - left, bottom - top), Image.BILINEAR))
    rgba[top:bottom, left:right, :3] = patch[..., None]
    return rgba


def open_draw(settings=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["draw_settings"] = settings if settings is not None else SETTINGS
    at.run()
    at.switch_page("views/draw/page.py").run()
    assert not at.exception, at.exception
    return at


def prediction(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Prediction")


def trained_page(canvas) -> AppTest:
    at = open_draw()
    at.multiselect[0].set_value(["dense2019"]).run()
    train = [b for b in at.button if b.label == "Train 2019 dense net"]
    assert train, "an untrained network offers a Train button"
    train[0].click().run()
    job = core.training.jobs.get_manager().find("digits", {"arch": "dense2019", **SETTINGS["dense2019"]})
    assert job is not None and job.wait(300) and job.status == "done", job and job.error
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_opens_on_the_fast_cnn_and_offers_to_train_it(canvas, fresh_manager):
    at = open_draw(settings={})
    assert at.title[0].value == "Draw"
    assert at.multiselect[0].value == ["fast_cnn"]
    assert any(b.label == "Train Fast CNN" for b in at.button)
    assert at.session_state["current_digit"] is None
    # How long it takes is quoted from a measurement: the ready-made copy's, timed where it was built.
    from core.training.bundled import read_manifest
    from views.training_widget import format_seconds

    seconds = read_manifest()["defaults"]["fast_cnn"]["record"]["duration_s"]
    note = " ".join(i.value for i in at.info)
    assert f"took {format_seconds(seconds)} on the machine that built the app's ready-made models" in note, note


def test_trained_network_reads_a_drawing_and_an_empty_canvas_gets_a_prompt(canvas, fresh_manager):
    at = trained_page(canvas)
    assert prediction(at) == "–"
    assert any("Draw a digit" in i.value for i in at.info)

    mnist = load_mnist()
    canvas.image = drawn(mnist.x_test[0], box=(150, 170, 250, 270))  # a 7, small, bottom right
    at.run()
    assert not at.exception, at.exception
    assert prediction(at) == str(mnist.y_test[0])
    digit = at.session_state["current_digit"]
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and 0 <= digit.min() <= digit.max() <= 1
    ys, xs = np.indices(digit.shape)
    assert abs((ys * digit).sum() / digit.sum() - 14) < 1 and abs((xs * digit).sum() / digit.sum() - 14) < 1
    assert any("confidence" in c.value for c in at.caption)


def test_clear_mounts_a_fresh_canvas_and_forgets_the_digit(canvas, fresh_manager):
    at = open_draw()
    canvas.image = drawn(load_mnist().x_test[1])
    at.run()
    assert at.session_state["current_digit"] is not None
    before, instance = canvas.keys[-1], canvas.instances[-1]
    canvas.image = None  # what the new, empty canvas sends
    next(b for b in at.button if b.label == "Clear").click().run()
    assert canvas.keys[-1] != before and canvas.instances[-1] == instance + 1
    assert at.session_state["current_digit"] is None
    assert not at.exception


def test_clearing_again_and_again_takes_two_canvas_keys_in_turn(canvas, fresh_manager):
    """Each Clear mounts a new canvas, but with one of two keys: Streamlit never forgets a widget's
    metadata, so a key per Clear would grow the session with every digit drawn."""
    at = open_draw()
    for _ in range(5):
        before = canvas.keys[-1]
        next(b for b in at.button if b.label == "Clear").click().run()
        assert canvas.keys[-1] != before
    assert len(set(canvas.keys)) == 2
    assert not at.exception


@pytest.mark.parametrize("name,image,words", [
    ("painted full", np.full((280, 280, 4), 255, np.uint8), "flat colour"),
    ("transparent", np.zeros((280, 280, 4), np.uint8), "Draw a digit"),
])
def test_bad_canvases_get_a_message_not_a_traceback(canvas, fresh_manager, name, image, words):
    at = trained_page(canvas)
    canvas.image = image
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in list(at.info) + list(at.warning) + list(at.error))
    assert words in shown, shown
    assert prediction(at) == "–"


def test_uploads_are_read_and_non_images_explained(canvas, fresh_manager):
    at = trained_page(canvas)
    mnist = load_mnist()
    paper = io.BytesIO()
    photo = Image.new("RGB", (640, 480), (235, 230, 220))  # dark ink on off-white paper
    ink = Image.fromarray(255 - mnist.x_test[0]).resize((300, 300)).convert("RGB")
    photo.paste(ink, (260, 120), mask=Image.fromarray(mnist.x_test[0]).resize((300, 300)))
    photo.save(paper, format="JPEG")
    at.file_uploader[0].set_value(("digit.jpg", paper.getvalue(), "image/jpeg")).run()
    assert not at.exception, at.exception
    assert prediction(at) == str(mnist.y_test[0])

    at.file_uploader[0].set_value(("notes.txt", b"not a picture at all", "text/plain")).run()
    assert not at.exception, at.exception
    assert any("not an image" in e.value for e in at.error)


def test_look_inside_and_training_sections_show_their_parts(canvas, fresh_manager):
    at = trained_page(canvas)
    canvas.image = drawn(load_mnist().x_test[2])
    at.run()
    at.button_group(key="draw_section").set_value("A look inside").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Saliency**" in text and "**First-layer weights**" in text
    assert "Feature maps" not in text  # a dense net has none
    assert len(at.get("plotly_chart")) >= 3  # three dense layers' activations

    at.button_group(key="draw_section").set_value("Training").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%") and float(metrics["Test accuracy"][:-1]) > 80
    assert any("Misclassified test images" in m.value for m in at.markdown)
    assert [n.value for n in at.number_input] == [2]  # the epochs it was trained with


def test_a_bundled_model_says_so_and_offers_to_train_it_yourself(canvas, fresh_manager):
    """A model installed with the app has "bundled" in its record.json (faked here on a quick model)."""
    manager = core.training.jobs.get_manager()
    job = manager.request("digits", {"arch": "dense2019", **SETTINGS["dense2019"]})
    assert job.wait(300) and job.status == "done", job.error
    manager.store.update_record(job.key, bundled={"test_accuracy": 0.9871, "note": "Trained for the app."})
    at = open_draw()
    at.multiselect[0].set_value(["dense2019"]).run()
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Bundled model (test accuracy 98.7 %) — train it yourself (building it took ")
               for c in captions), captions
    assert prediction(at) == "–", "the bundled model reads drawings like any other"
    at.button_group(key="draw_section").set_value("Training").run()
    assert any(m.label == "Training time (build machine)" for m in at.metric)
    next(b for b in at.button if b.label == "Train it yourself").click().run()
    assert not at.exception, at.exception
    retraining = manager.find("digits", job.config)
    assert retraining is not job and retraining.status in ("queued", "running")
    assert any(b.label == "Cancel training" for b in at.button)
    retraining.cancel()
    retraining.wait(60)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_tiny_and_flat_uploads_say_why_in_an_uploads_words(canvas, fresh_manager):
    """Issue 30: a 2×2 PNG was read as "0"; a flat one said "Draw a digit on the black canvas — …"."""
    at = trained_page(canvas)
    at.file_uploader[0].set_value(("tiny.png", png(np.array([[0, 255], [255, 0]], np.uint8)), "image/png")).run()
    assert not at.exception, at.exception
    assert any("2×2 pixels: too small" in e.value for e in at.error)
    assert not [m for m in at.metric if m.label == "Prediction" and m.value != "–"], "nothing is read"

    at.file_uploader[0].set_value(("grey.png", png(np.full((64, 64, 3), 180, np.uint8)), "image/png")).run()
    assert not at.exception, at.exception
    shown = " ".join(w.value for w in at.warning)
    assert "one flat colour" in shown and "Upload a picture of one digit" in shown, shown
    assert not any("black canvas" in i.value for i in at.info)
    assert prediction(at) == "–"


def test_a_letters_network_reads_letters_everywhere(canvas, fresh_manager, monkeypatch):
    """Issue 29: a network trained on EMNIST letters (26 classes, a small set made in the test) shows
    letters in the Prediction, the bars, the other networks' line, the confusion matrix and the
    mistakes gallery — never digits 0–9, and nothing fails past index 9."""
    from tests.small_datasets import use_small_letters

    data = use_small_letters(monkeypatch)
    letters = {"dense2019": {"epochs": 1, "dataset": "emnist_letters"},
               "keras2020_mlp": {"epochs": 1, "dataset": "emnist_letters"}}
    manager = core.training.jobs.get_manager()
    for arch, settings in letters.items():
        job = manager.request("digits", {"arch": arch, **settings})
        assert job.wait(300) and job.status == "done", job.error
    at = open_draw(settings=letters)
    at.multiselect[0].set_value(["dense2019", "keras2020_mlp"]).run()
    assert any("Draw a letter" in i.value for i in at.info)
    canvas.image = drawn(load_mnist().x_test[0])
    at.run()
    assert not at.exception, at.exception
    assert prediction(at) == "z"  # half the small set's labels are "z"
    others = {m.label: m.value for m in at.metric}
    assert others["2020 Keras MLP"] in data.class_names
    bars = next(m.value for m in at.markdown if 'aria-label="Probabilities' in m.value)
    assert all(f'title="letter {name}: ' in bars for name in data.class_names)
    assert 'aria-label="Probabilities: a ' in bars and "probability of each letter" in bars

    at.button_group(key="draw_section").set_value("Training").run()
    assert not at.exception, at.exception
    assert any("Misclassified test images" in m.value for m in at.markdown)
    captions = [caption for image in at.image for caption in image.captions if caption.startswith("true ")]
    assert len(captions) >= 8
    assert {caption.split()[1].rstrip(",") for caption in captions} <= set(data.class_names), captions
    assert any(caption.endswith("said z") for caption in captions), captions
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    confusion = next(chart["data"][0] for chart in charts if chart["data"][0]["type"] == "heatmap")
    assert confusion["x"] == confusion["y"] == list(data.class_names) and confusion["z"]["shape"] == "26, 26"


def test_the_limit_caption_says_what_the_training_really_used(canvas, fresh_manager):
    """Issue 29: with ?limit=60000 the caption used to claim 60,000 training and 12,000 validation
    images; there are 55,000 and 5,000 (the sizes come from the training record)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["draw_settings"] = {"dense2019": {"epochs": 1}}
    at.run()
    at.switch_page("views/draw/page.py")
    at.query_params["limit"] = "60000"
    at.run()
    at.multiselect[0].set_value(["dense2019"]).run()
    next(b for b in at.button if b.label == "Train 2019 dense net").click().run()
    job = core.training.jobs.get_manager().find("digits", {"arch": "dense2019", "epochs": 1, "train_limit": 60000})
    assert job is not None and job.wait(300) and job.status == "done", job and job.error
    at.run()
    at.button_group(key="draw_section").set_value("Training").run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Trained on"))
    assert "Trained on 55,000 training images, validated on 5,000 held-out" in caption, caption
    assert "10,000 test images" in caption


def test_a_training_the_page_no_longer_shows_is_still_shown_with_its_progress(canvas, fresh_manager):
    """Issue 30 #3: start a training, pick another network: the page still shows that one training,
    with its progress, and "Show it" brings its network back to the front."""
    long = {"dense2019": {"epochs": 30, "train_limit": 0}}
    at = open_draw(settings=long)
    at.multiselect[0].set_value(["dense2019"]).run()
    next(b for b in at.button if b.label == "Train 2019 dense net").click().run()
    job = core.training.jobs.get_manager().find("digits", {"arch": "dense2019", **long["dense2019"]})
    try:
        assert job is not None and not job.finished
        at.multiselect[0].set_value(["keras2020_mlp"]).run()
        assert not at.exception, at.exception
        show = [b for b in at.button if b.label == "Show it"]
        assert len(show) == 1, [b.label for b in at.button]
        assert any("Also training for you: **2019 dense net" in str(p.proto) for p in at.get("progress"))
        show[0].click().run()
        assert not at.exception, at.exception
        assert at.multiselect[0].value[0] == "dense2019"
        assert not [b for b in at.button if b.label == "Show it"]  # its own widget shows it now
    finally:
        if job is not None:
            job.cancel()
            job.wait(60)
