"""Safe defaults: localhost only, XSRF on, an upload limit, and no unsafe deserialization in the code."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_server_defaults_are_safe():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True
    assert 1 <= server["maxUploadSize"] <= 50  # megabytes
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks for users


UNSAFE = [
    (r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve)\b", "pickle-based serialization"),
    (r"allow_pickle\s*=\s*True", "np.load with pickles"),
    (r"safe_mode\s*=\s*False", "Keras unsafe mode"),
    (r"(?<![\w.])(eval|exec)\(", "eval/exec"),
    (r"yaml\.load\((?![^)]*SafeLoader)", "unsafe YAML"),
]


def test_no_unsafe_deserialization_in_the_app():
    sources = [REPO / "app.py", *(REPO / "core").rglob("*.py"), *(REPO / "pages").rglob("*.py")]
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, what in UNSAFE:
                if re.search(pattern, line):
                    found.append(f"{path.relative_to(REPO)}:{number}: {what}: {line.strip()}")
    assert not found, "\n".join(found)
