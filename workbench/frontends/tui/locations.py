"""Where the app finds its files: theme folders and the user's config file."""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.engine.config import user_config_path

# the repository's themes/ folder from a checkout or an editable install; a wheel installs
# the same files under <prefix>/share/workbench/themes (pyproject's data-files)
_CHECKOUT_THEMES = Path(__file__).resolve().parents[3] / "themes"
BUILTIN_THEMES = _CHECKOUT_THEMES if _CHECKOUT_THEMES.is_dir() else Path(sys.prefix) / "share" / "workbench" / "themes"


def theme_folders() -> list[Path]:
    """Built-in themes, then the user's own (which win on a name clash)."""
    return [BUILTIN_THEMES, user_config_path().parent / "themes"]
