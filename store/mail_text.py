"""The text worth keeping of an e-mail body: HTML turned into lines, quoted replies and
signatures left out. Pure functions over strings (stdlib ``html.parser``), used by
``store.mail_import``.

What is trimmed, and why so little: a CRM timeline wants what this message said, not the
thread below it. So lines quoted with ``>`` go, with the attribution line that introduces
them ("On Mon, Apr 2, 2012 at 6:26 PM, Megan One <...> wrote:"), and so does everything
from a signature separator (``-- ``) or an Outlook/Yahoo ``----- Original Message -----``
line on. Forwarded messages and "Sent from my iPhone" stay: they are what was sent.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: tags after which the text goes on on a new line
_BREAKS = frozenset({
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
#: tags whose content is not text a person reads
_HIDDEN = frozenset({"head", "script", "style", "template", "title"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_SIGNATURE = frozenset({"-- ", "--"})


class _TextParser(HTMLParser):
    """Collects the visible text of an HTML body as lines; text inside ``<blockquote>``
    comes out quoted with ``> `` so that it is trimmed like a quoted plain-text reply."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._words: list[str] = []
        self._quote_depth = 0
        self._line_depth = 0
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden = 0  # a <head> left open does not hide the body
        elif tag in _HIDDEN:
            self._hidden += 1
        if tag == "br":
            self._break(blank=True)
        elif tag in _BREAKS:
            self._break()
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag in _BREAKS:
            self._break()
        if tag == "p":
            self._break(blank=True)  # a blank line after a paragraph
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            self._add(_SPACES.sub(" ", data))
            return
        first, *more = data.split("\n")
        self._add(first)
        for piece in more:
            self._break()
            self._add(piece)

    def close(self) -> None:
        super().close()
        self._break()

    def _add(self, text: str) -> None:
        if not self._words:
            self._line_depth = self._quote_depth
        self._words.append(text)

    def _break(self, *, blank: bool = False) -> None:
        """End the line; ``blank``: even an empty one (``<br>`` after ``<br>``, a paragraph's end)."""
        text = "".join(self._words)
        text = text.rstrip() if self._pre else text.strip()
        self._words = []
        if text or blank:
            self.lines.append("> " * self._line_depth + text if text else "")


def html_to_text(markup: str) -> str:
    """The visible text of an HTML document, a line per paragraph, break or block."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return "\n".join(parser.lines)


def reply_text(text: str) -> str:
    """``text`` without quoted lines, their attribution line, signature or original message."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _tidy(_without_quotes(_before_signature(lines)))


def _before_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line in _SIGNATURE or _ORIGINAL.match(line):
            return lines[:index]
    return lines


def _without_quotes(lines: list[str]) -> list[str]:
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _is_quoted(line):
            continue
        if _introduces_quote(lines, index):
            # "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <" + "xxx@gmail.com> wrote:": a wrapped line
            if kept and not line.lstrip().startswith("On ") and kept[-1].lstrip().startswith("On "):
                kept.pop()
            continue
        kept.append(line)
    return kept


def _is_quoted(line: str) -> bool:
    return line.lstrip(" ").startswith(">")


def _introduces_quote(lines: list[str], index: int) -> bool:
    """A line ending in "wrote:" followed (past blank lines) by quoted lines or nothing."""
    if not lines[index].rstrip().endswith("wrote:"):
        return False
    following = next((line for line in lines[index + 1:] if line.strip()), None)
    return following is None or _is_quoted(following)


def _tidy(lines: list[str]) -> str:
    """Trailing spaces off, runs of blank lines down to one, no blank lines at either end."""
    out: list[str] = []
    for line in (line.rstrip() for line in lines):
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with "…" when it was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
