"""The MCP servers of the session: each one's status (and why it failed), its tools, and a restart key.

The screen shows the client's MCP report: it reads it again whenever the
bus bridge says one changed (``McpChanged``), so it follows a start, a failure or
a restart live. A server that fails only shows as failed; nothing else stops.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.frontends.tui.actions import BY_NAME, bindings, key_of
from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.messages import McpChanged
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers
from workbench.protocol.commands import RestartMcp
from workbench.protocol.mcp import McpReport, McpServerInfo, McpToolInfo

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient

Follow = Callable[[MessagePump], Callable[[], None]]

NO_SERVERS = (
    "No MCP servers are configured for this workspace. Add them to .mcp.json "
    '({"mcpServers": {"name": {"command": "…", "args": […]}}}) or under [mcp.servers.NAME] '
    "in .workbench/config.toml, then start a new session."
)
MARKS = {"ready": "●", "starting": "◌", "failed": "✕", "stopped": "○"}
STATE_STYLES = {"ready": "$success", "starting": "$warning", "failed": "bold $error", "stopped": "$foreground-muted"}
SERVER_LIST_WIDTH = 34


def state_text(state: str) -> Content:
    return Content.styled(f"{MARKS.get(state, '?')} {state}", STATE_STYLES.get(state, ""))


def server_prompt(status: McpServerInfo) -> Content:
    """Two lines in the list: the name and state; the transport and tool count, or why it failed."""
    name = Content.styled(status.name, "bold")
    gap = " " * max(1, SERVER_LIST_WIDTH - 6 - len(status.name) - len(status.state) - 2)
    first = Content.assemble(name, gap, state_text(status.state))
    if status.state == "failed":
        reason = status.error.splitlines()[0] if status.error else "failed"
        second = Content.styled(clip(reason, SERVER_LIST_WIDTH - 6), "$foreground-muted")
    else:
        tools = f"{len(status.tool_names)} tool" + ("" if len(status.tool_names) == 1 else "s")
        detail = f"{status.transport or '?'} · {tools}" if status.state == "ready" else status.transport or ""
        second = Content.styled(detail, "$foreground-muted")
    return Content.assemble(first, "\n", second)


def source_text(source: str, cwd: Path) -> str:
    if source == "config":
        return "[mcp.servers] in the config"
    path = Path(source)
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return source


def tools_view(status: McpServerInfo) -> Content:
    """The tools agents are offered, as they see them: ``mcp__server__tool``, kind, what it does."""
    tools: list[McpToolInfo] = status.tools
    if status.state != "ready":
        if status.tool_names:
            return Content.styled(
                f"Its {len(status.tool_names)} tools are unavailable until it is restarted.", "$foreground-muted"
            )
        return Content.styled("No tools until it is ready.", "$foreground-muted")
    if not tools:
        return Content.styled("The server offers no tools.", "$foreground-muted")
    width = max(len(tool.name) for tool in tools) + 2
    lines = []
    for tool in sorted(tools, key=lambda tool: tool.name):
        summary = next(iter(tool.description.strip().splitlines()), "")
        lines.append(
            Content.assemble(
                (tool.name.ljust(width), "bold $accent"),
                (tool.kind.ljust(6), "$secondary"),
                (summary, "$foreground"),
            )
        )
    left_out = len(status.tool_names) - len(tools)
    if left_out > 0:
        lines.append(Content.styled(f"{left_out} more left out: named like another tool", "$warning"))
    return Content("\n").join(lines)


class McpScreen(ReportsFailedWorkers, ModalScreen[None]):
    CSS_PATH = "mcp.tcss"
    BINDINGS = [*bindings("mcp"), *bindings("dialog")]

    def __init__(
        self, client: EngineClient, follow: Follow | None = None, overrides: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.client = client
        self.follow = follow
        self.overrides = overrides or {}
        self.report = McpReport()
        self._unfollow: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="mcp-dialog"):
            yield Label(id="mcp-summary")
            yield Static(id="mcp-problems")
            with Horizontal(id="mcp-body"):
                yield OptionList(id="mcp-servers")
                with VerticalScroll(id="mcp-detail"):
                    yield Static(id="mcp-server")
                    yield Static(id="mcp-error")
                    yield Label(id="mcp-tools-title")
                    yield Static(id="mcp-tools")
            yield Label(self._keys(), id="mcp-keys")

    def _keys(self) -> Content:
        restart = key_of(BY_NAME["restart_mcp"], self.overrides)
        close = key_of(BY_NAME["close"], self.overrides)
        return Content.styled(f"↑↓ choose a server · {restart} restarts it · {close} closes", "$foreground-muted")

    def on_mount(self) -> None:
        self.query_one("#mcp-dialog", Vertical).border_title = "MCP servers"
        if self.follow is not None:
            self._unfollow = self.follow(self)
        self.refresh_servers()
        self.query_one(OptionList).focus()

    def on_unmount(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None

    @on(McpChanged)
    def _changed(self) -> None:
        self.refresh_servers()

    @work(group="mcp-report", exclusive=True, exit_on_error=False)
    async def refresh_servers(self) -> None:
        self.report = await self.client.mcp_report()
        self._show_servers()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    # ---------------------------------------------------------------- what is shown

    def statuses(self) -> list[McpServerInfo]:
        return self.report.servers

    def _show_servers(self) -> None:
        statuses = self.statuses()
        options = self.query_one(OptionList)
        ids = [option.id for option in options.options]
        if ids == [status.name for status in statuses]:
            for status in statuses:
                options.replace_option_prompt(status.name, server_prompt(status))
        else:
            chosen = self.chosen()
            options.set_options(Option(server_prompt(status), id=status.name) for status in statuses)
            if statuses:
                names = [status.name for status in statuses]
                options.highlighted = names.index(chosen) if chosen in names else 0
        self._show_summary(statuses)
        self._show_detail()

    def chosen(self) -> str | None:
        """The highlighted server's name."""
        options = self.query_one(OptionList)
        option = options.highlighted_option
        return option.id if option is not None else None

    def _show_summary(self, statuses: list[McpServerInfo]) -> None:
        summary = self.query_one("#mcp-summary", Label)
        problems = self.query_one("#mcp-problems", Static)
        config_problems = self.report.problems
        problems.update(Content.styled("\n".join(config_problems), "$error"))
        problems.display = bool(config_problems)
        self.query_one("#mcp-body").display = bool(statuses)
        if not statuses:
            summary.update(Content.styled(NO_SERVERS, "$foreground-muted"))
            return
        counts = {state: sum(1 for s in statuses if s.state == state) for state in MARKS}
        parts = [Content.assemble((f"{counts['ready']} of {len(statuses)}", "bold"), " servers ready")]
        for state in ("starting", "failed", "stopped"):
            if counts[state]:
                parts.append(Content.styled(f"{counts[state]} {state}", STATE_STYLES[state]))
        tools = sum(len(s.tools) for s in statuses if s.state == "ready")
        parts.append(Content.styled(f"{tools} tools offered to agents", "$foreground-muted"))
        summary.update(Content(" · ").join(parts))

    def _show_detail(self) -> None:
        name = self.chosen()
        status = next((s for s in self.statuses() if s.name == name), None)
        server, error = self.query_one("#mcp-server", Static), self.query_one("#mcp-error", Static)
        title, tools = self.query_one("#mcp-tools-title", Label), self.query_one("#mcp-tools", Static)
        if status is None:
            for widget in (server, error, title, tools):
                widget.update("")
            return
        launch = status.launch
        server.update(
            Content.assemble(
                (status.name, "bold $accent"), "  ", state_text(status.state), "\n",
                (status.transport or "misconfigured", "$secondary"),
                (f"  {launch}" if launch else "", "$foreground"), "\n",
                ("from ", "$foreground-muted"), (source_text(status.source, Path(self.client.info.cwd)), "$foreground-muted"),
            )
        )  # fmt: skip
        if status.error:
            label = "Failed: " if status.state == "failed" else "Last call failed: "
            error.update(Content.assemble((label, "bold $error"), (status.error, "$error")))
        error.display = bool(status.error)
        title.update(Content.styled(f"Tools ({len(status.tool_names)})", "bold"))
        tools.update(tools_view(status))

    # ---------------------------------------------------------------- restart

    def action_restart_mcp(self) -> None:
        name = self.chosen()
        status = next((s for s in self.statuses() if s.name == name), None)
        if status is None:
            return
        if status.fixable:
            self.notify(f"{status.name} cannot start until its entry is fixed: {status.fixable}",
                        title="Not restarted", severity="warning")  # fmt: skip
        elif status.state == "starting":
            self.notify(f"{status.name} is already starting.")
        else:
            self._restart(status.name)

    @work(group="mcp-restart", exit_on_error=False)
    async def _restart(self, name: str) -> None:
        outcome = await self.client.submit(RestartMcp(server=name))
        if outcome.ok:
            self.notify(f"{outcome.message} offered again", title=f"{name} restarted")
        # a failure shows in the list, and the main screen tells of it
