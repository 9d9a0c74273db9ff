"""How events read as text on a screen: the log's own descriptions, reached through the engine.

Kept apart from ``library`` (the stored sessions) so that a screen drawing its
first frame loads these few pure functions and nothing of the store.
"""

from workbench.log.transcript import brain_label, describe, one_line, with_images

__all__ = ["brain_label", "describe", "one_line", "with_images"]
