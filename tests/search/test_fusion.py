"""Fusion functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textlens.search.fusion import convex, min_max, rrf


def test_rrf_by_hand() -> None:
    a = {"x": 10.0, "y": 5.0}
    b = {"y": 0.9, "z": 0.8}
    fused = dict(rrf([a, b], k=60))
    assert fused["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["x"] == pytest.approx(1 / 61) and fused["z"] == pytest.approx(1 / 62)
    assert [d for d, _ in rrf([a, b])] == ["y", "x", "z"]


def test_convex_by_hand() -> None:
    a = {"x": 10.0, "y": 5.0, "w": 0.0}
    b = {"y": 1.0, "z": 0.0}
    fused = dict(convex([a, b], [0.3, 0.7]))
    assert fused["x"] == pytest.approx(0.3) and fused["y"] == pytest.approx(0.3 * 0.5 + 0.7)
    with pytest.raises(ValueError):
        convex([a], [0.0])


runs = st.dictionaries(st.text(min_size=1, max_size=3), st.floats(-10, 10, allow_nan=False), max_size=20)


@given(runs, runs)
def test_fusion_keeps_every_id_once_and_is_sorted(a, b) -> None:
    for fused in (rrf([a, b]), convex([a, b], [1, 1])):
        ids = [d for d, _ in fused]
        assert sorted(ids) == sorted(set(a) | set(b))
        scores = [s for _, s in fused]
        assert scores == sorted(scores, reverse=True)


@given(runs)
def test_min_max_range(a) -> None:
    assert all(0.0 <= v <= 1.0 for v in min_max(a).values())
