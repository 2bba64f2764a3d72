"""Draw the home page's five pictures from the bundled data (run once; PNGs are committed)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.data import load_mnist, load_shakespeare  # noqa: E402
from core.paths import ASSETS  # noqa: E402

OUT = ASSETS / "images"
W, H = 480, 270
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def draw_page(mnist) -> Image.Image:
    canvas = Image.new("RGB", (W, H), (244, 246, 250))
    digit = Image.fromarray(mnist.x_test[0]).resize((220, 220), Image.NEAREST).convert("RGB")
    canvas.paste(digit, (20, 25))
    draw = ImageDraw.Draw(canvas)
    probs = np.array([0.01, 0.0, 0.02, 0.01, 0.0, 0.0, 0.0, 0.93, 0.01, 0.02])
    for d, p in enumerate(probs):
        x = 265 + d * 20
        top = 235 - int(p * 200)
        draw.rectangle([x, max(top, 230 - 200), x + 14, 235], fill=(242, 107, 29) if d == 7 else (160, 170, 190))
        draw.text((x + 3, 240), str(d), fill=(30, 36, 48))
    return canvas


def playground_page() -> Image.Image:
    xs, ys = np.meshgrid(np.linspace(-6, 6, W // 2), np.linspace(-6, 6, H))
    r = np.sqrt(xs**2 + ys**2)
    value = np.tanh(3.2 - r)
    orange = np.array([245, 147, 34]); blue = np.array([8, 119, 189]); white = np.array([232, 234, 235])
    t = (value[..., None] + 1) / 2
    img = np.where(t > 0.5, white + (blue - white) * (t - 0.5) * 2, orange + (white - orange) * t * 2)
    canvas = Image.new("RGB", (W, H), (244, 246, 250))
    canvas.paste(Image.fromarray(img.astype(np.uint8)), (W // 2, 0))
    draw = ImageDraw.Draw(canvas)
    rng = np.random.default_rng(0)
    for _ in range(120):
        angle, radius = rng.uniform(0, 2 * np.pi), rng.choice([rng.uniform(0, 2), rng.uniform(3.5, 5)])
        px = W // 2 + (np.cos(angle) * radius + 6) / 12 * (W // 2)
        py = (np.sin(angle) * radius + 6) / 12 * H
        color = (8, 119, 189) if radius < 3 else (245, 147, 34)
        draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=color, outline=(255, 255, 255))
    layers = [2, 4, 4, 1]
    for li, n in enumerate(layers):
        for ni in range(n):
            x = 30 + li * 60
            y = H / 2 + (ni - (n - 1) / 2) * 45
            if li + 1 < len(layers):
                m = layers[li + 1]
                for nj in range(m):
                    y2 = H / 2 + (nj - (m - 1) / 2) * 45
                    w = rng.normal()
                    draw.line([x + 12, y, x + 48, y2], fill=(8, 119, 189) if w > 0 else (245, 147, 34),
                              width=1 + int(abs(w) * 2))
            draw.rectangle([x - 12, y - 12, x + 12, y + 12], fill=(255, 255, 255), outline=(60, 60, 60))
    return canvas


def text_page(text: str) -> Image.Image:
    canvas = Image.new("RGB", (W, H), (253, 251, 245))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=15)
    lines = text[:600].splitlines()[:12]
    rng = np.random.default_rng(3)
    for i, line in enumerate(lines):
        x = 16
        for ch in line[:52]:
            heat = rng.uniform(0, 1)
            draw.rectangle([x, 12 + i * 21, x + 8, 30 + i * 21],
                           fill=(int(255 - 60 * heat), int(255 - 20 * heat), int(255 - 90 * (1 - heat))))
            draw.text((x, 13 + i * 21), ch, fill=(30, 36, 48), font=font)
            x += 8.6
    return canvas


def embeddings_page(mnist) -> Image.Image:
    from sklearn.decomposition import PCA

    x = mnist.x_test[:1500].reshape(1500, -1) / 255.0
    y = mnist.y_test[:1500]
    xy = PCA(2, random_state=0).fit_transform(x)
    xy = (xy - xy.min(0)) / (xy.max(0) - xy.min(0))
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for (px, py), label in zip(xy, y):
        cx, cy = 20 + px * (W - 40), 15 + py * (H - 30)
        draw.ellipse([cx - 2.5, cy - 2.5, cx + 2.5, cy + 2.5], fill=PALETTE[label])
    return canvas


def runs_page() -> Image.Image:
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    rng = np.random.default_rng(1)
    for run, color in enumerate([(242, 107, 29), (31, 119, 180), (44, 160, 44)]):
        steps = np.arange(200)
        loss = (1.5 + run * 0.3) * np.exp(-steps / (30 + 20 * run)) + 0.1 + rng.normal(0, 0.04, 200)
        smooth = np.convolve(loss, np.ones(9) / 9, mode="same")
        pts = [(30 + s * 2.1, 250 - v * 110) for s, v in zip(steps, loss)]
        draw.line(pts, fill=tuple(int(c * 0.35 + 255 * 0.65) for c in color), width=1)
        draw.line([(30 + s * 2.1, 250 - v * 110) for s, v in zip(steps[5:-5], smooth[5:-5])], fill=color, width=3)
    draw.line([30, 250, 460, 250], fill=(80, 80, 80)); draw.line([30, 20, 30, 250], fill=(80, 80, 80))
    return canvas


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    mnist = load_mnist()
    draw_page(mnist).save(OUT / "draw.png", optimize=True)
    playground_page().save(OUT / "playground.png", optimize=True)
    text_page(load_shakespeare()).save(OUT / "text.png", optimize=True)
    embeddings_page(mnist).save(OUT / "embeddings.png", optimize=True)
    runs_page().save(OUT / "runs.png", optimize=True)


if __name__ == "__main__":
    main()
