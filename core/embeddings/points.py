"""What the Embeddings page projects: a set of points, one vector each, with labels to colour by.

Three kinds of source share one shape (:class:`PointSet`) so the page, the
neighbour search and the exports treat them alike:

- digits: raw pixels or any layer of a trained digit network, with thumbnails;
- characters: the text LSTM's input-weight rows, one point per character;
- the playground network's last hidden layer, one point per data point.
"""
from __future__ import annotations

import re
import string
import threading
from dataclasses import dataclass

import numpy as np

from core.errors import BadInput
from core.embeddings.projection import check_features, layer_activations


@dataclass
class PointSet:
    """``features`` times ``scale`` are the vectors: raw pixels keep their bytes (uint8, scale 1/255)
    and become floats only where a projection or export needs them (:meth:`vectors`), so a cached
    set of all 70,000 digits holds 55 MB of pixels, not 219 MB of float32 (issue 30's memory)."""

    title: str
    features: np.ndarray  # (N, D), floats, or uint8 read with ``scale``
    labels: np.ndarray  # (N,) index into label_names
    label_names: list[str]
    names: list[str]  # a short name per point, for hover text and neighbour lists
    predicted: np.ndarray | None = None  # (N,) index into label_names, when a network predicts
    images: np.ndarray | None = None  # (N, 28, 28) uint8 thumbnails, for digits
    colours: list[str] | None = None  # one per label, where the source has its own (the playground's)
    scale: float = 1.0  # what one unit of ``features`` is worth (1/255 for raw pixels)

    def __post_init__(self) -> None:
        check_features(self.features, self.title)
        if not len(self.labels) == len(self.names) == len(self.features):
            raise ValueError("a point set needs one label and one name per vector")

    def __len__(self) -> int:
        return len(self.features)

    def vectors(self) -> np.ndarray:
        """The (N, D) float32 vectors: ``features`` themselves, or a new array scaled from the bytes."""
        if self.features.dtype == np.float32 and self.scale == 1.0:
            return self.features
        return np.multiply(self.features, np.float32(self.scale), dtype=np.float32)

    def hover(self) -> list[str]:
        predicted = self.predicted
        return [f"{self.names[i]} · {self.label_names[self.labels[i]]}"
                + (f" · predicted {self.label_names[predicted[i]]}" if predicted is not None else "")
                for i in range(len(self))]

    def metadata(self) -> list[dict]:
        """Rows for the projector's metadata.tsv."""
        rows = []
        for i in range(len(self)):
            row = {"name": self.names[i], "label": self.label_names[self.labels[i]]}
            if self.predicted is not None:
                row["predicted"] = self.label_names[self.predicted[i]]
            rows.append(row)
        return rows


SEARCH_FIELDS = ("label", "name", "predicted")


def search(points: PointSet, query: str, field: str = "label", regex: bool = False) -> np.ndarray:
    """Indices of the points whose ``field`` ("label", "name" or "predicted") contains ``query``
    (ignoring case), or matches it as a regular expression: the projector's search."""
    if field not in SEARCH_FIELDS or (field == "predicted" and points.predicted is None):
        raise BadInput(f"These points cannot be searched by {field}.")
    if field == "name":
        values = points.names
    else:
        classes = points.labels if field == "label" else points.predicted
        values = [points.label_names[c] for c in classes]
    if regex:
        try:
            pattern = re.compile(query, re.IGNORECASE)
        except re.error as error:
            raise BadInput(f"“{query}” is not a regular expression Python can read ({error}).") from error
        return np.array([i for i, value in enumerate(values) if pattern.search(value)], dtype=np.int64)
    wanted = query.casefold()
    return np.array([i for i, value in enumerate(values) if wanted in value.casefold()], dtype=np.int64)


#: One data set's images and labels in the page's order (test images first), shared by every point set
#: of more points than its test images: (the data set it was made from, images, labels).
_in_page_order: dict[str, tuple[object, np.ndarray, np.ndarray]] = {}
_in_page_order_lock = threading.Lock()


def image_slice(n: int, dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """The first n images of an image data set (test images first, then training images) and their labels,
    as read-only views: up to the test images', of the data set's own arrays; beyond, of one copy of the
    whole set in this order, shared by every size, so that the page's cached point sets of several sizes
    hold the pixels once."""
    from core.data import load_image_dataset

    data = load_image_dataset(dataset)
    available = len(data.x_test) + len(data.x_train)
    if not 3 <= n <= available:
        raise BadInput(f"Choose between 3 and {available:,} points; {data.title.replace(' (download)', '')} has "
                       f"{available:,} images.")
    if n <= len(data.x_test):
        images, labels = data.x_test, data.y_test
    else:
        with _in_page_order_lock:
            made_from, images, labels = _in_page_order.get(dataset, (None, None, None))
            if made_from is not data:  # one data set at a time: a set beyond its test images is MNIST's raw pixels
                images, labels = np.concatenate([data.x_test, data.x_train]), np.concatenate([data.y_test, data.y_train])
                _in_page_order.clear()
                _in_page_order[dataset] = (data, images, labels)
    return _read_only(images[:n]), _read_only(labels[:n])


def _read_only(view: np.ndarray) -> np.ndarray:
    view = view.view()
    view.flags.writeable = False  # shared by every point set (and the data set): nobody writes into it
    return view


def mnist_slice(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n MNIST images (test images first, then training images) and their labels."""
    return image_slice(n, "mnist")


def digit_points(n: int, model=None, layer: str | None = None, title: str = "Raw pixels", dataset: str = "mnist",
                 label_names: list[str] | None = None) -> PointSet:
    """Raw pixels (``model`` None) or ``layer``'s activations for the first n images of ``dataset``
    (MNIST's digits unless the network learned another data set), labelled with its class names."""
    from core.data import dataset_spec

    images, labels = image_slice(n, dataset)
    names = list(label_names) if label_names else list(dataset_spec(dataset).class_names)
    if model is None:  # the pixels' bytes, shared with the thumbnails: scaled to [0, 1] where used
        return PointSet(title, images.reshape(len(images), -1), labels, names, [f"#{i}" for i in range(n)],
                        images=images, scale=1 / 255)
    from core.digits.look_inside import reader_for

    x = images.astype(np.float32) / 255
    features = layer_activations(model, layer, x)
    predicted = reader_for(model).probabilities(x).argmax(1)
    return PointSet(title, features, labels, names, [f"#{i}" for i in range(n)], predicted, images)


CHARACTER_CLASSES = ["lower-case letter", "capital letter", "digit", "punctuation", "space or line break", "other"]


def character_class(char: str) -> int:
    if char in string.ascii_lowercase:
        return 0
    if char in string.ascii_uppercase:
        return 1
    if char in string.digits:
        return 2
    if char in string.punctuation:
        return 3
    if char.isspace():
        return 4
    return 5


def character_points(model, title: str = "Character embeddings") -> PointSet:
    """One point per character: its row of the first LSTM layer's input weights.

    The LSTM reads a one-hot vector, so multiplying by the input kernel picks one
    row: that row is the character's learned embedding (4 × units numbers).
    """
    from core.text.charmodel import character_embeddings

    vocab, vectors = character_embeddings(model)
    labels = np.array([character_class(c) for c in vocab])
    names = [repr(c)[1:-1] if not c.isprintable() or c == " " else c for c in vocab]
    names = ["space" if c == " " else name for c, name in zip(vocab, names)]
    return PointSet(title, np.asarray(vectors, dtype=np.float32), labels, CHARACTER_CLASSES, names)


PLAYGROUND_COLOURS = ["#f59322", "#0877bd"]  # the playground's orange (−1) and blue (+1)


def playground_points(net, dataset, title: str = "Playground network") -> PointSet:
    """The playground network's last hidden layer on every data point (training, then test)."""
    from core.playground import featurize

    if net is None or dataset is None:
        raise BadInput("There is no playground network in this browser session yet: open the Playground page from "
                       "the sidebar (reloading the tab starts a new session), then come back.")
    if len(net.weights) < 2:
        raise BadInput("The playground network has no hidden layer (its output is a function of one weighted "
                       "sum of the inputs), so there is no hidden representation to project. Add a layer on the "
                       "Playground page.")
    outputs = net.layer_outputs(featurize(dataset.points, net.state.features))
    hidden, out = outputs[-2], outputs[-1]
    y = dataset.labels
    colours = None
    if net.state.multiclass:
        names = [f"class {k}" for k in range(net.state.num_classes)]
        labels, predicted = y.astype(int), out.argmax(1)
    elif net.state.problem == "regression":
        names = ["target below 0", "target 0 or above"]
        labels, predicted = (y >= 0).astype(int), None
    else:
        names = ["class −1 (orange)", "class +1 (blue)"]
        labels, predicted = (y > 0).astype(int), (out[:, 0] > 0).astype(int)
        colours = PLAYGROUND_COLOURS
    split = len(dataset.x_train)
    point_names = [f"{'train' if i < split else 'test'} ({x:.2f}, {y_:.2f})"
                   for i, (x, y_) in enumerate(dataset.points)]
    return PointSet(title, np.asarray(hidden, dtype=np.float32), labels, names, point_names, predicted,
                    colours=colours)
