"""Draw's "Teach it your handwriting": label readings, keep a gallery, fine-tune a network on it.

After a reading, one click says it was right or picks the right digit; the drawing (as the network
saw it) joins your set, kept in session state (``draw_drawings``) for the whole session and carried
elsewhere as a ``.npz`` file. "Fine-tune" starts the ``digits_finetune`` kind on the set as a
background training; the fine-tuned network then joins the Networks list beside its base.
"""
from __future__ import annotations

import streamlit as st

from core.digits.finetune import MIN_DRAWINGS, NAME as TUNED_KIND, missing
from core.digits.handwriting import DrawingSet, from_npz, keep
from core.errors import AppError
from core.training.jobs import DONE, Job
from views.draw import canvas
from views.draw.networks import CHOSEN, TUNED, arch_of, title, trained_job, tuned_entry
from views.training_widget import format_seconds, training_widget

DRAWINGS = "draw_drawings"  # your labelled drawings (a DrawingSet)
MESSAGE = "draw_teach_message"  # what the last action did, shown once: (kind, text)
LABEL = "draw_label"  # the "No, it is …" pills
SHOWN = 40  # newest drawings shown in the gallery, each with its Remove button
DIGITS = [str(d) for d in range(10)]


def drawings() -> DrawingSet:
    found = st.session_state.get(DRAWINGS)
    return found if isinstance(found, DrawingSet) else DrawingSet()


def say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def show_message() -> None:
    kind, text = st.session_state.pop(MESSAGE, (None, None))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind:
        st.toast(text, icon=":material/check_circle:")


def _add(digit, label: int) -> None:
    try:
        st.session_state[DRAWINGS] = drawings().add(digit, label)
    except AppError as error:
        return say("error", str(error))
    st.session_state["draw_canvas_id"] += 1  # a fresh canvas for the next drawing
    canvas.forget_frame()
    count = len(st.session_state[DRAWINGS])
    say("ok", f"Kept as a {label} — {count} drawing{'s' if count != 1 else ''} in your set. Draw the next one.")


def _picked(digit) -> None:
    label = st.session_state.get(LABEL)
    if label is not None:
        st.session_state[LABEL] = None
        _add(digit, int(label))


def correction_row(digit, predicted: int) -> None:
    """Under a finished reading of a digit: it was right, or which digit it really is."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(f"Right, it is a {predicted}", icon=":material/check:", key="draw_right",
                  on_click=_add, args=(digit, predicted),
                  help="Keep this drawing, labelled, in your set (see “Your handwriting” below).")
        st.pills("No, it is", DIGITS, key=LABEL, on_change=_picked, args=(digit,),
                 help="Keep this drawing with the digit it really is.")


def _remove(index: int) -> None:
    st.session_state[DRAWINGS] = drawings().remove(index)


def _merge_upload() -> None:
    upload = st.session_state.get("draw_set_upload")
    if upload is None:
        return
    try:
        before = drawings()
        merged = before.merged(from_npz(upload.getvalue()))
    except AppError as error:
        return say("error", f"{upload.name}: {error}")
    st.session_state[DRAWINGS] = merged
    say("ok", f"Added {len(merged) - len(before)} drawings from {upload.name}; your set holds {len(merged)}.")


def gallery(collected: DrawingSet) -> None:
    if not len(collected):
        st.info("No drawings yet. Draw a digit, then say under the Prediction whether it was right: "
                "each answer keeps the drawing here, labelled.", icon=":material/gesture:")
    else:
        counts = ", ".join(f"{d}: {n}" for d, n in enumerate(collected.counts()) if n)
        st.caption(f"{len(collected)} drawings, newest first (per digit — {counts}). Each is shown as the "
                   "network sees it, 28×28.")
        with st.container(horizontal=True, gap="small"):
            for index in range(len(collected) - 1, max(-1, len(collected) - 1 - SHOWN), -1):
                with st.container(width=64, gap=None, horizontal_alignment="center"):
                    st.image(collected.digits[index], caption=str(collected.labels[index]), width=56, clamp=True)
                    st.button("Remove", key=f"draw_remove_{index}", type="tertiary", on_click=_remove,
                              args=(index,), help=f"Remove this {collected.labels[index]} from your set")
        if len(collected) > SHOWN:
            st.caption(f"… and {len(collected) - SHOWN} earlier drawings (download the set to see them all).")
    left, right = st.columns(2)
    left.download_button("Download the set (.npz)", collected.to_npz(), file_name="my-digits.npz",
                         mime="application/octet-stream", icon=":material/download:", disabled=not len(collected),
                         help="Keep it beyond this session, or bring it to a class: arrays 'digits' "
                              "(N×28×28 in 0–1) and 'labels' (N digits).")
    right.file_uploader("Add a set (.npz)", type=["npz"], key="draw_set_upload", on_change=_merge_upload,
                        help="A set downloaded here (yours or a class's): its drawings join yours.")


def _read_with(network: str) -> None:
    chosen = [n for n in st.session_state.get(CHOSEN, []) if n != network]
    st.session_state[CHOSEN] = [network] + chosen


def finetune_report(record: dict) -> None:
    """Before and after, as the training measured them."""
    report = record.get("finetune", {})
    before, after = report.get("before", {}), report.get("after", {})
    held, mnist = after.get("held_out_accuracy"), after.get("mnist_accuracy")
    left, right = st.columns(2)
    if held is not None:
        left.metric(f"Your {report.get('held_out')} held-out drawings", f"{held:.0%}",
                    f"{(held - before['held_out_accuracy']) * 100:+.0f} points from {before['held_out_accuracy']:.0%}",
                    help="Drawings set aside before fine-tuning and never trained on.")
    if mnist is not None:
        right.metric("MNIST's 10,000 test digits", f"{mnist:.2%}",
                     f"{(mnist - before['mnist_accuracy']) * 100:+.2f} points from {before['mnist_accuracy']:.2%}",
                     help="A drop here is forgetting: what learning your style cost on MNIST.")
    replay = ("mixed with replayed MNIST training digits" if report.get("replay") else
              "without replayed MNIST digits — so it could forget MNIST")
    st.caption(f"How it was measured: every third drawing of each digit ({report.get('held_out')} of "
               f"{report.get('drawings')}) was set aside before fine-tuning; the network learned from the other "
               f"{report.get('trained_on')}, lightly shifted, rotated and rescaled, {replay}, in "
               f"{format_seconds(report.get('seconds'))}. Only its dense layers learned.")


def finetune_panel(primary: str, collected: DrawingSet) -> None:
    entry = tuned_entry(primary)
    base = arch_of(primary)
    base_job: Job | None = trained_job(base) if entry is None else None
    base_key = entry.config["base"] if entry is not None else (base_job.key if base_job is not None else None)
    if base_key is None:
        st.info(f"{title(base)} is not trained yet, or still training: fine-tune it once it is ready.",
                icon=":material/hourglass_top:")
        return
    if base_job is not None and base_job.config.get("dataset", "mnist") != "mnist":
        st.info("Fine-tuning on your digits needs a network trained on MNIST's digits.")
        return
    need = missing(collected)
    if need:
        st.info(f"Fine-tuning needs at least {MIN_DRAWINGS} labelled drawings (every third one of each digit "
                f"is set aside to measure the result honestly): draw {need} more.", icon=":material/gesture:")
        return
    replay = st.toggle("Replay MNIST digits", value=True, key="draw_replay",
                       help="Mix MNIST training digits into the fine-tuning so the network keeps what it knew. "
                            "Off, it learns only your drawings: watch its MNIST accuracy drop (catastrophic "
                            "forgetting).")
    config = {"base": base_key, "arch": base, "drawings": keep(collected), "replay": replay}
    job = training_widget(TUNED_KIND, config, "draw_finetune",
                          label=f"Fine-tune {title(base)} on my {len(collected)} drawings",
                          not_trained="It continues the stored network on your drawings as a background "
                                      "training, then measures it before and after.",
                          curve_title="Fine-tuning", curve_metrics=("loss", "accuracy"))
    if job is not None and job.status == DONE and job.entry is not None:
        finetune_report(job.entry.record)
        network = TUNED + job.key
        st.button(f"Read with {job.entry.record.get('title')}", icon=":material/swap_horiz:",
                  on_click=_read_with, args=(network,), key="draw_read_with",
                  help="Make it the first network in Networks: it gives the Prediction.")


def teach_section(primary: str, noun: str) -> None:
    st.markdown("**Teach it your handwriting.** Each time you say whether a reading was right, the drawing "
                "joins your set below. Fine-tune the network on it, then see whether it reads your style "
                "better — and what it forgot.")
    show_message()
    if noun != "digit":
        st.info("Teaching works with networks that read digits (trained on MNIST).")
        return
    collected = drawings()
    gallery(collected)
    finetune_panel(primary, collected)
