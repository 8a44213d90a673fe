"""Markdown tables for report.md (the page itself is laid out in `document.py`)."""

from __future__ import annotations


def _cell(text) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(header, rows) -> list[str]:
    """A GitHub-flavoured Markdown table; `|` inside cells is escaped."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return lines
