"""A reply of the model: Markdown, streamed in as it arrives and settled when it is logged.

Imported with the first reply rather than with the first screen: the Markdown
parser is among the slowest imports of the app.
"""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class AssistantReply(Markdown):
    """A reply, streamed into the Markdown as it arrives and settled when it is logged."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.received = len(text)
        self._stream: MarkdownStream | None = None

    async def stream(self, text: str, start: int) -> None:
        """Append what is new in ``text`` (which begins at ``start`` of the reply)."""
        new = text[max(0, self.received - start) :]
        if not new:
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        self.received += len(new)
        await self._stream.write(new)

    async def settle(self, final: str, interrupted: bool) -> None:
        """The reply is logged: stop streaming and show exactly what the log holds."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self.source != final:
            await self.update(final)
        self.set_class(interrupted, "-interrupted")
