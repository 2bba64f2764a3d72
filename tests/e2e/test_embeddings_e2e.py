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


MAP_3D = ".st-key-emb_map3d .js-plotly-plot"


def pick_in_3d(page) -> int:
    """Move the pointer over the 3-D map until Plotly hovers a point, then click there as a person does
    (Plotly's 3-D scene reports a click only when the button is still down at its next drawn frame, so
    an instant synthetic click is not one). Returns the point's index."""
    page.evaluate(f"""() => {{ const gd = document.querySelector('{MAP_3D}'); window.hovered = null;
        gd.on('plotly_hover', e => {{ window.hovered = e.points[0].customdata; }}); }}""")
    box = page.locator(MAP_3D).bounding_box()
    for fy in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
        for fx in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            page.wait_for_timeout(300)  # a probe's pacing, not a wait for a state: hover needs a drawn frame
            index = page.evaluate("() => window.hovered")
            if index is not None:
                page.mouse.down()
                page.wait_for_timeout(250)  # held down across Plotly's next frames (see above)
                page.mouse.up()
                return int(index[0] if isinstance(index, list) else index)
    raise AssertionError("no point of the 3-D map came under the pointer")


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

    # On a 3-D map a click picks a point too (issue 30 #11): find a point under the pointer, click it.
    index = pick_in_3d(page)
    page.wait_for_function("(i) => [...document.querySelectorAll('input')].some(e => e.value === String(i))",
                           arg=index, timeout=30_000)
    wait_until_idle(page)
    assert page.get_by_label("Point index (see the hover text)", exact=True).input_value() == str(index)
    assert page.get_by_text(f"chosen: #{index}").count() >= 1
    screenshot(page, "embeddings-picked-point-3d")

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
