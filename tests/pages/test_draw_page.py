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

        def __call__(self, *, stroke_width, key, instance, size=280, live=True, answered=0, restore=None):
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
    assert "Bundled model (test accuracy 98.7 %) — train it yourself" in captions, captions
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


def teach_page(canvas, monkeypatch=None) -> AppTest:
    at = trained_page(canvas)
    canvas.image = drawn(load_mnist().x_test[0])  # a 7
    at.run()
    assert not at.exception, at.exception
    return at


def collected(at: AppTest):
    from views.draw.teach import DRAWINGS

    return at.session_state[DRAWINGS] if DRAWINGS in at.session_state else None


def test_one_click_keeps_a_reading_labelled_and_clears_the_canvas(canvas, fresh_manager):
    at = teach_page(canvas)
    said = prediction(at)
    instance = canvas.instances[-1]
    next(b for b in at.button if b.label == f"Right, it is a {said}").click().run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [int(said)] and canvas.instances[-1] == instance + 1
    canvas.image = drawn(load_mnist().x_test[1])  # a 2, labelled by the pills as something else
    at.run()
    at.button_group(key="draw_label").set_value("3").run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [int(said), 3]
    assert not [group for group in at.button_group if group.key == "draw_label"]  # a fresh canvas: no reading

    at.button_group(key="draw_section").set_value("Your handwriting").run()
    assert not at.exception, at.exception
    shown = " ".join(i.value for i in at.info)
    assert "draw 18 more" in shown, shown
    assert "2 drawings, newest first" in " ".join(c.value for c in at.caption)
    at.button(key="draw_remove_0").click().run()
    assert list(collected(at).labels) == [3]


def test_sets_come_and_go_as_npz_and_bad_files_change_nothing(canvas, fresh_manager):
    from core.digits.handwriting import DrawingSet

    at = open_draw()
    at.session_state["draw_drawings"] = DrawingSet().add(np.zeros((28, 28)), 4)
    at.run()
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    foreign = io.BytesIO()
    np.savez(foreign, weights=np.zeros(3))
    at.file_uploader(key="draw_set_upload").set_value(("class.npz", foreign.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any("class.npz: That file holds weights" in e.value for e in at.error), [e.value for e in at.error]
    assert list(collected(at).labels) == [4]  # nothing lost
    good = DrawingSet().add(np.ones((28, 28)) * 0.5, 7).add(np.zeros((28, 28)), 4)
    at.file_uploader(key="draw_set_upload").set_value(("class.npz", good.to_npz(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert list(collected(at).labels) == [4, 7]  # the 4 was already there
    assert any(b.label == "Download the set (.npz)" for b in at.get("download_button"))


def test_fine_tuning_on_drawings_adds_a_network_beside_its_base(canvas, fresh_manager):
    from core.digits.handwriting import DrawingSet
    from core.digits.preprocess import preprocess
    from tools.strokes import drawings

    manager = core.training.jobs.get_manager()
    base = manager.request("digits", {"arch": "dense2019", **SETTINGS["dense2019"]})
    assert base.wait(300) and base.status == "done", base.error
    images, labels = drawings(3, seed=4, mirror=True)
    at = open_draw()
    at.multiselect[0].set_value(["dense2019"]).run()
    at.session_state["draw_drawings"] = DrawingSet(np.stack([preprocess(i).digit for i in images]), labels)
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    fine_tune = next(b for b in at.button if b.label == "Fine-tune 2019 dense net on my 30 drawings")
    fine_tune.click().run()
    assert not at.exception, at.exception
    job = next(j for j in manager.jobs() if j.kind == "digits_finetune")
    assert job.wait(300) and job.status == "done", job.error
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your 10 held-out drawings"].endswith("%") and "MNIST's 10,000 test digits" in metrics
    assert any("every third drawing of each digit (10 of 30)" in c.value for c in at.caption)
    options = at.multiselect[0].options
    assert options.index("2019 dense net + your handwriting (30 drawings)") == options.index("2019 dense net") + 1
    next(b for b in at.button if b.label == "Read with 2019 dense net + your handwriting").click().run()
    assert not at.exception, at.exception
    assert at.multiselect[0].value[0] == f"tuned:{job.key}"
    canvas.image = drawn(load_mnist().x_test[0])
    at.run()
    assert prediction(at) in list("0123456789")
    assert any(c.value.startswith("2019 dense net + your handwriting (30 drawings) · confidence") for c in at.caption)


def test_fine_tuning_waits_for_its_base_and_for_enough_drawings(canvas, fresh_manager):
    at = open_draw(settings={})  # the Fast CNN, not trained
    at.button_group(key="draw_section").set_value("Your handwriting").run()
    assert not at.exception, at.exception
    assert any("Fast CNN is not trained yet, or still training" in i.value for i in at.info)
    assert any("No drawings yet" in i.value for i in at.info)
