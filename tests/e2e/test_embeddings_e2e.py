"""Embeddings in a real browser: PCA in 3-D with ten colours; t-SNE shows frames before it ends."""
from __future__ import annotations

import re
import time

from tests.e2e.conftest import open_page, screenshot, wait_until_idle

TRACES_JS = "() => { const p = document.querySelector('.js-plotly-plot'); return p && p.data ? " \
            "p.data.map(t => t.type + ':' + (t.marker && t.marker.color)) : []; }"


def test_pca_in_3d_then_tsne_with_intermediate_frames(page):
    open_page(page, "embeddings", wait_for_text="Vectors from")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("() => { const p = document.querySelector('.js-plotly-plot'); return p && p.data && p.data.length >= 10; }",
                           timeout=60_000)
    traces = page.evaluate(TRACES_JS)
    scatter = [t for t in traces if t.startswith("scatter3d")]
    assert len(scatter) == 10 and len({t.split(":")[1] for t in scatter}) == 10
    screenshot(page, "embeddings-pca-3d")

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
