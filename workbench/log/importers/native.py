"""Import a Workbench bundle (``events.jsonl``, or a ``bundles export --format jsonl``) as a new session.

The events keep their seq and time; only the session id is new. A log whose seqs
do not rise (hand-edited, or two logs joined) is numbered afresh.
"""

from __future__ import annotations

from pathlib import Path

from workbench.log.bundle import BundleReader, BundleStore
from workbench.log.importers.base import ImportReport, write_session


async def import_native(store: BundleStore, path: Path) -> ImportReport:
    contents = await BundleReader(path).read()
    events = contents.events
    report = ImportReport(source=path, format="workbench", problems=[str(p) for p in contents.problems])
    if any(later.seq <= earlier.seq for earlier, later in zip(events, events[1:])) or (events and events[0].seq < 1):
        events = [e.model_copy(update={"seq": n}) for n, e in enumerate(events, start=1)]
        report.problems.append("seq numbers did not rise line after line: the events were numbered afresh")
    if events:
        report.session_id = await write_session(store, events)
        report.events = len(events)
    return report
