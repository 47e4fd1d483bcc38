from __future__ import annotations

from pathlib import Path

import pytest

from tui.themes import THEME_VARIABLE_DEFAULTS, builtin_theme_files, has_16_colours, load_themes, parse_theme


def test_the_built_in_themes_load_and_define_every_domain_variable() -> None:
    themes, problems = load_themes(None)
    assert problems == []
    names = {t.name for t in themes}
    assert {"dealdeck-dark", "dealdeck-light", "dealdeck-projector", "dealdeck-colorblind",
            "dealdeck-ansi"} <= names
    for path in builtin_theme_files():
        assert set(THEME_VARIABLE_DEFAULTS) <= set(parse_theme(path).variables), path.name


def test_the_projector_theme_is_light_and_never_dim() -> None:
    projector = parse_theme(next(p for p in builtin_theme_files() if p.stem == "projector"))
    assert not projector.dark and projector.text_alpha == 1.0
    assert projector.background == "#FFFFFF" and projector.foreground == "#000000"


@pytest.mark.parametrize(("text", "problem"), [
    ("name: Bad Name\nprimary: red\n", "name"),
    ("name: ok\n", "primary"),
    ("name: ok\nprimary: notacolour\n", "bad colour"),
    ("[unclosed", "cannot read"),
])
def test_a_bad_user_theme_is_skipped_with_a_reason(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "mine.yaml").write_text(text)
    themes, problems = load_themes(tmp_path)
    assert [p.path.name for p in problems] == ["mine.yaml"] and problem in problems[0].problem
    assert "dealdeck-dark" in {t.name for t in themes}


@pytest.mark.parametrize(("environ", "sixteen"), [
    ({"TERM": "xterm"}, True),
    ({"TERM": "linux"}, True),
    ({"TERM": "xterm-256color"}, False),
    ({"TERM": "xterm", "COLORTERM": "truecolor"}, False),
    ({"TERM": "tmux-256color"}, False),
    ({}, False),
])
def test_16_colour_terminals_are_recognised(environ: dict[str, str], sixteen: bool) -> None:
    assert has_16_colours(environ) is sixteen
