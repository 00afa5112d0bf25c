"""sql/README.md lists the local engine's surface as surface.py declares it (regenerate with
`python -m glue_jobs.adapters.local.athena_sql.surface_doc --write`)."""
from __future__ import annotations

import pytest

from glue_jobs.adapters.local.athena_sql import surface_doc
from glue_jobs.adapters.local.athena_sql.surface import APPROXIMATE, EXACT, REFUSED, Entry


def test_the_readme_lists_the_surface_as_declared():
    readme = surface_doc.README.read_text(encoding="utf-8")
    expected = surface_doc.with_surface(readme, surface_doc.surface_markdown())
    assert readme == expected, ("sql/README.md's function list is not the surface's: run "
                                "python -m glue_jobs.adapters.local.athena_sql.surface_doc --write")


def test_the_generator_groups_by_section_and_shows_bounds_and_reasons():
    text = surface_doc.surface_markdown({
        "b": Entry("b", APPROXIMATE, "functions/aggregate", "within 2.3% | standard error"),
        "a": Entry("a", EXACT, "functions/math"),
        "c": Entry("c", REFUSED, "functions/aggregate", "not emulated"),
        "d": Entry("d", "odd", "functions/math"),
    })
    assert text.splitlines()[0] == "4 names: 1 exact, 1 approximate, 1 refused."
    assert text.index("### functions/aggregate") < text.index("### functions/math")
    assert "| `b` | approximate | within 2.3% \\| standard error |" in text
    assert "| `c` | refused | not emulated |" in text
    assert "| `d` | odd (unknown status) |  |" in text
    assert surface_doc.surface_markdown({}) == "0 names: 0 exact, 0 approximate, 0 refused.\n"


def test_a_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="the README has no generated section"):
        surface_doc.with_surface("# no markers\n", "x")
    body = f"head\n{surface_doc.BEGIN}\nold\n{surface_doc.END}\ntail\n"
    assert surface_doc.with_surface(body, "new\n") == f"head\n{surface_doc.BEGIN}\n\nnew\n\n{surface_doc.END}\ntail\n"
