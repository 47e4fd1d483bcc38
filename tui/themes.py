"""Themes: YAML files (Dealdeck's own in ``themes/``, the user's in ``<data>/themes/``)
turned into Textual ``Theme`` objects.

A theme is Textual's base colours plus named variables for the domain (grades,
stages, health, overdue) that the stylesheet and the renderers use; a user theme
that leaves a variable out gets the default from ``THEME_VARIABLE_DEFAULTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from textual.theme import Theme

DEFAULT_THEME = "dealdeck-dark"
PROJECTOR_THEME = "dealdeck-projector"
ANSI_THEME = "dealdeck-ansi"

THEME_VARIABLE_DEFAULTS: dict[str, str] = {
    "grade-a": "#63C17A", "grade-b": "#5AA9E6", "grade-c": "#F2C14E", "grade-d": "#9AA4B2",
    "stage-early": "#7FC8F8", "stage-mid": "#5AA9E6", "stage-late": "#FFB454",
    "stage-won": "#63C17A", "stage-lost": "#F25F5C",
    "health-good": "#63C17A", "health-watch": "#F2C14E", "health-risk": "#F25F5C",
    "overdue": "#F25F5C", "funnel-bar": "#5AA9E6", "quiet": "#9AA4B2",
}


def has_16_colours(environ: dict[str, str]) -> bool:
    """True for a terminal that shows only the 16 ANSI colours (e.g. ``TERM=xterm``,
    ``COLORTERM`` unset), where exact theme colours would be rounded badly."""
    if environ.get("COLORTERM") or environ.get("TEXTUAL_COLOR_SYSTEM") in ("256", "truecolor"):
        return False
    term = environ.get("TERM", "").lower()
    rich_terms = ("256", "direct", "truecolor", "24bit", "kitty", "alacritty", "wezterm", "ghostty")
    return bool(term) and not any(marker in term for marker in rich_terms)


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    dark: bool = True
    ansi: bool = False
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    variables: dict[str, str] = {}

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"theme {self.path.name} skipped: {self.problem}"


def parse_theme(path: Path) -> Theme:
    """One theme file as a Theme; ValueError with a one-line reason otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read it ({type(exc).__name__})") from None
    try:
        theme = ThemeFile.model_validate(raw).to_theme()
        theme.to_color_system()  # parses every colour: fail here, not on first paint
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ValueError(f"{where}: {first['msg']}") from None
    except Exception as exc:  # Textual's colour parser raises its own error types
        raise ValueError(f"bad colour ({exc})") from None
    return theme


def builtin_theme_files() -> list[Path]:
    folder = files("themes")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_themes(user_folder: Path | None) -> tuple[list[Theme], list[ThemeProblem]]:
    """Built-in themes, then the user's (a user theme may replace a built-in one)."""
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    paths = builtin_theme_files()
    if user_folder is not None and user_folder.is_dir():
        paths += sorted(user_folder.glob("*.yaml")) + sorted(user_folder.glob("*.yml"))
    for path in paths:
        try:
            theme = parse_theme(path)
        except ValueError as exc:
            problems.append(ThemeProblem(path, str(exc)))
            continue
        themes[theme.name] = theme
    return list(themes.values()), problems
