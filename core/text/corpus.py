"""Text corpora for the character LSTM: the bundled ones and the user's own text.

A user's text (pasted or uploaded) is checked, then kept in the cache under a
name derived from its hash (``text-<hash>``), so a background training job, a
later session or a restarted server can find it again from the config alone.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from core.data import TEXT_CORPORA, load_corpus, network_available
from core.data import text_fingerprint as fingerprint  # noqa: F401  (re-exported)
from core.errors import BadInput, DatasetUnavailable, UnknownDataset
from core.paths import cache_dir

#: The largest text we accept (UTF-8 bytes); Tiny Shakespeare is about 1.1 MB.
MAX_BYTES = 20 * 1024 * 1024
USER_PREFIX = "text-"


def builtin_corpora() -> dict[str, str]:
    """name -> title of the corpora that ship with the app."""
    return {name: title for name, (title, _) in TEXT_CORPORA.items()}


def _user_dir() -> Path:
    return cache_dir() / "corpora"


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MB" if n_bytes >= 1024 * 1024 else f"{n_bytes / 1024:.0f} KB"


def decode_upload(data: bytes) -> str:
    """The text of an uploaded file, or BadInput saying why it cannot be used."""
    if not data:
        raise BadInput("The uploaded file is empty.")
    if len(data) > MAX_BYTES:
        raise BadInput(f"The file is {_size_text(len(data))}; the limit is {_size_text(MAX_BYTES)}. "
                       "Upload a shorter text.")
    if b"\x00" in data[:65536]:
        raise BadInput("That looks like a binary file, not text. Upload a plain UTF-8 .txt file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput(f"The file is not valid UTF-8 text (bad byte at position {error.start}). "
                       "Save it as UTF-8 and upload it again.") from error
    return text


def check_text(text: str, window: int = 50) -> str:
    """Normalise line ends and check the text is usable for windows of ``window`` characters."""
    if text is None or not text.strip():
        raise BadInput("The text is empty. Paste or upload some text to train on.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    n_bytes = len(text.encode("utf-8", errors="replace"))
    if n_bytes > MAX_BYTES:
        raise BadInput(f"The text is {_size_text(n_bytes)}; the limit is {_size_text(MAX_BYTES)}.")
    if "\x00" in text:
        raise BadInput("The text contains NUL characters; it looks like binary data, not text.")
    if len(text) < window + 1:
        raise BadInput(f"The text has {len(text)} characters, shorter than one training window of "
                       f"{window} characters plus the character to predict. Add more text or "
                       "shorten the window.")
    return text


def register_text(text: str) -> str:
    """Keep a user's text in the cache; returns its corpus name (``text-<hash>``)."""
    text = check_text(text, window=1)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    name = USER_PREFIX + digest
    folder = _user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return name


def load_text(name: str) -> str:
    """A corpus by name: a bundled one or a registered user text."""
    if name.startswith(USER_PREFIX):
        path = _user_dir() / f"{name}.txt"
        if not path.is_file():
            raise UnknownDataset(f"The text '{name}' is no longer in the cache; paste or upload it again.")
        return path.read_text(encoding="utf-8")
    return load_corpus(name)


def title(name: str) -> str:
    if name.startswith(USER_PREFIX):
        return f"your text ({name[len(USER_PREFIX):][:8]})"
    return builtin_corpora().get(name, name)


def short_title(name: str) -> str:
    """The corpus's name without the note in brackets ("Tiny Shakespeare"), for model titles."""
    return title(name) if name.startswith(USER_PREFIX) else title(name).split(" (")[0]


def describe(text: str, sample_chars: int = 400) -> dict:
    """Size, vocabulary and an opening sample, for showing a corpus."""
    vocab = sorted(set(text))
    return {
        "chars": len(text),
        "bytes": len(text.encode("utf-8")),
        "vocab_size": len(vocab),
        "vocab": vocab,
        "lines": text.count("\n") + 1,
        "sample": text[:sample_chars],
    }


#: Text sets from tensorflow-datasets (downloaded once when online): name -> (title, text feature).
TFDS_TEXT = {
    "imdb_reviews": ("IMDB movie reviews", "text"),
    "ag_news_subset": ("AG News articles", "description"),
    "yelp_polarity_reviews": ("Yelp reviews", "text"),
}
TFDS_MAX_CHARS = 2_000_000  # enough for the LSTM, and a quick download-to-training path


def tfds_text_problem(name: str) -> str | None:
    """Why a tensorflow-datasets text set cannot be fetched now, or None (no TensorFlow import)."""
    if name not in TFDS_TEXT:
        return f"Unknown text dataset '{name}'. Known: {', '.join(sorted(TFDS_TEXT))}."
    downloaded = (cache_dir() / "tensorflow_datasets" / name).is_dir()
    if downloaded or network_available():
        return None
    return (f"{TFDS_TEXT[name][0]} has to be downloaded once from tensorflow-datasets, and this machine "
            "is offline. Tiny Shakespeare and the Python documentation work without a network.")


def fetch_tfds_text(name: str, max_chars: int = TFDS_MAX_CHARS) -> str:
    """Download (once) a tensorflow-datasets text set and keep its first ``max_chars`` characters
    as a user corpus; returns the corpus name. Offline or failing: DatasetUnavailable, saying why."""
    problem = tfds_text_problem(name)
    if problem:
        raise DatasetUnavailable(problem)
    title, feature = TFDS_TEXT[name]
    try:
        import tensorflow_datasets as tfds

        dataset = tfds.load(name, split="train", data_dir=str(cache_dir() / "tensorflow_datasets"))
        pieces, total = [], 0
        for example in tfds.as_numpy(dataset):
            piece = example[feature].decode("utf-8", errors="replace").replace("<br />", "\n")
            pieces.append(piece)
            total += len(piece) + 1
            if total >= max_chars:
                break
    except Exception as error:  # network and dataset errors come in many types
        raise DatasetUnavailable(f"Could not fetch {title}: {error}. Tiny Shakespeare and the Python "
                                 "documentation work without a network.") from error
    return register_text("\n".join(pieces)[:max_chars])
