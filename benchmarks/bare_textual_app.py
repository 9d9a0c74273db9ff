"""The reference for bench_startup: a bare Textual app (header, label, input, footer), started
as workbench is, so its first screen can be timed the same way."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Input, Label


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("a bare Textual app")
        yield Input(placeholder="type here")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
