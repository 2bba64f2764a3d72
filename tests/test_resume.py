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


def test_a_kind_continues_the_kinds_it_names_read_with_their_own_loader(tmp_path, monkeypatch):
    """A fine-tune kind continues another kind's model (``resumes_from``), loaded by that kind."""
    import core.training.kinds
    from tests import fake_kind

    class Base(FakeKind):
        def load(self, folder):
            return {"loaded by": "base", **super().load(folder)}

    class FineTune(FakeKind):
        name = "finetune"
        resumes_from = ("fake",)

    monkeypatch.setattr(fake_kind, "KIND", Base())
    monkeypatch.setitem(core.training.kinds.KINDS, "fake", "tests.fake_kind:KIND")
    store = ModelStore(tmp_path)
    stored(store, fake_kind.KIND, "base", {"weights": [1]})
    assert resume_arguments(store, FineTune(), {"resume": "base"}) == {"resume": {"loaded by": "base", "weights": [1]}}
    stored(store, FineTune(), "tuned", {"weights": [2]})
    with pytest.raises(AppError, match="no longer in the model store"):  # not a kind it names
        resume_arguments(store, FineTune(), {"resume": "tuned"})
