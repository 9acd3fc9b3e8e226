"""The digest's chart, as a phone shows it: 390 px wide."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

from bot import charts, texts

WORDS = charts.ChartTexts(
    title=texts.CHART_TITLE.format(year=2026),
    cumulative=texts.CHART_CUMULATIVE,
    target_pace=texts.CHART_TARGET.format(target="1 200"),
    x_axis=texts.CHART_X_AXIS.format(year=2026),
    y_axis=texts.CHART_Y_AXIS,
    areas_title=texts.CHART_AREAS_TITLE.format(year=2026),
    areas_axis=texts.CHART_AREAS_AXIS,
    area_target=texts.CHART_AREA_TARGET,
    status=texts.CHART_STATUS,
)
DATA = charts.ChartData(
    year_weeks=[dt.date(2026, 1, 4) + dt.timedelta(days=7 * i) for i in range(40)],
    year_cumulative=[30 * i for i in range(40)],
    yearly_target=1200,
    areas=[
        charts.Area("Villa d'Este / Bédier / Oudiné-Chevaleret", 180, None),
        charts.Area("19e Sud", 150, 200),
        charts.Area("Porte de Vanves", 90, None),
    ],
)


def texts_of(figure: Any) -> list[Any]:
    """Every visible text of the figure, tick labels included."""
    from matplotlib.text import Text

    figure.canvas.draw()  # tick labels exist once drawn
    found = list(figure.findobj(Text))
    for axes in figure.axes:
        found += axes.get_xticklabels() + axes.get_yticklabels()
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def test_no_text_under_10_px_when_shown_390_px_wide() -> None:
    figure = charts.build_figure(DATA, WORDS)
    width_px = figure.get_figwidth() * figure.dpi
    scale = charts.PHONE_WIDTH_PX / width_px
    for text in texts_of(figure):
        height_px = text.get_fontsize() * figure.dpi / 72 * scale
        assert height_px >= charts.MIN_TEXT_PX, (text.get_text(), height_px)


def test_french_formats_axis_titles_and_one_bar_per_neighbourhood() -> None:
    figure = charts.build_figure(DATA, WORDS)
    shown = [t.get_text() for t in texts_of(figure)]
    year, areas = figure.axes
    assert year.get_xlabel() == "Mois (2026)"
    assert year.get_ylabel() == "Personnes accrochées"
    assert areas.get_xlabel() == "Personnes accrochées dans l'année"
    assert "janv." in shown
    assert "1\u202f200" in shown  # French grouping
    assert "1\u202f170 au 04/10 · selon le rythme de l'objectif : 911" in shown
    assert "150 / obj. 200" in shown
    bars = areas.patches
    assert len(bars) == len(DATA.areas)  # side by side, never stacked
    assert {bar.get_x() for bar in bars} == {0}
    colours = {line.get_color().upper() for line in year.get_lines()}
    assert colours <= {c.upper() for c in charts.OKABE_ITO.values()}


def test_the_png_and_the_lazy_import() -> None:
    png = charts.render_png(DATA, WORDS)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == charts.WIDTH_IN * charts.DPI
    # Importing the bot's modules does not import matplotlib (54 MiB): only drawing does.
    code = "import sys, bot.app, bot.charts, jobs.digest; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
