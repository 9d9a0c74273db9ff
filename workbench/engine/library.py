"""The session library: what front ends may do with stored sessions, besides the one they run.

Listing, searching, previewing, renaming, deleting, importing and describing
sessions are the log's work; a front end reaches them here, through the engine,
so it never depends on how the log is kept (the import contracts hold it to
that). Everything here is the log's own, named once, where it is defined.
"""

from workbench.log.blobs import BlobStore
from workbench.log.bundle import BundleContents, BundleError, BundleStore
from workbench.log.catalog import MAX_TITLE_CHARS, SessionEntry, SessionFilter, delete, list_sessions, rename
from workbench.log.importers import ImportSource, UnknownFormat, discover, import_file
from workbench.log.importers.base import ImportReport
from workbench.log.interruption import RESTING_STATES, interruption
from workbench.log.search import SearchHit, SessionHits, search
from workbench.log.session_lock import SessionLocked, lock_holder

__all__ = [
    "MAX_TITLE_CHARS",
    "RESTING_STATES",
    "BlobStore",
    "BundleContents",
    "BundleError",
    "BundleStore",
    "ImportReport",
    "ImportSource",
    "SearchHit",
    "SessionEntry",
    "SessionFilter",
    "SessionHits",
    "SessionLocked",
    "UnknownFormat",
    "delete",
    "discover",
    "import_file",
    "interruption",
    "list_sessions",
    "lock_holder",
    "rename",
    "search",
]
