"""DEVELOPERS.md stays true of the tree: every path it names exists, and every source file of the app,
the tools and the benchmarks is named there (by its path, or by its name beside its folder's), so a
newcomer who reads the layout and "where to change what" finds every file and no ghost."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "DEVELOPERS.md"
SOURCES = ("core", "views", "tools", "benchmarks", "scripts", "deploy")
SUFFIXES = (".py", ".js", ".sh", ".yml", ".conf")


def named_paths(text: str) -> set[str]:
    """Repository paths in backquotes: words with a slash (``core/figures.py``, ``views/draw/``)."""
    found = set()
    for quoted in re.findall(r"`([^`\n]+)`", text):
        for word in re.split(r"[\s,()]+", quoted):
            word = word.rstrip(".:;")
            if re.fullmatch(r"[\w.-]+(?:/[\w.-]*)+", word) and not word.startswith(("http", "/")):
                found.add(word)
    return found


def test_every_path_the_guide_names_exists():
    ghosts = sorted(p for p in named_paths(GUIDE.read_text(encoding="utf-8"))
                    if p.split("/")[0] in (*SOURCES, "tests", "assets", "docs", ".ci", ".streamlit")
                    and not (REPO / p).exists())
    assert not ghosts, f"DEVELOPERS.md names paths that do not exist: {ghosts}"


def test_every_source_file_is_named_in_the_guide():
    text = GUIDE.read_text(encoding="utf-8")
    folders = {p.rstrip("/") for p in named_paths(text)} | {str(Path(p).parent) for p in named_paths(text)}
    unnamed = []
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*")):
            relative = path.relative_to(REPO)
            if (path.suffix not in SUFFIXES or path.name == "__init__.py" or "__pycache__" in relative.parts
                    or relative.parts[:2] == ("benchmarks", "out")):
                continue
            # named by its path, or by its file name with its folder named somewhere in the guide
            if str(relative) in text or (f"`{path.name}`" in text or f" {path.name}" in text) and (
                    str(relative.parent) in folders):
                continue
            if relative.parent == Path("benchmarks") and path.name.startswith("bench_") and \
                    "benchmarks/bench_<name>.py" in text:  # each benchmark says what it measures in its docstring
                continue
            if f"`{path.stem}`" in text and str(relative.parent) in folders | {"core"}:  # e.g. core's `imports`
                continue
            # a component's files: the component's folder is named (views/components/<name>/)
            if relative.parts[:2] == ("views", "components") and f"{Path(*relative.parts[:3])}/" in text:
                continue
            unnamed.append(str(relative))
    assert not unnamed, f"source files DEVELOPERS.md does not name (add them to its layout or table): {unnamed}"
