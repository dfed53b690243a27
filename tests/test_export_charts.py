"""Inline SVG charts: valid XML, axes and labels, gaps kept, no NaN, any number of points."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

from kinesio_tui.export.charts import Chart, Series, nice_ticks, render_svg, runs

#: The built-in programme's shape: 45 visits, doctor's appointments at 1, 8, 15, ...
SHAPE: dict[str, Any] = {"x_max": 45, "x_ticks": (1, 8, 15, 23, 30, 38, 45)}


def vas_chart(points: list[tuple[int, float]], missing: frozenset[int] = frozenset()) -> ET.Element:
    chart = Chart(
        title="VAS pain (/10)",
        unit="/10",
        y_min=0,
        y_max=10,
        series=[Series("VAS pain", points)],
        **SHAPE,
        threshold=5.6,
        threshold_label="clinically important change: 5.6/10",
        missing=missing,
    )
    svg = render_svg(chart)
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    return ET.fromstring(svg)


def polylines(root: ET.Element) -> list[list[tuple[float, float]]]:
    out = []
    for line in root.iter("polyline"):
        pairs = [p.split(",") for p in line.attrib["points"].split()]
        out.append([(float(x), float(y)) for x, y in pairs])
    return out


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("text")]


def test_axes_labels_and_threshold_are_drawn() -> None:
    root = vas_chart([(1, 8.0), (2, 7.5)])
    labels = texts(root)
    assert "VAS pain (/10)" in labels and "Visit in the programme" in labels and "/10" in labels
    assert {"0", "2", "4", "6", "8", "10"} <= set(labels)  # y axis ticks
    assert {"1", "8", "15", "45"} <= set(labels)  # x axis: doctor's appointments
    assert any("clinically important" in t for t in labels)
    threshold = [ln for ln in root.iter("line") if ln.get("class") == "threshold"]
    assert len(threshold) == 1
    assert root.find("title") is not None and root.get("role") == "img"


def test_one_point_is_a_marker_without_a_line() -> None:
    root = vas_chart([(1, 7.0)])
    assert polylines(root) == []
    assert len(list(root.iter("circle"))) == 1


def test_two_points_make_one_line() -> None:
    root = vas_chart([(1, 7.0), (2, 6.0)])
    lines = polylines(root)
    assert [len(line) for line in lines] == [2]
    (x1, y1), (x2, y2) = lines[0]
    assert x2 > x1 and y2 > y1  # lower pain is drawn lower


def test_forty_five_points_span_the_axis() -> None:
    points = [(seq, 8 - seq * 0.15) for seq in range(1, 46)]
    root = vas_chart(points)
    lines = polylines(root)
    assert [len(line) for line in lines] == [45]
    xs = [x for x, _ in lines[0]]
    assert xs == sorted(xs) and xs[-1] - xs[0] > 500
    assert len(list(root.iter("circle"))) == 45


def test_missed_visits_break_the_line() -> None:
    points = [(seq, 6.0) for seq in range(1, 11) if seq not in (4, 7)]
    root = vas_chart(points, missing=frozenset({4, 7}))
    assert [len(line) for line in polylines(root)] == [3, 2, 3]
    assert len([ln for ln in root.iter("line") if ln.get("class") == "missed"]) == 2


def test_unmeasured_visits_between_doctor_checks_do_not_break_the_line() -> None:
    assert [len(r) for r in runs([(1, 35.0), (8, 40.0), (15, 49.0)], frozenset({20}))] == [3]


def test_nan_and_out_of_range_values_are_safe() -> None:
    root = vas_chart([(1, math.nan), (2, 12.0), (3, -1.0)])
    ys = [y for line in polylines(root) for _, y in line]
    assert len(ys) == 2 and all(math.isfinite(y) for y in ys)


def test_empty_chart_says_so_and_two_series_get_a_legend() -> None:
    empty = ET.fromstring(render_svg(Chart("SLR", "°", 0, 90, [], **SHAPE)))
    assert "No values recorded" in texts(empty)
    two = Chart(
        "SLR", "°", 0, 90, [Series("Left", [(1, 35.0)]), Series("Right", [(1, 40.0)])], **SHAPE
    )
    labels = texts(ET.fromstring(render_svg(two)))
    assert "Left" in labels and "Right" in labels


def test_titles_are_escaped() -> None:
    root = ET.fromstring(render_svg(Chart("<b>&</b>", "", 0, 1, [], **SHAPE)))
    assert "<b>&</b>" in texts(root)


def test_nice_ticks() -> None:
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 90) == [0, 20, 40, 60, 80]
    assert nice_ticks(0, 15) == [0, 5, 10, 15]
