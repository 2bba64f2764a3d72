"""The Text page's finder (issue 32 §2, after LSTMVis): the units whose cell or hidden value
follows a pattern over a long passage of the corpus, scored again on held-out text."""
from __future__ import annotations

import streamlit as st

from core.errors import AppError
from core.text import corpus as corpora
from core.text.finder import HELD_OUT_CHARS, PASSAGE_CHARS, PATTERNS, corpus_passages, find_units, pattern_source, regex_mask, totals_of, window_around
from core.text.gates import NAMES, RANGES, text_ids
from core.text.reading import products_precision, read_passages
from views.state import kept
from views.text.strips import char_strips, row

PENDING = "text_pending_unit"
KIND = "text_find_kind"
ASKED = "text_find_asked"  # the learner asked the finder for a ranking in this session
SHOWN_UNITS = 5
WINDOW = 320
KINDS = {"selection": "the text selected above, exactly",
         "shape": "text shaped like the selection (runs of capitals, small letters, digits)",
         **{name: words for name, (words, _) in PATTERNS.items()},
         "regex": "a regular expression"}


@st.cache_resource(max_entries=2, show_spinner=False)
def read_corpus(_model, model_tag: str, corpus_name: str, validation_split: float) -> dict:
    """The model's c and h over the corpus passage and the held-out one (once per model)."""
    passages = corpus_passages(corpora.load_text(corpus_name), validation_split)
    ids = {name: text_ids(_model.vocab, getattr(passages, name))[1]
           for name in ("text", "context", "held_out", "held_context")}
    precision = products_precision()
    (c, h), (held_c, held_h) = read_passages(_model, [(ids["text"], ids["context"]),
                                                     (ids["held_out"], ids["held_context"])], precision=precision)
    texts = {name: text_ids(_model.vocab, getattr(passages, name))[0] for name in ("text", "held_out")}
    return {"text": texts["text"], "held_out": texts["held_out"], "values": {"c": c, "h": h},
            "precision": precision,
            "held": {"c": held_c, "h": held_h}, "totals": {"c": totals_of(c), "h": totals_of(h)}}


def pattern_inputs(selected: str | None) -> tuple[str, str] | None:
    """The pattern's kind and its text (a selection or a regular expression), or None to wait."""
    cols = st.columns([2, 3])
    if KIND not in st.session_state:  # the gates view above sets it when a span is selected
        st.session_state[KIND] = "selection" if selected else "line_start"
    kind = cols[0].selectbox("Pattern", list(KINDS), format_func=KINDS.get, on_change=asked, **kept(KIND))
    value = ""
    if kind in ("selection", "shape"):
        if selected is None:
            cols[1].info("Select a span of the text above: drag across it, or tap its first and then its last "
                         "character.", icon=":material/touch_app:")
            return None
        value = selected
        cols[1].markdown(f"Wherever **{selected[:60]!r}** occurs in the passage" +
                         (", or text of its shape." if kind == "shape" else "."))
    elif kind == "regex":
        value = cols[1].text_input("Regular expression", r"[A-Z]{2,}", **kept("text_find_regex"),
                                   help="Python syntax; the characters inside each match count as inside.")
    return kind, value


def asked() -> None:
    st.session_state[ASKED] = True


def waits_to_be_asked(kind: str) -> bool:
    """The ranking needs the model to read the corpus passage first, seconds for a large model, and
    a page run cannot be interrupted while it reads: so the first reading waits until the learner
    asks (a pattern picked, a span selected, or the button), instead of holding up their first
    Generate on every fresh page."""
    if st.session_state.get(ASKED) or kind == "selection":
        return False
    cols = st.columns([2, 3], vertical_alignment="center")
    cols[0].button("Rank the units", icon=":material/sort:", key="text_find_go", on_click=asked)
    cols[1].caption(f"The model first reads {PASSAGE_CHARS + HELD_OUT_CHARS:,} characters of the corpus (once per "
                    "model), then ranks every unit of every layer for the pattern.")
    return True


def finder_section(model, job, selected: str | None) -> None:
    st.markdown("#### Find the cells that follow a pattern")
    st.caption("After LSTMVis (Strobelt et al.): mark characters as *inside* a pattern, and every unit of every "
               "layer is ranked by how well its value after each character tells inside from outside, over "
               "a long passage of the corpus; each is scored again on text held out from training. "
               "**Most units are not interpretable**: their values mix many things, and most patterns have no unit "
               "of their own — a high rank over a few hundred characters can be luck, so read the held-out "
               "score and the chance line.")
    chosen = pattern_inputs(selected)
    if chosen is None:
        return
    kind, value = chosen
    if waits_to_be_asked(kind):
        return
    signal = st.radio("Rank units by", ["c", "h"], format_func=lambda s: f"{NAMES[s]} {s}", horizontal=True,
                      **kept("text_find_signal"))
    try:
        source, words = pattern_source(kind, value)
        with st.spinner("The model reads the corpus passage (once per model)…"):
            data = read_corpus(model, job.key, job.config["corpus"], float(job.config["validation_split"]))
        finding = find_units(data["text"], data["values"][signal], data["held_out"], data["held"][signal],
                             model.units, source, words, top=10, totals=data["totals"][signal])
    except AppError as error:
        st.error(str(error), icon=":material/error:")
        if kind == "selection" and "matches nothing" in str(error):
            st.caption("The exact text may never recur: try “text shaped like the selection” in the list above.")
        return
    st.markdown(f"**{finding.words[0].upper() + finding.words[1:]}**: {finding.inside:,} of {finding.total:,} "
                f"characters of the passage are inside ({finding.held_out_inside:,} of "
                f"{len(data['held_out']):,} in the held-out text)."
                + (" It does not occur in the held-out text, so no unit can be scored there: "
                   "read the ranking against the chance line below." if not finding.held_out_inside else ""))
    held = finding.held_out_inside > 0
    table = [{"unit": f"layer {r.layer + 1} · unit {r.unit}", "separation (passage)": round(r.score, 3),
              **({"separation (held out)": None if r.held_out is None else round(r.held_out, 3)} if held else {}),
              "inside, the value is": "higher" if r.score > 0 else "lower"} for r in finding.ranked]
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"Separation = 2·AUC − 1: +1 when every inside character gets a higher {signal} than every outside "
               "one, −1 when every one gets a lower, 0 for no better than chance. Chance line: with the same "
               f"marks moved half the passage along, the best unit still reaches ±{finding.chance:.2f}.")
    top = finding.ranked[:SHOWN_UNITS]
    mask = regex_mask(data["text"], source)
    window = window_around(mask, WINDOW)
    low, high = RANGES[signal]
    rows = [row(f"{r.layer + 1}·{r.unit}", f"L{r.layer + 1} u{r.unit}",
                data["values"][signal].values([r.column], rows=window)[:, 0], low, high,
                title=f"{NAMES[signal]} {signal} of layer {r.layer + 1}, unit {r.unit}") for r in top]
    st.markdown(f"**The top {len(top)} units over the passage** (characters {window.start:,}–{window.stop:,}; "
                "inside characters underlined in green)")
    st.caption("Values as the reading keeps them, one byte each (256 levels)" +
               ("; its matrix products round h, the weights and each product to bfloat16 (8 significant bits), which "
                "this CPU multiplies faster than float32: some values move by a level or two, and in the project's tests "
                "the best units rank as in float32." if
                data["precision"] == "bfloat16" else "."))
    char_strips(data["text"][window], rows, key="text_finder_strips", marks=mask[window])
    names = [f"layer {r.layer + 1} · unit {r.unit}" for r in top]
    cols = st.columns([2, 1], vertical_alignment="bottom")
    pick = cols[0].selectbox("Show a unit's gates in the view above", names, key="text_find_pick")
    if cols[1].button("Show its gates", key="text_find_show", icon=":material/arrow_upward:"):
        picked = top[names.index(pick)]
        st.session_state[PENDING] = (picked.layer, picked.unit)  # set before those widgets run again
        st.rerun()
