"""Threads of scikit-learn's native code (OpenMP, BLAS), limited where they cost time.

On a machine shared with other work, OpenMP threads spin while they wait for each other: the
editimpute example's fit took 72 s instead of 2.5 s on a 2-core machine with two other busy
processes (``OMP_NUM_THREADS=2`` against ``1``), and small data gain nothing from threads even
on a quiet machine. Large data keep every thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

SMALL_DATA = 20_000
"""Fewest records fitted or scored at once for which native code may use several threads."""


@contextmanager
def limited_threads(n: int) -> Iterator[None]:
    """At most ``n`` OpenMP and BLAS threads inside. threadpoolctl limits only the libraries
    already loaded, and scikit-learn loads its OpenMP runtime with the estimator modules that
    use it (often inside ``fit``), so that runtime is loaded first."""
    try:  # the module of scikit-learn that holds its OpenMP runtime
        import sklearn.utils._openmp_helpers  # noqa: F401
    except ImportError:  # its place may change: the estimators load it too
        import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


@contextmanager
def few_threads(records: int) -> Iterator[None]:
    """One thread while ``records`` (fitted or scored together) are fewer than
    :data:`SMALL_DATA`; every thread otherwise."""
    if records >= SMALL_DATA:
        yield
        return
    with limited_threads(1):
        yield
