"""The prompt: a TextArea with history and a slash-command menu above it."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.slash import SlashCommand, completions
from workbench.frontends.tui.stylesheet import css_beside


class SlashMenu(OptionList, can_focus=False):
    """The slash commands matching what is typed; the prompt keeps the focus and drives it."""

    def show(self, commands: list[SlashCommand]) -> None:
        was_shown = self.display
        self.clear_options()
        width = max((len(command.word) for command in commands), default=0)
        self.add_options(
            Option(
                Content.assemble(
                    (command.word.ljust(width), "bold $accent"),
                    (f" {command.args}" if command.args else "", "$foreground-muted"),
                    "  ",
                    (command.description, "$foreground-muted"),
                ),
                id=command.word,
            )
            for command in commands
        )
        self.highlighted = 0 if commands else None
        self.display = bool(commands)
        if self.display != was_shown:
            self.screen.refresh_bindings()  # tab and escape change meaning with the menu

    def hide(self) -> None:
        self.display = False
        self.screen.refresh_bindings()

    @property
    def chosen(self) -> str | None:
        if not self.display or self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id


# the actions (bound on the screen) that use what the prompt holds: their key takes it at once
TAKES_THE_PROMPT = frozenset({"background", "delegate", "prime"})


class PromptArea(TextArea):
    BINDINGS = bindings("prompt")

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__(
            id="prompt",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            compact=True,
            highlight_cursor_line=False,
            placeholder="Type a request, or / for commands",
        )
        self.sent: list[str] = []
        self.primers: list[str] = []  # for /prime-<name>, known once the engine is open
        self._history_index: int | None = None
        self._draft = ""
        self._taken: str | None = None  # the text a key took for its action, until the action asks for it

    async def _on_key(self, event: events.Key) -> None:
        """A key bound to an action that takes the prompt's text takes it now, as it is when the key is
        pressed: the action itself runs a moment later (after the key has bubbled up to its binding), and
        keys typed meanwhile must start the next prompt rather than land in this one."""
        bound = self.app.active_bindings.get(event.key)
        if bound is None:
            return
        if bound.node is self and bound.binding.id in ("send", "newline"):
            # run here, in order with the keys typed before and after it; not typed as a line break
            event.prevent_default()
            event.stop()
            await self.run_action(bound.binding.action)
        elif bound.enabled and bound.binding.id in TAKES_THE_PROMPT:
            self._taken = self.take()

    @property
    def menu(self) -> SlashMenu:
        return self.screen.query_one(SlashMenu)

    # ---------------------------------------------------------------- sending

    def action_send(self) -> None:
        if chosen := self.menu.chosen:
            self._complete(chosen)
            return
        text = self.text.strip()
        if not text:
            return
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
        self._history_index = None
        self.clear()
        self.post_message(self.Submitted(text))

    def take(self) -> str:
        """Empty the prompt and return what it held (for actions that use the prompt's text); what a key
        bound to such an action took when it was pressed, if it did."""
        if self._taken is not None:
            taken, self._taken = self._taken, None
            return taken
        text = self.text.strip()
        if text:
            self.sent.append(text)
        self._history_index = None
        self.clear()
        return text

    def action_newline(self) -> None:
        self.insert("\n")

    # ---------------------------------------------------------------- history

    def action_history_previous(self) -> None:
        if self.menu.display:
            self.menu.action_cursor_up()
            return
        if self.cursor_location[0] > 0 or not self.sent:
            self.action_cursor_up()
            return
        if self._history_index is None:
            self._draft = self.text
            self._history_index = len(self.sent)
        if self._history_index > 0:
            self._history_index -= 1
            self.put_back(self.sent[self._history_index])

    def action_history_next(self) -> None:
        if self.menu.display:
            self.menu.action_cursor_down()
            return
        if self.cursor_location[0] < self.document.line_count - 1 or self._history_index is None:
            self.action_cursor_down()
            return
        self._history_index += 1
        if self._history_index >= len(self.sent):
            self._history_index = None
            self.put_back(self._draft)
        else:
            self.put_back(self.sent[self._history_index])

    def put_back(self, text: str) -> None:
        """The prompt holds ``text`` (again), the cursor at its end: the next key typed goes after it."""
        self.load_text(text)
        self.move_cursor(self.document.end)

    # ---------------------------------------------------------------- completion

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # without the menu, tab moves the focus and escape interrupts the agent, as elsewhere
        if action in ("complete", "close_menu"):
            return self.menu.display
        return super().check_action(action, parameters)

    def action_complete(self) -> None:
        if chosen := self.menu.chosen:
            self._complete(chosen)

    def _complete(self, word: str) -> None:
        self.put_back(word.removesuffix("<primer>") if word.endswith("<primer>") else word + " ")
        self.menu.hide()

    def action_close_menu(self) -> None:
        self.menu.hide()

    @on(TextArea.Changed)
    def _typed(self) -> None:
        self.menu.show(completions(self.text, self.primers))


class PromptBox(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    def compose(self) -> ComposeResult:
        menu = SlashMenu(id="slash-menu")
        menu.display = False
        yield menu
        yield PromptArea()

    def on_mount(self) -> None:
        self.border_title = "primary"
