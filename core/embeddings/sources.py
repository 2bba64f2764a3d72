"""What the Embeddings page can project, as typed sources built from the model store.

A :class:`Source` is raw MNIST pixels, a stored digit network (fine-tuned ones listed after their
base), a stored character LSTM, a network not trained yet (offered for training), or this session's Playground network.
The page picks one by its :attr:`Source.id`, a name that is never parsed back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.digits.look_inside import probe_model
from core.embeddings.points import PointSet, character_points, digit_points
from core.training.store import Entry, ModelStore

RAW, DIGITS, CHARS, PLAYGROUND = "raw", "digits", "chars", "playground"
JOB_KINDS = {DIGITS: "digits", CHARS: "charlstm"}  # source kind -> the job kind that trains it


@dataclass(frozen=True)
class Source:
    kind: str  # RAW, DIGITS, CHARS or PLAYGROUND
    key: str  # a trained network's store key; an untrained digit network's architecture; else ""
    title: str  # what the picker shows
    trained: bool = True  # False: a network that must be trained before it has vectors
    updated: float = 0.0  # when the stored network was last trained: retrained means new vectors
    entry: Entry | None = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        """A stable name for widgets, caches and session state."""
        return ("" if self.trained else "train-") + self.kind + (f":{self.key}" if self.key else "")

    @property
    def job_kind(self) -> str | None:
        """The kind that trained (or trains) it: a stored network's own (e.g. "digits_finetune")."""
        if self.entry is not None and self.entry.record.get("kind"):
            return self.entry.record["kind"]
        return JOB_KINDS.get(self.kind)

    @property
    def records_probes(self) -> bool:
        """Its training saves probes (Embeddings' "over training" view): the digit networks
        (core/digits/models.py) and the character LSTM (core/text/char_probes.py); fine-tuning on
        drawings does not."""
        return self.job_kind in ("digits", "charlstm")

    @property
    def over_training(self) -> bool:
        """There is a map over training to show, or one to record by training again."""
        from core.embeddings.probes import FILE

        saved = self.entry is not None and (self.entry.path / FILE).is_file()
        return self.trained and (saved or self.records_probes)

    @property
    def has_images(self) -> bool:
        """Digits: their points have thumbnails, and a drawing from the Draw page can join the map."""
        return self.kind in (RAW, DIGITS)

    @property
    def dataset(self) -> str:
        """The image data set a digit source's points come from: the one its network learned."""
        return self.entry.config.get("dataset", "mnist") if self.kind == DIGITS and self.entry else "mnist"

    def label_names(self) -> list[str]:
        """What each class of a digit source is called (its network's own classes, issue 29)."""
        from core.digits.models import class_names

        if self.kind == DIGITS and self.entry is not None:
            return class_names(self.entry.record)
        from core.data import dataset_spec

        return list(dataset_spec(self.dataset).class_names)

    def available_images(self) -> int:
        """How many images (test, then training) a digit source can show."""
        from core.data import load_image_dataset

        data = load_image_dataset(self.dataset)
        return len(data.x_test) + len(data.x_train)

    @property
    def stored(self) -> bool:
        return self.trained and self.kind in JOB_KINDS

    def training_config(self) -> dict:
        """The default settings an untrained source's network is trained with from this page."""
        if self.kind == DIGITS:
            from core.digits.models import KIND

            return KIND.normalize({"arch": self.key})
        from core.text.charlstm import KIND

        return KIND.normalize({})

    def trained_as(self, key: str) -> "Source":
        """This source's network once trained under store key ``key`` (to pick it after training)."""
        return Source(self.kind, key, self.title)


def stored_source(kind: str, entry: Entry, prefix: str = "") -> Source:
    return Source(kind, entry.key, prefix + entry.record.get("title", entry.key),
                  updated=float(entry.record.get("updated", 0)), entry=entry)


def sources(store: ModelStore) -> list[Source]:
    """Every source in the picker's order: raw pixels, digit networks (trained, then the
    architectures not trained yet), character LSTMs (or the offer to train one), the Playground."""
    from core.digits.finetune import fine_tuned_networks
    from core.digits.models import ARCHITECTURES

    tuned = fine_tuned_networks(store)
    digits = []
    for entry in store.entries(kind="digits"):  # each network, then the ones fine-tuned from it (issue 31)
        digits.append(stored_source(DIGITS, entry))
        digits += [stored_source(DIGITS, t) for t in tuned if t.config.get("base") == entry.key]
    bases = {source.key for source in digits}
    digits += [stored_source(DIGITS, t) for t in tuned if t.key not in bases]  # their base is gone
    chars = [stored_source(CHARS, entry, "Characters: ") for entry in store.entries(kind="charlstm")]
    trained_archs = {source.entry.config.get("arch") for source in digits if source.job_kind == "digits"}
    untrained = [Source(DIGITS, arch, f"{title} — not trained yet", trained=False)
                 for arch, (title, _) in ARCHITECTURES.items() if arch not in trained_archs]
    if not chars:
        chars = [Source(CHARS, "", "Characters of the text LSTM — not trained yet", trained=False)]
    return [Source(RAW, "", "Raw pixels of MNIST digits (784 numbers each)"), *digits, *untrained, *chars,
            Source(PLAYGROUND, "", "Playground network: last hidden layer (this session)")]


def stored_model(source: Source, manager):
    """The trained network behind a stored source (the job manager keeps it loaded)."""
    return manager.load_entry(source.job_kind, source.entry)


def source_points(source: Source, manager, layer: str | None = None, n: int = 0) -> PointSet:
    """The vectors of a raw or stored source: n digits (raw pixels or ``layer``), or every character."""
    if source.kind == RAW:
        return digit_points(n)
    model = stored_model(source, manager)
    if source.kind == DIGITS:
        return digit_points(n, model, layer, f"{source.title}, layer {layer}", source.dataset, source.label_names())
    return character_points(model, source.title)


#: The most numbers a network layer's point set holds (float32: 41 MB), 10,000 images of a
#: 1,024-unit dense layer. A convolution map has 1,152 to 25,088 numbers per image: its map gets
#: fewer points, so that picking a layer cannot make the page hold a gigabyte (it keeps a few sets).
MAX_LAYER_NUMBERS = 10_240_000
#: The fewest points a map is offered (the page's number input starts there).
MIN_POINTS = 100


def layer_width(source: Source, manager, layer: str) -> int:
    """How many numbers ``layer`` of a digit network gives per image."""
    return int(np.prod(stored_model(source, manager).get_layer(layer).output.shape[1:]))


def max_layer_points(width: int) -> int:
    """The most images whose activations of a ``width``-number layer a map may hold."""
    return max(MIN_POINTS, MAX_LAYER_NUMBERS // max(1, int(width)))


def digit_layers(source: Source, manager) -> tuple[list[str], str]:
    """A digit network's layers to project (not its augmentation) and the default one."""
    from core.digits.models import penultimate_layer

    model = stored_model(source, manager)
    return [l.name for l in model.layers[1:] if not l.name.startswith("augment")], penultimate_layer(model)


def drawing_features(source: Source, manager, layer: str | None, digit: np.ndarray,
                     spherized_like: np.ndarray | None = None) -> np.ndarray:
    """A 28×28 drawing as this digit source's (1, D) vector: its pixels, or ``layer``'s activations.

    With ``spherized_like`` (the map's vectors before spherizing) it is spherized as they are:
    centred on their mean, then scaled to length 1.
    """
    vector = np.asarray(digit, dtype=np.float32)[None]
    if source.kind == RAW:
        mine = vector.reshape(1, -1)
    else:
        # One image: projection.layer_activations insists on the three points a projection needs.
        model = stored_model(source, manager)
        probe = probe_model(model, model.get_layer(layer).output)
        mine = np.asarray(probe(vector[..., None], training=False)).reshape(1, -1)
    if spherized_like is None:
        return mine
    centred = mine - spherized_like.mean(axis=0)
    return centred / (np.linalg.norm(centred) or 1.0)
