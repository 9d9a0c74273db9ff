"""Texts the engine puts into requests that a rule-based brain recognises.

They are part of the contract between the engine and any brain: the scripted
brain keys its rules on them, and a real model reads them as plain prose.
"""

COMPACTION_MARKER = "COMPACTION SUMMARY REQUEST"
SUMMARY_REQUEST = "Summarise the conversation above as the system prompt says; this summary will replace it."
ORCHESTRATE_MARKER = "ORCHESTRATE:"
RETURNED_RESULT_PREFIX = "Result from the "
