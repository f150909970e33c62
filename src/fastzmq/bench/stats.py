"""Small order statistics for benchmark samples (no numpy needed)."""

from __future__ import annotations

from typing import Sequence


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def spread_pct(values: Sequence[float]) -> float:
    """Range of the values as a percentage of their median: (max - min) / median."""
    mid = median(values)
    if mid == 0:
        return 0.0
    return 100.0 * (max(values) - min(values)) / mid
