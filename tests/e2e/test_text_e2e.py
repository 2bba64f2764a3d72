"""Text page in a real browser: Quick preset on a small pasted text, train, seed, generate."""
from __future__ import annotations

from tests.e2e.conftest import open_page, screenshot, wait_until_idle

TEXT = ("the cat sat on the mat and the dog sat on the log. "
        "the cat ate the rat and the dog ate the frog. ") * 30
SEED = "the cat"


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_role("spinbutton", name=label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_until_idle(page)


def test_quick_train_then_generate_from_a_seed(page):
    open_page(page, "text", wait_for_text="Text to learn from")
    page.get_by_text("Paste text", exact=True).click()
    wait_until_idle(page)
    area = page.get_by_role("textbox", name="Your text")
    area.fill(TEXT)
    area.press("Control+Enter")
    page.get_by_text("Vocabulary", exact=True).first.wait_for()
    wait_until_idle(page)
    page.get_by_text("Quick", exact=True).first.click()
    wait_until_idle(page)
    set_number(page, "Window (characters)", 24)
    set_number(page, "Training steps", 40)
    screenshot(page, "text-corpus-and-settings")
    page.get_by_role("button", name="Train", exact=True).click()
    try:
        page.get_by_text("3 · Write").wait_for(timeout=120_000)
    finally:
        screenshot(page, "text-after-train")
    wait_until_idle(page)
    screenshot(page, "text-trained")
    seed = page.get_by_role("textbox", name="Seed text")
    seed.fill(SEED)
    seed.press("Control+Enter")
    wait_until_idle(page)
    set_number(page, "Length", 120)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("A look inside").wait_for(timeout=60_000)
    wait_until_idle(page)
    code = page.locator('[data-testid="stCode"]').filter(has_text=SEED).last
    text = code.inner_text().strip()
    assert text.startswith(SEED), text
    assert len(text) > len(SEED) + 50
    screenshot(page, "text-generated")
    page.get_by_text("The text coloured by one hidden unit").scroll_into_view_if_needed()
    page.locator('[data-testid="stPlotlyChart"]').last.wait_for()
    screenshot(page, "text-look-inside")


def test_sequences_tab_learns_a_wave_and_plots_the_forecast(page):
    open_page(page, "text", wait_for_text="Text to learn from")
    page.get_by_role("tab", name="Sequences").click()
    page.get_by_text("Noise", exact=True).first.wait_for()
    wait_until_idle(page)
    assert page.get_by_text("Text to learn from").count() == 0  # only the open tab runs
    set_number(page, "Training steps", 150)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Forecast error (MSE)").wait_for(timeout=120_000)
    wait_until_idle(page)
    traces = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".flatMap(p => (p.data || []).map(t => t.name))")
    assert "forecast (running alone)" in traces and "held out (truth)" in traces, traces
    screenshot(page, "text-sequences")
