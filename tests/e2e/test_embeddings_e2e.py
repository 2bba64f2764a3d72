"""Embeddings in a real browser: PCA in 3-D with ten colours; t-SNE shows frames before it ends."""
from __future__ import annotations

import re
import time

from tests.e2e.conftest import open_page, screenshot, wait_until_idle

# Where point i of the first map is on screen (Plotly keeps typed arrays under _inputArray).
POINT_JS = """(i) => { const gd = document.querySelector('.js-plotly-plot'); const full = gd._fullLayout;
  const values = a => Array.from(a && a._inputArray ? a._inputArray : a || []);
  for (const trace of gd.data) { const k = values(trace.customdata).indexOf(i); if (k < 0) continue;
    const box = gd.getBoundingClientRect();
    return [box.left + full._size.l + full.xaxis.l2p(values(trace.x)[k]),
            box.top + full._size.t + full.yaxis.l2p(values(trace.y)[k])]; }
  return null; }"""
TRACES_JS = ("() => { const p = document.querySelector('.js-plotly-plot'); return p && p.data ? "
             "p.data.filter(t => !t.name.startsWith('chosen'))"
             ".map(t => t.type + ':' + (t.marker && t.marker.color)) : []; }")


def test_pca_in_3d_then_tsne_with_intermediate_frames(page):
    open_page(page, "embeddings", wait_for_text="Vectors from")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("() => { const p = document.querySelector('.js-plotly-plot'); "
                           "return p && p.data && p.data.length >= 10; }",
                           timeout=60_000)
    traces = page.evaluate(TRACES_JS)
    scatter = [t for t in traces if t.startswith("scatter3d")]
    assert len(scatter) == 10 and len({t.split(":")[1] for t in scatter}) == 10
    screenshot(page, "embeddings-pca-3d")

    # On a 2-D map a click picks the point whose neighbours are shown.
    page.get_by_text("3-D", exact=True).click()
    wait_until_idle(page)
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("() => { const p = document.querySelector('.js-plotly-plot'); "
                           "return p && p.data && p.data.some(t => t.type === 'scattergl'); }", timeout=60_000)
    wait_until_idle(page)
    page.mouse.click(*page.evaluate(POINT_JS, 123))
    picker = page.get_by_label("Point index (see the hover text)", exact=True)
    page.wait_for_function("() => [...document.querySelectorAll('input')].some(i => i.value === '123')",
                           timeout=30_000)
    wait_until_idle(page)
    assert picker.input_value() == "123"
    assert page.get_by_text(re.compile(r"^#123: label \d")).count() == 1
    screenshot(page, "embeddings-picked-point")

    page.get_by_text("3-D", exact=True).click()
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("t-SNE", exact=True).click()
    wait_until_idle(page)
    size = page.get_by_label("Points (test images first, then training images)", exact=True)
    size.fill("600")
    size.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name="Run").click()
    progress, seen, started = page.get_by_text(re.compile(r"t-SNE (optimising|finished)")), [], time.time()
    while time.time() - started < 120:
        if progress.count():
            text = progress.first.inner_text()
            if not seen or seen[-1] != text:
                seen.append(text)
            if "finished" in text:
                break
        time.sleep(0.1)
    intermediate = [t for t in seen if "optimising" in t]
    assert len(set(intermediate)) >= 2, seen
    assert "finished" in seen[-1], seen
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1")
    screenshot(page, "embeddings-tsne")
