"""Outdoors readability (issue 21): WCAG contrast of every status, error and warning color on
the background it is drawn on is at least 7:1 (AAA); field errors are at least 14 px."""

from __future__ import annotations

import pytest

from canvass.views import common, palette
from canvass.views.palette import TEXT_ON, contrast


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the AA grey


@pytest.mark.parametrize("kind", sorted(TEXT_ON))
def test_text_colors_reach_aaa_on_their_background(kind):
    for fg, bg in TEXT_ON[kind]:
        assert contrast(fg, bg) >= 7.0, f"{kind}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_the_views_draw_with_the_tested_palette():
    assert (common.DANGER, common.OK_FG, common.WARN_FG, common.PRIMARY) == (
        palette.DANGER, palette.OK_FG, palette.WARN_FG, palette.PRIMARY)
    field = common.field("ZIP code", "", error="Enter a 5-digit ZIP code.")
    assert field.error_style.size >= 14 and field.error_style.color == palette.DANGER
