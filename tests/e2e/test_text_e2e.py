"""Text page in a real browser: train on a small pasted text, write from a seed, then look inside —
the gate strips of a typed text, and a selected span ranks the units that follow it."""
from __future__ import annotations

from tests.e2e.conftest import SCREENSHOTS, open_page, screenshot, wait_until_idle, whole_page_screenshot

TEXT = ("the cat sat on the mat and the dog sat on the log. "
        "the cat ate the rat and the dog ate the frog. ") * 30
SEED = "the cat"
TYPED = "the dog sat on the mat."


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_role("spinbutton", name=label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_until_idle(page)


def train_tiny_model(page, steps: int) -> None:
    """Quick preset, shortened to ``steps``, on a pasted text: a model in seconds (each test its own
    step count, so that it trains its own model on the shared server)."""
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
    set_number(page, "Training steps", steps)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("3 · Write").wait_for(timeout=180_000)
    wait_until_idle(page)


def test_quick_train_then_generate_from_a_seed(page):
    train_tiny_model(page, 40)
    screenshot(page, "text-trained")
    seed = page.get_by_role("textbox", name="Seed text")
    seed.fill(SEED)
    seed.press("Control+Enter")
    wait_until_idle(page)
    set_number(page, "Length", 120)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_text("Every gate, per character").wait_for(timeout=60_000)
    wait_until_idle(page)
    sample = page.locator(".dlp-sample").last
    assert sample.locator(".dlp-seed").inner_text() == SEED
    assert len(sample.locator(".dlp-generated").inner_text()) == 120  # the new part, marked
    # The gates of the sample, one column per character (seed and sample, 127 characters).
    page.locator(".dlp-strips-char").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    whole_page_screenshot(page, "text-generated")


def test_gate_strips_for_a_typed_text_and_a_selected_span_ranks_units(page):
    train_tiny_model(page, 41)
    page.get_by_text("your own text", exact=True).click()
    wait_until_idle(page)
    box = page.get_by_role("textbox", name="Your text").last
    box.fill(TYPED)
    box.press("Control+Enter")
    wait_until_idle(page)
    strips = page.locator('.dlp-strips:has(.dlp-strips-char)').first
    strips.wait_for()
    chars = strips.locator(".dlp-strips-char")
    assert chars.count() == len(TYPED)
    assert "".join(chars.all_inner_texts()) == TYPED.replace(" ", "␣")
    assert strips.locator(".dlp-strips-cell").count() == 6 * len(TYPED)  # i, f, g, o, c, h under each
    # Numbers on hover: the readout names all six values after the character.
    chars.nth(4).hover()
    readout = strips.locator(".dlp-strips-readout").inner_text()
    assert readout.startswith("after character 4 ‘d’") and " f " in readout and " h " in readout
    strips.screenshot(path=str(SCREENSHOTS / "text-gate-strips.png"))
    # A click on a row of the units × characters heatmap picks that unit (256 rows: the Quick preset).
    image = page.locator(".dlp-strips-heatmap img").first
    box = image.bounding_box()
    image.click(position={"x": box["width"] / 2, "y": box["height"] * 64.5 / 256})
    page.get_by_text("Unit 64, layer 1").wait_for(timeout=60_000)
    wait_until_idle(page)
    assert page.get_by_role("spinbutton", name="Unit", exact=True).input_value() == "64"
    strips = page.locator('.dlp-strips:has(.dlp-strips-char)').first
    chars = strips.locator(".dlp-strips-char")
    # Drag across "dog": the finder ranks the units that tell it from the rest of the passage.
    chars.nth(4).hover()
    page.mouse.down()
    chars.nth(6).hover()
    page.mouse.up()
    page.get_by_text("characters of the passage are inside").wait_for(timeout=120_000)
    wait_until_idle(page)
    assert page.get_by_text("Wherever 'dog' occurs in the passage.").count() == 1
    assert strips.locator(".dlp-selected").count() == 3
    finder = page.locator('.dlp-strips:has(.dlp-marked)').first
    finder.wait_for()
    assert finder.locator(".dlp-strips-row").count() >= 2  # the text and at least one unit's strip
    assert page.locator('[data-testid="stException"]').count() == 0
    whole_page_screenshot(page, "text-finder")


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


def test_preset_and_seed_survive_a_page_switch_and_a_reload(page):
    """Issue 30 #3: a reload of Text used to reset preset and seed, hiding a training under way."""
    open_page(page, "text", wait_for_text="Text to learn from")
    page.get_by_text("Custom", exact=True).first.click()
    wait_until_idle(page)
    set_number(page, "Training seed", 7)
    set_number(page, "Training steps", 33)
    assert "text_preset=Custom" in page.url and "text_train_seed=7" in page.url  # a link reproduces it

    def settings() -> tuple:
        return (page.get_by_role("radio", name="Custom", exact=True).is_checked(),
                page.get_by_role("spinbutton", name="Training seed", exact=True).input_value(),
                page.get_by_role("spinbutton", name="Training steps", exact=True).input_value())

    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Draw", exact=True).click()
    page.get_by_text("Networks").first.wait_for(timeout=120_000)
    wait_until_idle(page)
    nav.get_by_text("Text", exact=True).click()
    page.get_by_text("Text to learn from").wait_for(timeout=120_000)
    wait_until_idle(page)
    assert settings() == (True, "7", "33"), "after a page switch"
    page.reload()
    page.get_by_text("Text to learn from").wait_for(timeout=120_000)
    wait_until_idle(page)
    assert settings() == (True, "7", "33"), "after a reload"
