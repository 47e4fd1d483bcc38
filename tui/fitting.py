"""Lines that say less, or take more lines, rather than cut a figure in half: a bar keeps
its most important parts when narrow, a summary wraps between its parts, never in one."""

from __future__ import annotations

from rich.cells import cell_len


def by_priority(parts: list[tuple[int, str]], width: int, sep: str = " · ") -> str:
    """The parts in their order, leaving out the least important (the highest number)
    until the line fits ``width``."""
    kept = list(parts)
    while len(kept) > 1 and cell_len(sep.join(text for _, text in kept)) > width:
        kept.remove(max(kept, key=lambda part: part[0]))
    return sep.join(text for _, text in kept)


def pack(parts: list[str], width: int, sep: str = " · ") -> list[str]:
    """The parts on as few lines as they fit, each line breaking between two parts."""
    lines: list[str] = []
    for part in parts:
        if lines and cell_len(lines[-1] + sep + part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines


def whole_words(text: str, width: int) -> str:
    """``text`` if it fits ``width``, else its longest run of leading whole words that
    does ("Initial contact" → "Initial", "Won / signed" → "Won"): a shorter form, never
    a cut word. Only a first word wider than ``width`` itself is cut."""
    if cell_len(text) <= width:
        return text
    words = text.split()
    for count in range(len(words) - 1, 0, -1):
        # a prefix ending on a separator ("Won /") reads as cut: drop it too
        shorter = " ".join(words[:count]).rstrip(" /-–—,;:&+·")
        if shorter and cell_len(shorter) <= width:
            return shorter
    return text[:width]
