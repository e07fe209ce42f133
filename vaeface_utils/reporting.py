"""Results tables: mean ± standard deviation over splits, with literature numbers marked as quoted.

:func:`results_table`
    One :class:`ResultRow` per method from its per-split accuracies, then
    any :class:`QuotedResult` rows (such as :data:`QUOTED_ORL_5_5`), marked
    "quoted, not measured" so that a number from a paper is never mixed up
    with a measurement.
:func:`format_table`
    Those rows as plain text, for printing in a notebook.
:func:`percent_text` and :func:`sample_std`
    The two numbers behind every row.

Accuracies and error rates are fractions in [0, 1]; tables show percent.

>>> percent_text(0.975, 0.012)
'97.5 ± 1.2 %'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from ._validate import int_in

__all__ = [
    "QuotedResult",
    "QUOTED_ORL_5_5",
    "ResultRow",
    "percent_text",
    "sample_std",
    "results_table",
    "format_table",
]


@dataclass(frozen=True)
class QuotedResult:
    """A number from the literature: shown in tables, never mixed up with a measurement.

    Attributes
    ----------
    method : str
    error : float
        Error rate in [0, 1] as published.
    protocol : str
        E.g. ``"ORL, 5 training / 5 test images per person"``.
    source : str
        Citation.
    """

    method: str
    error: float
    protocol: str
    source: str

    @property
    def accuracy(self) -> float:
        return 1.0 - self.error


#: Lawrence, Giles, Tsoi & Back (1997), "Face recognition: a convolutional
#: neural-network approach", IEEE Trans. Neural Networks 8(1): 98-113; ORL,
#: 5 training and 5 test images per person.
QUOTED_ORL_5_5 = (
    QuotedResult("eigenfaces", 0.105, "ORL 5/5", "Lawrence et al. 1997"),
    QuotedResult("SOM + CNN", 0.038, "ORL 5/5", "Lawrence et al. 1997"),
)


@dataclass(frozen=True)
class ResultRow:
    """One row of a results table.

    Attributes
    ----------
    method : str
    mean : float
        Accuracy in [0, 1].
    std : float
        Sample standard deviation over splits; NaN for one split or a quoted number.
    n_splits : int or None
        None for a quoted number.
    text : str
        E.g. ``"97.5 ± 1.2 %"``.
    note : str
        Empty for a measurement; ``"quoted, not measured: <source>, <protocol>"``
        for a number from the literature.
    """

    method: str
    mean: float
    std: float
    n_splits: int | None
    text: str
    note: str = ""

    @property
    def quoted(self) -> bool:
        return self.n_splits is None


def percent_text(mean: float, std: float, digits: int = 1) -> str:
    """A fraction as a percentage, with its standard deviation unless that is NaN.

    Parameters
    ----------
    mean : float
        A fraction in [0, 1], e.g. an accuracy.
    std : float
        Its standard deviation, a fraction too; NaN for none.
    digits : int, default 1
        Decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> percent_text(0.9, 0.01), percent_text(0.895, float("nan"))
    ('90.0 ± 1.0 %', '89.5 %')
    """
    if np.isnan(std):
        return f"{100 * mean:.{digits}f} %"
    return f"{100 * mean:.{digits}f} ± {100 * std:.{digits}f} %"


def sample_std(values) -> float:
    """The sample standard deviation (``ddof=1``) of per-split values; NaN for a single value.

    Parameters
    ----------
    values : array_like of float, shape (n_splits,)

    Returns
    -------
    float

    Examples
    --------
    >>> round(sample_std([0.9, 1.0]), 4), sample_std([0.9])
    (0.0707, nan)
    """
    values = np.asarray(values, dtype=np.float64)
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def results_table(accuracies: Mapping[str, Sequence[float]], *,
                  quoted: Iterable[QuotedResult] = (), digits: int = 1) -> list[ResultRow]:
    """Rows of mean ± standard deviation, one per method, then any quoted numbers.

    Parameters
    ----------
    accuracies : mapping of str to array_like of float or IdentificationResult
        Method name to its per-split accuracies, fractions in [0, 1]; an
        :class:`~vaeface_utils.identification.IdentificationResult` (anything
        with ``.accuracies``) stands for its accuracies.
    quoted : iterable of QuotedResult, optional
        Literature numbers, e.g. :data:`QUOTED_ORL_5_5`; appended after the
        measurements and marked "quoted, not measured".
    digits : int, default 1
        Decimals of the percentages.

    Returns
    -------
    list of ResultRow
        In the order given; the standard deviation is the sample one
        (``ddof=1``) over splits, left out of ``text`` for a single split.

    Raises
    ------
    ValueError
        No methods, an empty list of accuracies, or values outside [0, 1]
        (percentages passed by mistake).
    TypeError
        ``quoted`` holds something other than QuotedResult.

    Examples
    --------
    >>> rows = results_table({"eigenfaces + 1-NN": [0.95, 0.97]}, quoted=QUOTED_ORL_5_5[:1])
    >>> [row.text for row in rows]
    ['96.0 ± 1.4 %', '89.5 %']
    >>> rows[1].note
    'quoted, not measured: Lawrence et al. 1997, ORL 5/5'
    """
    if not accuracies:
        raise ValueError("`accuracies` is empty; pass {method name: list of per-split accuracies}.")
    int_in(digits, "digits", 0, 6, "Use 1 for one decimal.")
    rows = []
    for method, values in accuracies.items():
        values = getattr(values, "accuracies", values)  # an IdentificationResult
        a = np.asarray(values, dtype=np.float64).ravel()
        if a.size == 0:
            raise ValueError(f"Method {method!r} has no accuracies; pass one per split.")
        if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
            raise ValueError(
                f"Accuracies of {method!r} must be fractions in [0, 1]; got values from {a.min()} to {a.max()}. "
                "Divide percentages by 100."
            )
        mean, std = float(a.mean()), sample_std(a)
        rows.append(ResultRow(str(method), mean, std, int(a.size), percent_text(mean, std, digits)))
    for q in quoted:
        if not isinstance(q, QuotedResult):
            raise TypeError(f"`quoted` must hold QuotedResult items; got {type(q).__name__}. Use QUOTED_ORL_5_5.")
        rows.append(ResultRow(q.method, q.accuracy, float("nan"), None, percent_text(q.accuracy, float("nan"), digits),
                              f"quoted, not measured: {q.source}, {q.protocol}"))
    return rows


def format_table(rows: Sequence[ResultRow], *, title: str | None = None) -> str:
    """A plain-text table of :func:`results_table` rows, for printing in a notebook.

    Parameters
    ----------
    rows : sequence of ResultRow
    title : str, optional
        A first line, e.g. ``"ORL 64x64, 5/5 split, 10 seeds"``.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_table(results_table({"pixels + 1-NN": [0.9, 0.92]}, quoted=QUOTED_ORL_5_5[1:])))
    method         accuracy      splits  note
    -------------  ------------  ------  ---------------------------------------------------
    pixels + 1-NN  91.0 ± 1.4 %  2
    SOM + CNN      96.2 %        -       quoted, not measured: Lawrence et al. 1997, ORL 5/5
    """
    if not rows or not all(isinstance(r, ResultRow) for r in rows):
        raise ValueError("`rows` must be a non-empty list from results_table(...).")
    header = ("method", "accuracy", "splits", "note")
    cells = [(r.method, r.text, "-" if r.n_splits is None else str(r.n_splits), r.note) for r in rows]
    widths = [max(len(header[k]), *(len(c[k]) for c in cells)) for k in range(4)]
    line = lambda c: "  ".join(s.ljust(w) for s, w in zip(c, widths)).rstrip()  # noqa: E731
    out = ([title] if title else []) + [line(header), line(["-" * w for w in widths])] + [line(c) for c in cells]
    return "\n".join(out)
