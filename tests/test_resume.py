"""What the job manager hands a kind to continue from: a fresh copy of the stored model, or a clear error."""
from __future__ import annotations

import pytest

from core.errors import AppError
from core.training.resume import resume_arguments
from core.training.store import ModelStore
from tests.fake_kind import FakeKind


def stored(store: ModelStore, kind: FakeKind, key: str, model) -> None:
    store.put(key, model, {"kind": kind.name, "config": {}}, kind.save)


def test_no_resume_key_means_no_argument(tmp_path):
    assert resume_arguments(ModelStore(tmp_path), FakeKind(), {"size": 3}) == {}
    assert resume_arguments(ModelStore(tmp_path), FakeKind(), {"size": 3, "resume": ""}) == {}


@pytest.mark.parametrize("on_disk", [True, False])
def test_the_model_comes_back_as_a_copy(tmp_path, on_disk):
    store, kind = ModelStore(tmp_path), FakeKind()
    if not on_disk:
        store.writable = False  # as when the cache folder cannot be written: entries live in memory
    model = {"weights": [1, 2, 3]}
    stored(store, kind, "k1", model)
    assert (store.get("k1").path is not None) == on_disk
    resumed = resume_arguments(store, kind, {"resume": "k1"})["resume"]
    assert resumed == model and resumed is not model
    resumed["weights"].append(4)  # training the copy leaves the stored model alone
    assert store.load(store.get("k1"), kind.load) == {"weights": [1, 2, 3]}


def test_missing_damaged_or_foreign_entries_give_a_clear_error(tmp_path):
    store, kind = ModelStore(tmp_path), FakeKind()
    with pytest.raises(AppError, match="no longer in the model store"):
        resume_arguments(store, kind, {"resume": "nothing-here"})
    stored(store, kind, "damaged", {"weights": [1]})
    (tmp_path / "damaged" / "weights.json").write_text("{not json")
    with pytest.raises(AppError, match="no longer in the model store"):  # the checksum catches it
        resume_arguments(store, kind, {"resume": "damaged"})
    store.put("other", {"weights": [1]}, {"kind": "digits"}, kind.save)
    with pytest.raises(AppError, match="no longer in the model store"):
        resume_arguments(store, kind, {"resume": "other"})


def test_a_folder_the_kind_cannot_read_gives_a_clear_error(tmp_path):
    class Unreadable(FakeKind):
        def load(self, folder):
            raise ValueError("weights.json has no 'weights'")

    store, kind = ModelStore(tmp_path), Unreadable()
    stored(store, kind, "k1", {"weights": [1]})
    with pytest.raises(AppError, match=r"could not be read \(ValueError: weights.json has no 'weights'\)"):
        resume_arguments(store, kind, {"resume": "k1"})
