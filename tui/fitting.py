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
