"""make bench's statistics: medians over the rounds, ratios, and the 95%
bootstrap interval of a median that the headline figures carry."""

import random
import statistics

nan = float("nan")


def med(xs: list) -> float:
    """The median of xs, nan if there is none."""
    return statistics.median(xs) if xs else nan


def ratio(a: float, b: float) -> float:
    return a / b if b else nan


def ci95(xs: list, n: int = 2000) -> tuple:
    """95% percentile-bootstrap interval of the median of xs (the rounds),
    with a fixed seed so that a report rewritten from the same raw figures
    says the same."""
    xs = [x for x in xs if x == x]
    if len(xs) < 2:
        return nan, nan
    rng = random.Random(1)
    boots = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return boots[int(0.025 * n)], boots[int(0.975 * n) - 1]


def with_ci(xs: list, fmt: str = "%.1f") -> str:
    """"median [lo, hi]" of the rounds."""
    lo, hi = ci95(xs)
    return (fmt + " [" + fmt + ", " + fmt + "]") % (med(xs), lo, hi)


def interleaved(keys: list, r: int) -> list:
    """The kernels of round r, in an order that starts one further each
    round (A B C, B C A, ...): no kernel always runs first or after the
    same one, and drifts of the host hit every kernel alike."""
    return keys[r % len(keys):] + keys[:r % len(keys)]
