"""An agent's todo list in its conversation: one block, updated in place at each TodoWrite."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from workbench.frontends.tui.progress_marks import todo_line, todo_tally
from workbench.frontends.tui.stylesheet import css_beside
from workbench.protocol.interaction import TodoItem


def checklist(todos: list[TodoItem]) -> Content:
    if not todos:
        return Content.styled("☑ todos · the list is empty", "$foreground-muted")
    head = Content.assemble(("☑ todos ", "bold"), (f"· {todo_tally(todos)} done", "$foreground-muted"))
    return Content("\n").join([head, *(Content.assemble("  ", todo_line(item)) for item in todos)])


class TodoChecklist(Static):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, todos: list[TodoItem]) -> None:
        super().__init__(checklist(todos))
        self.todos = todos

    def show(self, todos: list[TodoItem]) -> None:
        self.todos = todos
        self.update(checklist(todos))
