"""The app's one-line header: who and where, what is due, the team sync's state.

Its parts are laid out by priority and width, as the board's columns are: when the line
does not fit, the least useful part gives way first (whole, never cut mid-word), and the
separators are only ever put between parts that show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from store.models import clean_line
from tui.text import counted, fit, labelled

SEPARATOR = " · "


@dataclass(frozen=True)
class Part:
    """One piece of the header: its text, and how much it matters (0 most)."""

    text: Content
    priority: int
    #: a shorter text to fall back on before the part gives way altogether
    short: Content | None = None


def fitted(parts: Sequence[Part], width: int) -> Content:
    """The parts that fit ``width`` cells, in their order, joined by separators: the least
    important gives way first (to its short text, then altogether)."""
    shown: list[Content | None] = [part.text for part in parts]
    giving_way = sorted(range(len(parts)), key=lambda i: (-parts[i].priority, -i))

    def length() -> int:
        texts = [text for text in shown if text is not None]
        return sum(text.cell_length for text in texts) + len(SEPARATOR) * max(0, len(texts) - 1)

    for index in giving_way:
        if length() <= width:
            break
        shown[index] = parts[index].short
        if shown[index] is not None and length() > width:
            shown[index] = None
    for index in reversed(giving_way):  # room left by a later part: an earlier one comes back
        for text in (parts[index].text, parts[index].short):
            if text is None or text is shown[index]:
                break
            kept, shown[index] = shown[index], text
            if length() <= width:
                break
            shown[index] = kept
    texts = [text for text in shown if text is not None]
    line = Content(SEPARATOR).join(texts) if texts else Content("")
    return line if line.cell_length <= width else line.truncate(max(0, width), ellipsis=True)


def wrapped(parts: Sequence[str], width: int, separator: str = SEPARATOR) -> list[str]:
    """The parts on as many lines of ``width`` cells as they need, each part whole (one
    wider than a line is cut to it) and separators only between parts on one line: no
    line starts or ends with one."""
    lines: list[str] = []
    for part in (part for part in parts if part):
        if lines and cell_len(lines[-1] + separator + part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(part if cell_len(part) <= width else fit(part, width))
    return lines


def people(names: Sequence[str], most: int = 3) -> str:
    """``Bo``, ``Bo and Ana``, ``Bo, Ana and Cy``; past ``most``: ``Bo, Ana and 3 others``."""
    if len(names) <= most:
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:most - 1])} and {len(names) - most + 1} others"


def sync_text(when: str, reps: Sequence[str], names: Mapping[str, str], today: date) -> tuple[str, str]:
    """What the last sync did, long and short: ``team synced 14:02 (nothing new)``,
    ``team merged 14:02 from Bo Chen``; the day is said when it was not today."""
    try:
        at = datetime.fromisoformat(when).astimezone()
    except ValueError:
        return "team synced", "synced"
    moment = at.strftime("%H:%M") if at.date() == today else at.strftime("%Y-%m-%d %H:%M")
    if not reps:
        return f"team synced {moment} (nothing new)", f"synced {moment}"
    return f"team merged {moment} from {people([names.get(rep, rep) for rep in reps])}", f"synced {moment}"


def header_parts(*, rep: str, rep_id: str, due: int | None, overdue: int, at_risk: int | None, folder: str,
                 sync_step: str = "", merged: tuple[str, Sequence[str]] | None = None,
                 names: Mapping[str, str] | None = None, today: date) -> list[Part]:
    """The header's parts in their order on the line, each with its priority. ``due`` and
    ``at_risk`` are None while the tables they are counted from are being read."""
    parts = [Part(Content.styled("Dealdeck", "bold"), 6),
             Part(labelled("$rep ($id)", rep=rep, id=rep_id), 0, labelled("$rep", rep=rep)),
             Part(Content("counting what is due…") if due is None
                  else labelled("$due due, $overdue overdue", due=due, overdue=overdue), 1)]
    if at_risk is not None:
        parts.append(Part(labelled("$risk at risk", risk=counted(at_risk, "deal")), 2))
    if sync_step:
        parts.append(Part(labelled("syncing: $step", step=sync_step), 1, Content("syncing…")))
    elif merged:
        long, short = sync_text(merged[0], merged[1], names or {}, today)
        parts.append(Part(labelled("$text", text=long), 3, labelled("$text", text=short)))
    parts += [Part(labelled("$folder", folder=folder), 5), Part(Content("ctrl+p find"), 7),
              Part(Content("? keys"), 4)]
    return parts


class AppHeader(Widget):
    """Who and where: the current rep, the data folder, what is due; laid out again for
    every width it is shown at."""

    DEFAULT_CSS = "AppHeader { height: 1; background: $primary; color: $text; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: list[Part] = []

    def show(self, parts: list[Part]) -> None:
        self.parts = parts
        self.refresh()

    def render(self) -> Content:
        return fitted(self.parts, self.content_size.width)


class PartsLine(Widget):
    """Parts of a line (a title, a list of keys) that wrap between whole parts to the
    width they are shown at, never leaving a separator at a line's start or end; record
    text is plain, never markup."""

    DEFAULT_CSS = "PartsLine { height: auto; }"

    def __init__(self, parts: Sequence[str], *, separator: str = SEPARATOR, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.parts = [clean_line(part) for part in parts]
        self.separator = separator

    def lines(self, width: int) -> list[str]:
        return wrapped(self.parts, max(1, width), self.separator)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.lines(width)))

    def render(self) -> Content:
        return Content("\n".join(self.lines(self.content_size.width)))
