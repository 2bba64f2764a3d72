"""The character LSTM as a trainable kind (``charlstm``): settings, presets, title.

The model is :mod:`core.text.charmodel` (the cell: :mod:`core.text.lstm`), its training loop
:mod:`core.text.char_training`, sampling :mod:`core.text.sampling`.
"""
from __future__ import annotations

from core.errors import BadConfig, check_all, coerce
from core.text import char_training
from core.text import corpus as corpora
from core.text.charmodel import CharLSTM, character_embeddings, load_model, save_model, text_to_ids
from core.text.lstm import windows
from core.training.progress import Reporter
# The Text page and older callers import these from here.
from core.text.sampling import DEFAULT_SEED_TEXT, MAX_SAMPLE_LENGTH, Sampler, generate

__all__ = ["DEFAULT_SEED_TEXT", "DEFAULTS", "KIND", "MAX_SAMPLE_LENGTH", "OPTIONS", "PRESETS", "CharLSTM",
           "Sampler", "character_embeddings", "generate", "load_model", "save_model", "text_to_ids", "windows"]

MAX_VOCAB = char_training.MAX_VOCAB

DEFAULTS = {
    "corpus": "tinyshakespeare",
    "window": 50,
    "stride": 3,
    "batch_size": 64,
    "units": 256,
    "layers": 1,
    "learning_rate": 0.005,
    "steps": 600,
    "validation_split": 0.1,
    "evaluations": 12,
    "seed": 0,
}

#: Settings added later; a config names them only when they differ from these values, so the
#: store keys of models trained before they existed stay the same.
OPTIONS = {
    "dropout": 0.0,          # on each layer's outputs while training
    "schedule": "constant",  # or "cosine": down to a tenth of the learning rate at the last step
    "carry_state": False,    # contiguous streams, the state carried from window to window
    "storage": "float32",    # or "float16": the weights' file at half the size
}

SCHEDULES = ("constant", "cosine")
STORAGES = ("float32", "float16")

PRESETS: dict[str, dict] = {
    # Tuned so 2 CPU cores spell words and lay out Shakespeare's speaker lines in a few minutes.
    "Quick": {"window": 50, "stride": 3, "batch_size": 64, "units": 256, "layers": 1,
              "learning_rate": 0.005, "steps": 600},
    # The 2017 stream's settings: 50-character windows, stride 2, 1024 units, batch 512.
    "As streamed": {"window": 50, "stride": 2, "batch_size": 512, "units": 1024, "layers": 1,
                    "learning_rate": 0.002, "steps": 2000},
    # Karpathy's char-rnn at its usual size: 2 layers of 512 units, dropout between them, the text
    # read as contiguous streams carrying the state. Ships ready-made (scripts/build_defaults.py).
    "char-rnn": {"window": 100, "batch_size": 64, "units": 512, "layers": 2,
                 "learning_rate": 0.002, "steps": 3000, "evaluations": 30, "dropout": 0.3,
                 "schedule": "cosine", "carry_state": True, "storage": "float16"},
}


def bundled_request() -> dict:
    """What the Text page asks for first, which ships ready-made (core.training.bundled.SPECS)."""
    return {**PRESETS["char-rnn"], "corpus": "tinyshakespeare"}


def preset_of(request: dict | None) -> str | None:
    """The preset whose model on Tiny Shakespeare ``request`` asks for (the bundled model's
    manifest request), or None."""
    if request is None:
        return None
    wanted = KIND.normalize(request)
    for name, values in PRESETS.items():
        if wanted == KIND.normalize({**values, "corpus": "tinyshakespeare"}):
            return name
    return None


def _flag(value) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"not a yes/no value: {value!r}")
    return bool(value)


class CharLSTMKind:
    name = "charlstm"

    def normalize(self, config: dict) -> dict:
        out = {**DEFAULTS, **OPTIONS}
        for key in list(DEFAULTS) + list(OPTIONS) + ["resume"]:
            if config.get(key) is not None:
                out[key] = config[key]
        coerce(out, {**dict.fromkeys(("window", "stride", "batch_size", "units", "layers", "steps", "evaluations",
                                      "seed"), int),
                     "learning_rate": float, "validation_split": float, "corpus": str,
                     "dropout": float, "schedule": str, "carry_state": _flag, "storage": str}, "training setting")
        check_all([
            (2 <= out["window"] <= 200, "The window must be between 2 and 200 characters."),
            (1 <= out["stride"] <= out["window"], "The stride must be between 1 and the window length."),
            (1 <= out["batch_size"] <= 1024, "The batch size must be between 1 and 1024."),
            (32 <= out["units"] <= 1024, "Hidden units must be between 32 and 1024."),
            (out["layers"] in (1, 2, 3), "Use 1, 2 or 3 stacked layers."),
            (0 < out["learning_rate"] <= 0.1, "The learning rate must be above 0 and at most 0.1."),
            (1 <= out["steps"] <= 100_000, "Training steps must be between 1 and 100,000."),
            (0.01 <= out["validation_split"] <= 0.5, "The validation split must be between 1% and 50%."),
            (1 <= out["evaluations"] <= 100, "Evaluations must be between 1 and 100."),
            (0 <= out["dropout"] <= 0.8, "Dropout must be between 0 and 0.8."),
            (out["schedule"] in SCHEDULES, f"The learning-rate schedule is one of {', '.join(SCHEDULES)}."),
            (out["storage"] in STORAGES, f"The weights are stored as {' or '.join(STORAGES)}."),
        ])
        for key, default in OPTIONS.items():
            if out[key] == default:
                del out[key]
        if not (out["corpus"] in corpora.builtin_corpora() or out["corpus"].startswith(corpora.USER_PREFIX)):
            raise BadConfig(f"Unknown corpus '{out['corpus']}'.")
        if "resume" in out:
            out["resume"] = str(out["resume"])
        return out

    def title(self, config: dict) -> str:
        layers = f"{config['layers']}×" if config["layers"] > 1 else ""
        dropout = f", dropout {config['dropout']:g}" if config.get("dropout") else ""
        more = ", continued" if config.get("resume") else ""
        return (f"Char LSTM {layers}{config['units']} units{dropout} on {corpora.short_title(config['corpus'])} "
                f"({config['steps']} steps{more})")

    def train(self, config: dict, reporter: Reporter, resume: CharLSTM | None = None) -> tuple[CharLSTM, dict]:
        """Train a new model, or go on training ``resume`` (the job manager loads it from the store)."""
        return char_training.train(config, reporter, self.title(config), resume)

    save = staticmethod(save_model)
    load = staticmethod(load_model)


KIND = CharLSTMKind()
