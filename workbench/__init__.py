"""Workbench: a keyboard-driven terminal workbench for running LLM agents."""

__version__ = "0.1.0"
