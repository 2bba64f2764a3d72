"""Find the cells that follow a pattern, as LSTMVis does (Strobelt et al., 2018).

A pattern marks characters of a passage as inside or outside: a span selected in the shown text
(matched wherever that text occurs, or wherever text of the same shape does: runs of capitals,
of small letters, of digits), a described one (inside quotes, the first word of a line,
after a colon, …) or a regular expression. Every unit's cell c (or hidden h) of every layer is
then ranked by how well its value after each character tells inside from outside:

    separation = 2·AUC − 1,   AUC = P(value at a random inside character > at a random outside one)

so 0 is chance, +1 means every inside character is above every outside one, −1 the reverse. The
ranking is made on a long passage of the training text and each unit is scored again on held-out
text, since on a few hundred characters a high separation can be luck. As a yardstick the same
ranking is repeated with the marks moved about half the passage along (the best separation a unit reaches
for marks in the wrong places). Most units follow no pattern a person would name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import regex

from core.errors import BadInput
from core.text.reading import LEVELS, Quantized

#: Described patterns: name -> (words, regular expression).
PATTERNS: dict[str, tuple[str, str]] = {
    "quotes": ("inside quotes", r'"[^"\n]*"|(?<![\w])\'[^\'\n]*\'(?![\w])'),
    "brackets": ("inside brackets", r"\([^()\n]*\)|\[[^\[\]\n]*\]"),
    "line_start": ("the first word of a line", r"(?m)^[^\s]+"),
    "after_colon": ("after a colon, to the end of the line (the next line when the colon ends one)",
                    r"(?<=:)[^\n]+|(?<=:\n)[^\n]+"),
    "capitals": ("words in capitals (speakers' names)", r"\b[A-Z][A-Z']+\b"),
    "word_start": ("the first letter of a word", r"(?<![\w'])\w"),
}
#: A regular expression that takes longer than this on the passage is stopped.
REGEX_SECONDS = 1.0
MIN_SELECTION = 2
MAX_PATTERN_CHARS = 500


def compile_pattern(source: str):
    if not source:
        raise BadInput("Type a regular expression (for example [A-Z]+ for runs of capitals).")
    if len(source) > MAX_PATTERN_CHARS:
        raise BadInput(f"The regular expression is {len(source):,} characters long; the limit is {MAX_PATTERN_CHARS}.")
    try:
        return regex.compile(source)
    except regex.error as error:
        raise BadInput(f"The regular expression does not compile: {error}.") from error


def regex_mask(text: str, source: str) -> np.ndarray:
    """True for every character inside a match of ``source`` (empty matches mark nothing)."""
    pattern = compile_pattern(source)
    mask = np.zeros(len(text), bool)
    try:
        for match in pattern.finditer(text, timeout=REGEX_SECONDS):
            mask[match.start():match.end()] = True
    except TimeoutError as error:
        raise BadInput(f"The regular expression took over {REGEX_SECONDS:g} s on the passage and was stopped "
                       "(nested repeats such as (a+)+ can take forever); simplify it.") from error
    return mask


def selection_source(selected: str) -> str:
    """The regular expression matching a selected span wherever it occurs."""
    if len(selected) < MIN_SELECTION:
        raise BadInput("Select at least two characters of the text (drag across them, or tap the first "
                       "and then the last)." if not selected else
                       f"One character ({selected!r}) is too little to find a pattern; select at least two.")
    return regex.escape(selected)


def shape_source(selected: str) -> str:
    """A regular expression for text shaped like ``selected``: runs of lowercase or capital
    letters or digits, spaces and punctuation as they are (``MERCAT:`` gives ``\\p{Lu}+:``)."""
    selection_source(selected)
    parts: list[str] = []
    for ch in selected:
        if ch.isupper():
            part = r"\p{Lu}+"
        elif ch.isalpha():
            part = r"\p{Ll}+"
        elif ch.isdigit():
            part = r"\d+"
        elif ch == "\n":
            part = r"\n"
        elif ch.isspace():
            part = r"[ \t]+"
        else:
            part = regex.escape(ch)
        if not parts or part != parts[-1] or not part.endswith("+"):
            parts.append(part)
    return "".join(parts)


def pattern_source(kind: str, value: str = "") -> tuple[str, str]:
    """(regular expression, words) for a described pattern, a selection or a typed expression."""
    shown = f"{value[:40]!r}{'…' if len(value) > 40 else ''}"
    if kind == "selection":
        return selection_source(value), f"the selected text {shown}"
    if kind == "shape":
        source = shape_source(value)
        return source, f"text shaped like {shown} ({source})"
    if kind == "regex":
        compile_pattern(value)
        return value, f"the regular expression {value!r}"
    if kind not in PATTERNS:
        raise BadInput(f"Unknown pattern {kind!r}.")
    words, source = PATTERNS[kind]
    return source, words


def check_mask(mask: np.ndarray, words: str, where: str) -> None:
    inside = int(mask.sum())
    if inside == 0:
        raise BadInput(f"{words[0].upper() + words[1:]} matches nothing in the {where} ({len(mask):,} characters); "
                       "try another pattern.")
    if inside == len(mask):
        raise BadInput(f"{words[0].upper() + words[1:]} matches every character of the {where}: there is no "
                       "outside to tell it from.")


def _histograms(codes: np.ndarray, rows: np.ndarray | None = None, block: int = 4096) -> np.ndarray:
    """(units, LEVELS) counts of each unit's codes over ``rows`` (all rows if None)."""
    units = codes.shape[1]
    offsets = (np.arange(units, dtype=np.int64) * LEVELS)[None, :]
    counts = np.zeros(units * LEVELS, np.int64)
    selected = np.arange(len(codes)) if rows is None else rows
    for begin in range(0, len(selected), block):
        part = codes[selected[begin:begin + block]]
        counts += np.bincount((part.astype(np.int64) + offsets).ravel(), minlength=units * LEVELS)
    return counts.reshape(units, LEVELS)


def separation(values: Quantized, mask: np.ndarray, totals: np.ndarray | None = None) -> np.ndarray:
    """2·AUC − 1 per column: how well each unit's value tells the marked characters from the rest
    (ties count half)."""
    inside = _histograms(values.codes, np.flatnonzero(mask))
    total = totals if totals is not None else _histograms(values.codes)
    outside = total - inside
    n_in, n_out = int(mask.sum()), int(len(mask) - mask.sum())
    below = np.cumsum(outside, axis=1) - outside  # outside characters in lower levels
    auc = (inside * (below + 0.5 * outside)).sum(axis=1) / (n_in * n_out)
    return 2.0 * auc - 1.0


@dataclass
class Ranked:
    column: int  # layer · units + unit in the passage's values
    layer: int
    unit: int
    score: float  # separation on the passage
    held_out: float | None  # separation on the held-out passage (None without matches there)


@dataclass
class Finding:
    words: str
    signal: str
    ranked: list[Ranked]
    chance: float  # the best |separation| with the marks moved along the passage
    inside: int
    total: int
    held_out_inside: int


def find_units(passage: str, values: Quantized, held_out: str, held_values: Quantized, units: int,
               source: str, words: str, top: int = 10, totals: np.ndarray | None = None) -> Finding:
    """Rank every unit of ``values`` (one signal, all layers side by side) for the pattern."""
    mask = regex_mask(passage, source)
    check_mask(mask, words, "corpus passage")
    scores = separation(values, mask, totals)
    order = np.argsort(-np.abs(scores))[:top]
    held_mask = regex_mask(held_out, source)
    held = None
    if 0 < held_mask.sum() < len(held_mask):
        held = separation(Quantized(held_values.codes[:, order], held_values.signal), held_mask)
    moved = np.roll(mask, len(mask) // 2 + 17)  # off any short period the text may have
    chance = float(np.abs(separation(values, moved, totals)).max()) if 0 < moved.sum() < len(moved) else 0.0
    ranked = [Ranked(int(column), int(column) // units, int(column) % units, float(scores[column]),
                     None if held is None else float(held[index])) for index, column in enumerate(order)]
    return Finding(words, values.signal, ranked, chance, int(mask.sum()), len(mask), int(held_mask.sum()))


def totals_of(values: Quantized) -> np.ndarray:
    """Every unit's histogram over the whole passage (the same for every pattern: compute once)."""
    return _histograms(values.codes)


#: How much of the corpus the finder reads: a passage from the start of the training part, and the
#: start of the held-out part.
PASSAGE_CHARS = 40_000
HELD_OUT_CHARS = 10_000
CONTEXT_CHARS = 100


@dataclass
class Passages:
    text: str
    context: str
    held_out: str
    held_context: str


def corpus_passages(text: str, validation_split: float, passage_chars: int = PASSAGE_CHARS,
                    held_chars: int = HELD_OUT_CHARS) -> Passages:
    """The passage the finder ranks on (the start of the training part) and the held-out one (the
    start of the part held out from training), each with the text just before it."""
    cut = int(round(len(text) * (1 - validation_split)))
    return Passages(text[:min(cut, passage_chars)], "", text[cut:cut + held_chars],
                    text[max(0, cut - CONTEXT_CHARS):cut])


def window_around(mask: np.ndarray, width: int, before: int = 60) -> slice:
    """A stretch of ``width`` characters starting a little before the first marked one."""
    marked = np.flatnonzero(mask)
    start = max(0, (int(marked[0]) if len(marked) else 0) - before)
    start = max(0, min(start, len(mask) - width))
    return slice(start, min(len(mask), start + width))
