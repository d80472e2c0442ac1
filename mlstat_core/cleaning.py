"""A saved model's text cleaning checked against the installed one.

A text model learns from cleaned text (numbers and units made canonical, links and mentions
replaced by tokens) and scores new text cleaned by the plugin installed when it scores. When
a plugin's cleaning rules change between versions, a model trained before cleans new text
otherwise than its training text: some texts score differently, without any error. So a
model keeps how its cleaning treated a fixed set of probe texts (:func:`cleaning_sample`),
and warns when it scores where the installed cleaning treats them otherwise
(:func:`check_cleaning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

Cleaner = Callable[[list[str]], list[str]]
"""A plugin's cleaning: texts in, cleaned texts out, one for one."""

VERSIONED_SINCE = "2026-12-02"
"""The day models began to keep their cleaning sample: older ones cannot be checked."""


class CleaningChangedWarning(UserWarning):
    """A saved model's text cleaning differs from the installed one (or cannot be checked)."""


def cleaning_sample(clean: Cleaner, probes: Sequence[str]) -> dict[str, str]:
    """How ``clean`` treats each probe text: kept with the model when it is trained."""
    return dict(zip(probes, clean(list(probes)), strict=True))


def check_cleaning(saved: dict[str, str] | None, clean: Cleaner, what: str,
                   changed_since: str = "") -> None:
    """Warn (:class:`CleaningChangedWarning`) when the installed ``clean`` treats the probe
    texts of ``saved`` (:func:`cleaning_sample` at training) otherwise, naming the first that
    differs; or when there is no sample (a model saved before samples were kept), saying
    what changed before (``changed_since``) and how to be sure. ``what`` names the cleaning
    in the message (``the text cleaning of mlstat-coding``)."""
    if not isinstance(saved, dict):
        warnings.warn(
            f"this model keeps no sample of {what} (it was trained before {VERSIONED_SINCE}), "
            "so whether the installed cleaning is the one it learnt with cannot be checked"
            + (f"; {changed_since}" if changed_since else "")
            + ": retrain it with the installed version to be sure it scores as assessed",
            CleaningChangedWarning, stacklevel=3)
        return
    probes = [str(p) for p in saved]
    now = cleaning_sample(clean, probes)
    differ = [p for p in probes if now[p] != saved[p]]
    if differ:
        first = differ[0]
        warnings.warn(
            f"this model was trained with another version of {what} than the installed one: "
            f"{len(differ)} of {len(probes)} sample texts are cleaned otherwise (for example "
            f"{first!r} became {saved[first]!r} in training and becomes {now[first]!r} now), so "
            "texts like them score otherwise than when the model was assessed: retrain it with "
            "the installed version", CleaningChangedWarning, stacklevel=3)


_CHECKED = "_mlstat_cleaning_checked"
"""The attribute that marks a model whose cleaning was checked (:func:`check_cleaning_once`)."""


def check_cleaning_once(model: object, saved: dict[str, str] | None, clean: Cleaner,
                        what: str, changed_since: str = "") -> None:
    """:func:`check_cleaning` the first time ``model`` scores, never again for it (it scores
    chunk after chunk); a model just trained passes, its sample being its own."""
    if getattr(model, _CHECKED, False):
        return
    mark_cleaning_checked(model)
    check_cleaning(saved, clean, what, changed_since)


def mark_cleaning_checked(model: object) -> None:
    """Check ``model``'s cleaning no more: a model inside another (twitter's base) whose
    owner has already warned once for both."""
    setattr(model, _CHECKED, True)
