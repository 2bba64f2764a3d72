"""Draw's "Make it fail" section: the smallest change (within a budget) that makes the network read
your drawing as something else, whether the other networks fall for it too, and what it means."""
from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.digits.attack import DEFAULT_BUDGET, LEAD, MAX_BUDGET, NORMS, STEPS, Attack, attack
from core.errors import AppError
from core.training.jobs import CANCELLED, FAILED
from views.common import manager
from views.draw.inside_pictures import PLAIN, grey_picture, side_by_side, signed_picture
from views.draw.networks import classes_of, kind_and_config, reader_of, title, trained_job
from views.state import kept

RESULT = "draw_attack"  # {"signature": ..., "attack": Attack}
ANYTHING = "anything else"
STEP = {"linf": 0.01, "l2": 0.1}  # the budget sliders' steps
EXPLANATION = f"""
**What the search does.** Projected gradient descent (PGD). Starting from your 28×28 drawing, each of
up to {STEPS} steps computes by backpropagation — through the network, its weights fixed — how the loss
for the target class changes with each of the 784 pixels, and moves the picture a small step the way
that lowers it (for "anything else": the way that raises the loss of the class it reads now). With an
L∞ budget ε every pixel with a gradient moves by the same small amount, following the sign of its
gradient, and is then put back within ±ε of your drawing; with L2 the picture moves a fixed length along the gradient, and the
whole change is shrunk back to length ε if it grew longer. Pixels stay between 0 (black) and 1 (white).
The search stops as soon as the network reads the target (for "anything else": any other class), ahead
of every other class by at least {round(LEAD * 100)} percentage points, so the change shown is no bigger than
the search needed.

**Why a small change can be enough.** The output depends on all 784 pixels at once. Near your drawing
the network behaves almost linearly, so nudging every pixel by a tiny ε in the direction of its gradient
moves the target's log-probability by about ε times the sum of the sizes of all 784 gradients: many
small nudges add up
(Goodfellow et al., 2015). The network only ever learned from pictures that look like MNIST digits;
nothing in that training tells it how to respond to faint patterns spread over the whole picture, so
nothing stops them from pushing the output across a decision boundary.

**What it does not mean.** Not that the network "sees" the new class, nor that the change looks like it
to a person, nor that the network is useless: it reads real drawings well. It is a search for a bad
case with full access to the network's gradients (a *white-box* attack). With a budget large enough you can
simply draw another digit, which is no longer a small change: look at the change next to the drawing.
A change found for one network often fools others too (it *transfers*), but less reliably — pick more
networks above to see.

**The usual defence** is adversarial training: train on examples found by this very search, made afresh
for every batch, so the network learns to read them right (Madry et al., 2018). It makes a network much
harder to fool within the budget it trained for, at the cost of several times the training time and
usually some accuracy on clean digits. Tricks that only hide the gradient (blurring or rounding the
input) tend to fail against an attacker who knows about them.
"""


def signature(job, digit: np.ndarray, target, norm: str, budget: float) -> tuple:
    return (job.key, hashlib.sha1(np.ascontiguousarray(digit, np.float32).tobytes()).hexdigest(),
            target, norm, round(float(budget), 4))


def why_not_ready(arch: str) -> str:
    """Why the network cannot be attacked yet, in words."""
    job = manager().find(*kind_and_config(arch))
    if job is None or job.status in (FAILED, CANCELLED):
        return f"Train {title(arch)} first (above): the search needs its trained weights."
    return (f"{title(arch)} is still training: the search needs its finished weights. It starts as soon "
            "as the training above is done.")


def attack_section(chosen: list[str], digit: np.ndarray | None) -> None:
    """The section for the chosen networks (the first is attacked) and the current 28×28 drawing."""
    state = st.session_state
    primary = chosen[0]
    st.markdown(f"**Make it fail** — ask for a small change to your drawing, within a budget you set, that "
                f"makes {title(primary)} read it as something else. The search uses the network's own "
                "gradients.")
    with st.expander("How the search works, and what it shows", icon=":material/school:"):
        st.markdown(EXPLANATION)
    job = trained_job(primary)
    if job is None:
        st.info(why_not_ready(primary), icon=":material/hourglass:")
        return
    names, noun = classes_of(job, primary)
    if digit is None:
        st.info(f"Draw a {noun} on the canvas first: the search changes your drawing.", icon=":material/draw:")
        return
    reader = reader_of(job)
    probabilities = reader.probabilities(digit)
    read = int(np.argmax(probabilities))
    target = st.pills("Make it say …", [ANYTHING, *range(len(names))], default=ANYTHING, required=True,
                      format_func=lambda o: o if o == ANYTHING else names[o], **kept("draw_attack_target"))
    if target != ANYTHING and not (isinstance(target, int) and 0 <= target < len(names)):
        target = ANYTHING  # kept from a network with more classes
    st.caption(f"{title(primary)} reads your drawing as {names[read]} ({probabilities[read]:.0%}).")
    left, right = st.columns([1, 2])
    norm = left.segmented_control("Budget", list(NORMS), format_func=NORMS.get, default="linf", required=True,
                                  help="L∞: no pixel changes by more than ε. L2: the change as a whole — "
                                       "the square root of the sum of its squares — is at most ε.",
                                  **kept("draw_attack_norm")) or "linf"
    budget = right.slider(f"ε ({NORMS[norm]})", 0.0, MAX_BUDGET[norm] if norm == "linf" else 10.0,
                          DEFAULT_BUDGET[norm], STEP[norm], **kept(f"draw_attack_budget_{norm}"),
                          help="How big a change is allowed. Pixels run from 0 (black) to 1 (white).")
    goal = None if target == ANYTHING else int(target)
    label = "Make it say anything else" if goal is None else f"Make it say {names[goal]}"
    wanted = signature(job, digit, goal, norm, budget)
    if st.button(label, icon=":material/bolt:", type="primary", key="draw_attack_run"):
        try:
            state[RESULT] = {"signature": wanted, "attack": attack(job.model(), digit, goal, norm, budget)}
        except AppError as error:
            state.pop(RESULT, None)
            st.error(str(error), icon=":material/error:")
            return
    found = state.get(RESULT)
    if not found:
        return
    if found["signature"] != wanted:
        st.caption("The drawing or the settings changed since the last search: press the button to search again.")
        return
    show_attack(found["attack"], names, primary, chosen[1:], digit)


def show_attack(result: Attack, names: list[str], primary: str, others: list[str], digit: np.ndarray) -> None:
    before, after = result.read_before, result.read_after
    wanted = "anything else" if result.target is None else names[result.target]
    if result.success:
        runner_up = int(np.argsort(result.after)[-2])
        st.success(f"{title(primary)} now reads **{names[after]}** ({result.after[after]:.0%}, ahead of "
                   f"{names[runner_up]} at {result.after[runner_up]:.0%}); it read "
                   f"{names[before]} ({result.before[before]:.0%}) before. Change: L∞ {result.linf:.3f}, "
                   f"L2 {result.l2:.2f} (budget {NORMS[result.norm]} {result.budget:g}), found in "
                   f"{result.steps} steps, {result.seconds:.2f} s.", icon=":material/bolt:")
    else:
        st.warning(f"Within {NORMS[result.norm]} {result.budget:g} the search did not make it say {wanted}: it "
                   f"still reads {names[after]} ({result.after[after]:.0%}) after {result.steps} steps. Allow "
                   "a larger change, or pick another target.", icon=":material/shield:")
    peak = float(np.abs(result.change).max())
    st.image(side_by_side([grey_picture(result.original), signed_picture(result.change, size=224),
                           grey_picture(result.changed)]), width="content",
             caption=f"your drawing ({names[before]}) · the change, amplified: full blue = +{peak:.3f} (more ink), "
                     f"full red = −{peak:.3f}, white = none · the changed drawing ({names[after]})")
    figure = go.Figure([
        go.Bar(name="your drawing", x=names, y=result.before, marker_color="#9aa5b8",
               hovertemplate="%{x}: %{y:.1%}<extra>before</extra>"),
        go.Bar(name="changed", x=names, y=result.after, marker_color="#f26b1d",
               hovertemplate="%{x}: %{y:.1%}<extra>after</extra>")])
    figure.update_layout(barmode="group", height=240, margin=dict(l=10, r=10, t=30, b=10),
                         title=dict(text=f"{title(primary)}'s probabilities", font=dict(size=13)),
                         yaxis=dict(range=[0, 1], tickformat=".0%"), xaxis=dict(type="category"),
                         legend=dict(orientation="h", y=-0.2))
    st.plotly_chart(figure, config=PLAIN, key="draw_attack_probabilities")
    transfer(result, names, others)


def transfer(result: Attack, names: list[str], others: list[str]) -> None:
    """The same changed picture, read by the other chosen networks."""
    if not others:
        st.caption("Pick more networks above to see whether the same change fools them too.")
        return
    st.markdown("**The same change, read by the other networks** (does the attack transfer?)")
    for column, arch in zip(st.columns(len(others)), others):
        job = trained_job(arch)
        with column:
            if job is None:
                st.metric(title(arch), "–", help="Not trained yet: pick it first in Networks to train it.")
                continue
            their_names, _ = classes_of(job, arch)
            reader = reader_of(job)
            was = reader.probabilities(result.original)
            now = reader.probabilities(result.changed)
            read_was, read_now = int(np.argmax(was)), int(np.argmax(now))
            if result.target is None:
                fooled = read_now != read_was
            else:
                fooled = their_names == names and read_now == result.target
            st.metric(title(arch), their_names[read_now], delta="fooled" if fooled else "not fooled",
                      delta_color="inverse" if fooled else "normal", delta_arrow="off")
            st.caption(f"before: {their_names[read_was]} ({was[read_was]:.0%}); "
                       f"after: {their_names[read_now]} ({now[read_now]:.0%})")
