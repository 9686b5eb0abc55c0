"""MkDocs hook: show the Sphinx roles of the package's docstrings as plain code.

The docstrings cross-reference with Sphinx roles (``:class:`Fault```, ``:meth:`aclose```).
mkdocstrings renders them as Markdown, where a role would show up literally as
``:class:<code>Fault</code>``. This hook, run on each page's HTML, keeps the code and
drops the role; a leading ``~`` keeps only the last dotted component, as Sphinx does.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|mod|data|exc|attr|obj):<code>(~?)([^<]+)</code>")


def _replace(match: re.Match[str]) -> str:
    short, target = match.groups()
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Replace every rendered Sphinx role by its target, as inline code."""
    return _ROLE.sub(_replace, html)
