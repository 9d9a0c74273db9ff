"""Every action of the app in one table: its key, what it does, and where it applies.

The bindings of each screen and widget, the footer, the help screen, the
command palette and the slash-command menu are all read from ``ACTIONS``.
Users rebind an action by name in their config (``[keys] background = "ctrl+y"``);
the names are Textual binding ids, so ``App.set_keymap`` applies the overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal[
    "app",
    "main",
    "prompt",
    "agents",
    "log",
    "approval",
    "questions",
    "mcp",
    "primers",
    "browser",
    "replay",
    "confirm",
    "quit",
    "dialog",
    "trust",
    "plan",
    "diff",
    "commit",
    "rewind",
]

WHERE: dict[Scope, str] = {
    "app": "everywhere",
    "main": "main screen",
    "prompt": "prompt",
    "agents": "agents · tasks",
    "log": "bundle log",
    "approval": "permission prompt",
    "plan": "plan approval",
    "questions": "agent's questions",
    "mcp": "MCP servers",
    "primers": "primer picker",
    "browser": "session browser",
    "replay": "replay",
    "confirm": "confirmations",
    "quit": "quitting with agents at work",
    "dialog": "dialogs",
    "trust": "folder trust",
    "diff": "an agent's changes",
    "commit": "commit message",
    "rewind": "remount with files",
}


@dataclass(frozen=True)
class Action:
    name: str  # the binding id, and the name users rebind in config.keys
    key: str | None  # None: only a slash command
    label: str  # short, for the footer
    description: str  # for the help screen and the palette
    scope: Scope
    slash: str | None = None
    slash_args: str = ""
    footer: bool = False
    priority: bool = False
    palette: bool = True
    method: str | None = None  # the Textual action, when it is not ``name``

    @property
    def textual_action(self) -> str:
        return self.method or self.name

    @property
    def slash_usage(self) -> str:
        """How the slash command is typed, e.g. ``/background <task>`` or ``/prime-<primer> [arguments]``."""
        if self.slash is None:
            return ""
        joiner = "" if self.slash.endswith("-") else " "
        return f"{self.slash}{joiner}{self.slash_args}".strip()


ACTIONS: tuple[Action, ...] = (
    # --- everywhere
    Action("quit", "ctrl+q", "quit", "Close the session and quit", "app", slash="/quit", footer=True, priority=True),
    Action(
        "palette", "ctrl+p", "palette", "Open the command palette", "app",
        method="command_palette", footer=True, priority=True, palette=False,
    ),
    Action("help", "f1", "help", "Show every key and slash command", "app", slash="/help", footer=True),
    Action("theme", None, "theme", "Choose a theme, or /theme NAME (remembered in your config)", "app",
           slash="/theme", slash_args="[name]", method="theme"),
    # --- the main screen
    Action("send", "enter", "send", "Send the prompt to the focused agent", "prompt", footer=True, palette=False),
    Action("newline", "shift+enter,ctrl+j", "newline", "Insert a line break in the prompt", "prompt", palette=False),
    Action("history_previous", "up", "history", "Previous prompt (on the first line)", "prompt", palette=False),
    Action("history_next", "down", "history", "Next prompt (on the last line)", "prompt", palette=False),
    Action("complete", "tab", "complete", "Complete the slash command", "prompt", palette=False),
    Action("close_menu", "escape", "close menu", "Close the slash-command menu", "prompt", palette=False),
    Action(
        "background", "ctrl+b", "background", "Run the prompt as a background agent", "main",
        slash="/background", slash_args="<task>", footer=True,
    ),
    Action(
        "delegate", "ctrl+t", "delegate", "Hand the prompt to a sub-agent with a fresh context", "main",
        slash="/delegate", slash_args="[--agent NAME] <task>",
    ),
    Action(
        "compact", "ctrl+l", "compact", "Summarise the focused agent's older turns to free context", "main",
        slash="/compact", slash_args="[instructions]",
    ),
    Action(
        "prime", "ctrl+r", "prime", "Load a primer into the focused agent", "main",
        slash="/prime-", slash_args="<primer> [arguments]",
    ),
    Action(
        "remount", "ctrl+o", "remount", "Continue a past session in a new agent", "main",
        slash="/remount", slash_args="[session]",
    ),
    Action("interrupt", "escape", "interrupt", "Stop the focused agent's current turn", "main",
           slash="/interrupt", footer=True),
    Action("cancel_agent", "f8", "cancel", "Cancel the focused agent and its children", "main", slash="/cancel",
           slash_args="[agent]"),
    Action("pause_resume", "ctrl+s", "pause", "Pause or resume the focused agent", "main", slash="/pause",
           slash_args="[agent]"),
    Action("hand_result", "f3,h", "hand result", "Hand a finished agent's result to the primary", "main",
           slash="/hand", slash_args="[agent]"),
    Action("orchestrate", None, "orchestrate", "Plan a goal, fan it out to sub-agents, aggregate", "main",
           slash="/orchestrate", slash_args="<goal>"),
    Action("reduce", None, "reduce", "Stub the focused agent's old tool results", "main",
           slash="/reduce", slash_args="[agent]"),
    Action("context", "ctrl+n", "context", "Count the context exactly with the API (count_tokens)", "main",
           slash="/context", slash_args="[agent]"),
    Action("budget", None, "budget", "Show the spend caps, or set the session's or an agent's", "main",
           slash="/budget", slash_args="[<usd>|off] [agent]"),
    Action("accept_delegation", "f5", "delegate it", "Take the delegation proposal: prompt → /delegate", "main",
           footer=True),
    Action("cycle_mode", "shift+tab", "mode", "Cycle the permission mode (default → acceptEdits → plan)", "main",
           slash="/mode", slash_args="[default|acceptEdits|plan]", footer=True),
    Action("focus_next_pane", "f6", "next pane", "Focus the next pane", "main", priority=True),
    Action("focus_previous_pane", "shift+f6", "previous pane", "Focus the previous pane", "main", priority=True),
    Action("focus_primary", "ctrl+g", "primary", "Show the primary agent's conversation", "main", footer=True),
    Action("tasks", "f2", "tasks", "List background and delegated agents, by state", "main",
           slash="/tasks", slash_args="[state]"),
    Action("mcp", "f4", "mcp", "Show the MCP servers: status, why one failed, their tools", "main", slash="/mcp"),
    Action("show_diff", "f7", "changes",
           "An agent's diff: merge, discard, keep or commit it", "main",
           slash="/diff", slash_args="[agent]", priority=True),  # before the prompt's own f7 (select all)
    Action("commit_agent", None, "commit", "Commit an agent's worktree on its branch",
           "main", slash="/commit", slash_args="[agent]"),
    Action("permissions", None, "permissions", "The permission rules: yours, and the git guardrails",
           "main", slash="/permissions"),
    # --- panes
    Action("show_agent", "enter", "show", "Show the highlighted agent's conversation", "agents",
           method="select_cursor", footer=True, palette=False),
    Action("fold", "space", "fold", "Fold or unfold the highlighted agent's subtree", "agents",
           method="toggle_node", palette=False),
    Action("filter_all", "a", "all", "Show every agent", "agents", method="filter_state('all')", palette=False),
    Action("filter_running", "r", "running", "Show the running agents", "agents",
           method="filter_state('running')", palette=False),
    Action("filter_queued", "q", "queued", "Show the agents waiting for a slot", "agents",
           method="filter_state('queued')", palette=False),
    Action("filter_paused", "p", "paused", "Show the paused agents", "agents",
           method="filter_state('paused')", palette=False),
    Action("filter_done", "d", "done", "Show the agents that finished", "agents",
           method="filter_state('done')", palette=False),
    Action("filter_failed", "f", "failed", "Show the agents that failed", "agents",
           method="filter_state('failed')", palette=False),
    Action("filter_cancelled", "c", "cancelled", "Show the cancelled agents", "agents",
           method="filter_state('cancelled')", palette=False),
    Action("open_event", "enter", "open", "Open the highlighted event as JSON", "log",
           method="select_cursor", footer=True, palette=False),
    Action("filter_log", "slash", "filter", "Filter the log by agent or kind", "log", footer=True, palette=False),
    # --- dialogs
    Action("allow_once", "y", "allow once", "Allow this call once", "approval", footer=True, palette=False),
    Action("allow_always", "a", "allow always", "Allow it and add the suggested rule", "approval",
           footer=True, palette=False),
    Action("deny", "n,escape", "deny", "Refuse this call", "approval", footer=True, palette=False),
    Action("approve_plan", "y", "approve", "Approve the plan; go on in default mode", "plan", footer=True,
           palette=False),
    Action("approve_plan_edits", "a", "approve, accept edits", "Approve the plan; go on in acceptEdits mode",
           "plan", footer=True, palette=False),
    Action("keep_planning", "ctrl+s", "keep planning", "Send the feedback: the agent keeps planning", "plan",
           footer=True, palette=False),
    Action("answer", "ctrl+s", "answer", "Send the answers to the agent", "questions", footer=True, palette=False),
    Action("dismiss_questions", "escape", "dismiss", "Leave the questions unanswered", "questions",
           footer=True, palette=False),
    Action("trust_folder", "t", "trust", "Trust this folder: its hooks, MCP servers and settings apply", "trust",
           footer=True, palette=False),
    Action("open_restricted", "r,escape", "restricted", "Open this folder with none of its own configuration",
           "trust", footer=True, palette=False),
    Action("restart_mcp", "r", "restart", "Restart the highlighted MCP server", "mcp", footer=True, palette=False),
    Action("choose_primer", "enter", "preview / load",
           "Preview the highlighted primer with the arguments; enter again loads that preview", "primers",
           priority=True, footer=True, palette=False),
    Action("close", "escape", "close", "Close the dialog", "dialog", method="dismiss", footer=True, palette=False),
    # --- the session browser, the replay
    Action("continue_session", "c", "continue",
           "Continue the highlighted session (the agent chosen in its preview) in a new session; enter too",
           "browser", footer=True, palette=False),
    Action("fork_session", "f", "fork here",
           "Continue from the event highlighted in the preview, in a new session; enter on an event too",
           "browser", footer=True, palette=False),
    Action("resume_session", "r", "resume",
           "Reopen the session itself where it stopped (read-only while another process has it)", "browser",
           footer=True, palette=False),
    Action("replay_session", "p", "replay", "Play the session back into the panes, read-only", "browser",
           footer=True, palette=False),
    Action("rename_session", "n", "rename", "Give the highlighted session a title", "browser", footer=True,
           palette=False),
    Action("delete_session", "delete", "delete", "Delete the highlighted session's folder (asks first)", "browser",
           footer=True, palette=False),
    Action("search_sessions", "slash", "search", "Search every session's messages, tool calls and results",
           "browser", footer=True, palette=False),
    Action("show_import", "i", "import", "Import a Claude Code or Codex transcript found in your home folder",
           "browser", footer=True, palette=False),
    Action("show_sessions", "s", "sessions", "Back to the list of sessions", "browser", footer=True, palette=False),
    Action("replay_speed", "s", "speed", "Change the replay's speed: 1× → 10× → max", "replay", footer=True,
           palette=False),
    Action("replay_stop", "escape", "stop", "Stop the replay and go back to the session", "replay", footer=True,
           palette=False),
    Action("merge_changes", "m", "merge", "Merge the agent's changes into your folder (a conflict touches nothing)",
           "diff", footer=True, palette=False),
    Action("discard_changes", "x", "discard", "Throw the agent's changes away, with its worktree (asks first)",
           "diff", footer=True, palette=False),
    Action("keep_branch", "b", "keep branch", "Keep the work on the agent's branch and remove the worktree", "diff",
           footer=True, palette=False),
    Action("commit_changes", "c", "commit", "Commit the agent's changes on its branch: edit the proposed message",
           "diff", footer=True, palette=False),
    Action("commit_now", "ctrl+s", "commit", "Commit with this message", "commit", footer=True, palette=False),
    Action("conversation_only", "o", "conversation only", "Continue with the conversation; files stay as they are",
           "rewind", footer=True, palette=False),
    Action("files_to_worktree", "w,enter", "files → worktree",
           "Continue with the files as they were, in a fresh worktree (nothing of yours changes)", "rewind",
           footer=True, palette=False),
    Action("files_to_folder", "t", "files → your folder",
           "Continue with the files as they were, written into your folder (asks first)", "rewind",
           footer=True, palette=False),
    Action("confirm_yes", "y", "yes", "Go ahead", "confirm", footer=True, palette=False),
    Action("confirm_no", "n,escape", "no", "Leave it as it is", "confirm", footer=True, palette=False),
    Action("quit_stop", "s", "stop", "Quit; the agents stop where they are and go on when the session is resumed",
           "quit", footer=True, palette=False),
    Action("quit_cancel", "c", "cancel agents", "Quit and cancel every agent but the primary", "quit",
           footer=True, palette=False),
    Action("quit_stay", "escape", "stay", "Do not quit", "quit", footer=True, palette=False),
)  # fmt: skip

BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}


def bindings(scope: Scope) -> list[BindingType]:
    """The Textual bindings of one scope, each with its action's name as id."""
    return [
        Binding(
            action.key,
            action.textual_action,
            action.label,
            show=action.footer,
            priority=action.priority,
            tooltip=action.description,
            id=action.name,
        )
        for action in ACTIONS
        if action.scope == scope and action.key is not None
    ]


def key_of(action: Action, overrides: dict[str, str]) -> str:
    """The key that triggers an action, with the user's override applied."""
    return overrides.get(action.name) or action.key or ""


def shown_key(name: str, overrides: dict[str, str]) -> str:
    """The key to name in a message about an action: its first, with the user's override applied."""
    return key_of(BY_NAME[name], overrides).split(",")[0]


def unknown_actions(overrides: dict[str, str]) -> list[str]:
    """Names in a keys override that no action has (a typo the user should hear about)."""
    return sorted(name for name in overrides if name not in BY_NAME or BY_NAME[name].key is None)
