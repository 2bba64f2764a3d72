"""The Embeddings page's sources, typed: what the store holds decides what can be projected."""
from __future__ import annotations

import numpy as np

from core.embeddings.sources import CHARS, DIGITS, PLAYGROUND, RAW, Source, drawing_features, sources
from core.training.store import ModelStore


def put(store: ModelStore, key: str, kind: str, title: str, **config) -> None:
    store.put(key, {}, {"kind": kind, "title": title, "config": config},
              lambda model, folder: (folder / "model.json").write_text("{}"))


def test_an_empty_store_offers_raw_pixels_the_networks_to_train_and_the_playground(tmp_path):
    listed = sources(ModelStore(tmp_path))
    assert listed[0].kind == RAW and listed[-1].kind == PLAYGROUND
    untrained = [s for s in listed if not s.trained]
    assert {s.kind for s in untrained} == {DIGITS, CHARS}
    assert {s.key for s in untrained if s.kind == DIGITS} == {"fast_cnn", "stream2017_cnn", "keras2020_mlp",
                                                               "dense2019"}
    assert len({s.id for s in listed}) == len(listed), "every source has its own id"
    assert all(s.id.startswith("train-") for s in untrained)


def test_stored_networks_replace_their_offer_to_train(tmp_path):
    store = ModelStore(tmp_path)
    put(store, "a" * 16, "digits", "2019 dense net (5 epochs)", arch="dense2019")
    put(store, "b" * 16, "charlstm", "LSTM on tinyshakespeare")
    listed = {s.id: s for s in sources(store)}
    dense = listed["digits:" + "a" * 16]
    assert dense.trained and dense.title == "2019 dense net (5 epochs)" and dense.updated > 0
    assert dense.job_kind == "digits" and dense.has_images
    assert "train-digits:dense2019" not in listed and "train-digits:fast_cnn" in listed
    chars = listed["chars:" + "b" * 16]
    assert chars.title == "Characters: LSTM on tinyshakespeare" and not chars.has_images
    assert "train-chars" not in listed


def test_an_untrained_source_names_its_training_and_what_it_becomes():
    offer = Source(DIGITS, "dense2019", "2019 dense net — not trained yet", trained=False)
    assert offer.training_config()["arch"] == "dense2019"
    assert offer.trained_as("c" * 16).id == "digits:" + "c" * 16


def test_a_spherized_drawing_is_centred_on_the_maps_mean_and_has_length_one():
    features = np.random.default_rng(0).random((50, 784)).astype(np.float32)
    digit = np.random.default_rng(1).random((28, 28)).astype(np.float32)
    raw = Source(RAW, "", "Raw pixels")
    plain = drawing_features(raw, None, None, digit)
    assert plain.shape == (1, 784) and np.allclose(plain, digit.reshape(1, -1))
    spherized = drawing_features(raw, None, None, digit, spherized_like=features)
    expected = digit.reshape(1, -1) - features.mean(axis=0)
    assert np.allclose(spherized, expected / np.linalg.norm(expected)) and np.isclose(np.linalg.norm(spherized), 1)


def test_a_fine_tuned_network_is_listed_beside_its_base(tmp_path):
    """Issue 31: "Fast CNN + your handwriting" comes right after the network it was fine-tuned from,
    is loaded by its own kind, and has no over-training view (fine-tuning saves no probes)."""
    store = ModelStore(tmp_path)
    put(store, "a" * 16, "digits", "Fast CNN (1 epoch)", arch="fast_cnn")
    put(store, "c" * 16, "digits", "2019 dense net (5 epochs)", arch="dense2019")
    put(store, "f" * 16, "digits_finetune", "Fast CNN + your handwriting", base="a" * 16, arch="fast_cnn")
    put(store, "e" * 16, "digits_finetune", "2019 dense net + your handwriting", base="9" * 16, arch="dense2019")
    listed = [s for s in sources(store) if s.kind == DIGITS and s.trained]
    titles = [s.title for s in listed]
    assert titles.index("Fast CNN + your handwriting") == titles.index("Fast CNN (1 epoch)") + 1
    assert titles[-1] == "2019 dense net + your handwriting"  # its base is gone: listed last
    tuned = next(s for s in listed if s.key == "f" * 16)
    assert tuned.job_kind == "digits_finetune" and tuned.has_images and not tuned.records_probes
    assert next(s for s in listed if s.key == "a" * 16).records_probes
    assert "train-digits:fast_cnn" not in {s.id for s in sources(store)}
    assert not tuned.over_training and next(s for s in listed if s.key == "a" * 16).over_training


def test_saved_probes_give_any_stored_network_its_view_over_training(tmp_path):
    """A network whose entry holds probes.npz can be played back, whichever kind trained it; without
    them, only a kind whose training records probes offers the view (to train again)."""
    store = ModelStore(tmp_path)
    put(store, "f" * 16, "digits_finetune", "Fast CNN + your handwriting", base="a" * 16, arch="fast_cnn")
    (store.get("f" * 16).path / "probes.npz").write_bytes(b"")
    tuned = next(s for s in sources(store) if s.key == "f" * 16)
    assert tuned.over_training and not tuned.records_probes
    untrained = next(s for s in sources(store) if s.id == "train-digits:fast_cnn")
    assert untrained.records_probes and not untrained.over_training  # nothing to show before it is trained
