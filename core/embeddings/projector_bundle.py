"""A TensorBoard projector bundle: tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt.

TensorBoard's projector reads these from a log directory (``tensorboard --logdir <folder>``,
then the Projector tab), or they can be loaded by hand in projector.tensorflow.org.
"""
from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

MAX_SPRITE_SIDE = 8192  # TensorBoard's limit for the sprite image


def sprite(images: np.ndarray) -> Image.Image:
    """A square grid of 28×28 thumbnails, row by row, as TensorBoard expects."""
    images = np.asarray(images, dtype=np.float32)
    n = len(images)
    per_row = math.ceil(math.sqrt(n))
    if per_row * 28 > MAX_SPRITE_SIDE:
        raise ValueError(f"{n} thumbnails make a sprite wider than {MAX_SPRITE_SIDE} px; use at most "
                         f"{(MAX_SPRITE_SIDE // 28) ** 2} points with images.")
    canvas = np.zeros((per_row * 28, per_row * 28), dtype=np.uint8)
    scale = 255.0 if images.max() <= 1.0 else 1.0
    for index, image in enumerate(images):
        row, column = divmod(index, per_row)
        canvas[row * 28:(row + 1) * 28, column * 28:(column + 1) * 28] = np.clip(image * scale, 0, 255)
    return Image.fromarray(canvas)


def write_projector_bundle(folder: Path | str, vectors: np.ndarray, metadata: list[dict],
                           images: np.ndarray | None = None, tensor_name: str = "embedding") -> Path:
    """Write the four files into ``folder`` and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(metadata) != len(vectors):
        raise ValueError("metadata needs one row per vector")
    np.savetxt(folder / "tensors.tsv", vectors, delimiter="\t", fmt="%.6g")
    columns = list(metadata[0]) if metadata else ["index"]
    with open(folder / "metadata.tsv", "w", encoding="utf-8") as handle:
        if len(columns) > 1:  # a single column has no header row in TensorBoard's format
            handle.write("\t".join(columns) + "\n")
        for row in metadata:
            handle.write("\t".join(str(row.get(c, "")).replace("\t", " ").replace("\n", " ") for c in columns) + "\n")
    config = [
        "embeddings {",
        f'  tensor_name: "{tensor_name}"',
        '  tensor_path: "tensors.tsv"',
        '  metadata_path: "metadata.tsv"',
    ]
    if images is not None:
        sprite(images).save(folder / "sprite.png")
        config += ["  sprite {", '    image_path: "sprite.png"', "    single_image_dim: 28",
                   "    single_image_dim: 28", "  }"]
    config.append("}")
    (folder / "projector_config.pbtxt").write_text("\n".join(config) + "\n")
    return folder


def zip_folder(folder: Path | str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
