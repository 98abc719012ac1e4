"""The same drives through open-source record-linkage tools, reduced to Canvass's per-entry
decisions (see quality.py).

Both tools get the *same* cleaned input columns, produced by Canvass's own normalizer
(``sync.normalize.normalized_record``: casefolded, accents dropped, nicknames mapped,
USPS Pub 28 streets, units without designators, ZIP5). That is at least the cleaning their
documentation asks the user to do, so the comparison is about matching and deciding, not
about who cleans text better.

- splink (Fellegi-Sunter on DuckDB), configured like its "deduplicate 50k synthetic" example:
  NameComparison on first name and surname with term-frequency adjustments, Levenshtein/
  Jaro-Winkler levels for house, street and ZIP, several blocking rules, ``estimate_probability_
  two_random_records_match`` from a deterministic rule, ``estimate_u_using_random_sampling``,
  then EM on two blocking rules, ``predict``. (ForenameSurnameComparison, which also handles
  swapped names, fared no better: EM learns the same household confusion.) EM here converges
  to "same address = same person" (households break the conditional-independence
  assumption), so a second variant takes m from the ground-truth labels
  (``estimate_m_from_label_column``): an oracle, splink's best case. Decisions at match
  probability >= 0.5 (the Fellegi-Sunter decision point) and >= 0.95 (its clustering example).
- recordlinkage (Python Record Linkage Toolkit), as in its deduplication guide: an Index of
  Block() passes, Compare() with Jaro-Winkler thresholded strings (0.85) and exact matches,
  then the unsupervised ECMClassifier; also the guide's feature-sum rule (>= 4 of 6 agree),
  and a LogisticRegressionClassifier fitted on the true links of the same drive (oracle).

An entry's decision is its best-scoring pair with an *earlier* entry of the stream.
"""

from __future__ import annotations

import logging
import time

from sync.normalize import normalized_record
from sync.synthetic import Drive

from .quality import Scores, score_decisions


def clean_frame(drive: Drive):
    import pandas as pd

    rows = []
    for entry in drive.entries:
        r = normalized_record(entry.fields)
        rows.append({
            "unique_id": entry.index, "first_name": r.first_canonical or None, "surname": r.last or None,
            "middle_initial": r.middle_initial or None, "suffix": r.suffix or None,
            "house_number": r.house_number or None, "street": r.street or None, "unit": r.unit or None,
            "zip5": r.zip5 or None, "city": r.city or None,
        })
    frame = pd.DataFrame(rows)
    # House, street and ZIP are one comparison: as separate Fellegi-Sunter fields their
    # agreement weights multiply, and every household member would score as a match.
    frame["address"] = (frame["house_number"].fillna("") + " " + frame["street"].fillna("") + " "
                        + frame["zip5"].fillna(""))
    return frame


def _best_earlier(pairs, threshold_hi: float | None = None, threshold_lo: float = 0.0,
                  labels: tuple[str, str] = ("match", "match")) -> dict[int, tuple[str, int]]:
    """pairs: iterable of (id_l, id_r, score). Best earlier partner per entry."""
    best: dict[int, tuple[float, int]] = {}
    for a, b, score in pairs:
        a, b = int(a), int(b)
        early, late = (a, b) if a < b else (b, a)
        if score < threshold_lo:
            continue
        if late not in best or score > best[late][0]:
            best[late] = (score, early)
    out = {}
    for late, (score, early) in best.items():
        hi = threshold_hi is not None and score >= threshold_hi
        out[late] = (labels[0] if hi else labels[1], early)
    return out


# The decision of a peer's only row when it could not run: it carries no counts, so nothing
# reads it as a result.
NOT_RUN = "not run"


def run_splink(drive: Drive) -> list[Scores]:
    try:
        import splink
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError as exc:  # pragma: no cover - reported in the table
        return [Scores("splink", NOT_RUN, 0, 0, 0, note=f"not installed: {exc}")]
    logging.getLogger("splink").setLevel(logging.ERROR)
    frame = clean_frame(drive)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.ExactMatch("middle_initial"),
            cl.ExactMatch("suffix"),
            cl.LevenshteinAtThresholds("address", [1, 3, 6]),
            cl.ExactMatch("unit"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("zip5", "house_number"),
            block_on("surname", "zip5"),
            block_on("first_name", "house_number"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    frame["person_id"] = [e.person_id for e in drive.entries]
    out = []
    for variant in ("EM", "m from labels"):
        t0 = time.perf_counter()
        linker = Linker(DuckDBAPI().register(frame), settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "zip5", "house_number")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        if variant == "EM":
            # The documented unsupervised workflow: EM sessions on two blocking rules.
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("zip5", "house_number"))
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("first_name", "surname"))
        else:
            # Supervised m from the ground truth: an oracle, the best this model can do here.
            linker.training.estimate_m_from_label_column("person_id")
        predictions = linker.inference.predict(threshold_match_probability=0.2).as_pandas_dataframe()
        seconds = time.perf_counter() - t0
        pairs = list(zip(predictions["unique_id_l"], predictions["unique_id_r"],
                         predictions["match_probability"], strict=True))
        note = f"splink {splink.__version__}, DuckDB" + (", oracle m" if variant != "EM" else "")
        for threshold in (0.5, 0.95):
            decisions = _best_earlier(pairs, threshold_lo=threshold,
                                      labels=(f"{variant} p>={threshold}",) * 2)
            out += score_decisions(drive, "splink", decisions, seconds, note)
    return out


def run_recordlinkage(drive: Drive) -> list[Scores]:
    try:
        import recordlinkage
    except ImportError as exc:  # pragma: no cover
        return [Scores("recordlinkage", NOT_RUN, 0, 0, 0, note=f"not installed: {exc}")]
    import warnings

    warnings.filterwarnings("ignore", module="recordlinkage")
    t0 = time.perf_counter()
    frame = clean_frame(drive).set_index("unique_id")
    indexer = recordlinkage.Index()
    indexer.block(["zip5", "house_number"])
    indexer.block(["first_name", "surname"])
    indexer.block(["surname", "zip5"])
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85, label="first")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("middle_initial", "middle_initial", label="middle")
    compare.exact("suffix", "suffix", label="suffix")
    compare.string("address", "address", method="levenshtein", threshold=0.85, label="address")
    compare.exact("unit", "unit", label="unit")
    features = compare.compute(candidates, frame)
    seconds_features = time.perf_counter() - t0
    note = f"recordlinkage {recordlinkage.__version__}; {len(candidates)} candidate pairs"
    out = []
    t1 = time.perf_counter()
    ecm = recordlinkage.ECMClassifier(binarize=None)
    links = ecm.fit_predict(features)
    probs = ecm.prob(features.loc[links]) if len(links) else []
    pairs = [(a, b, float(p)) for (a, b), p in zip(links, probs, strict=True)]
    out += score_decisions(drive, "recordlinkage", _best_earlier(pairs, labels=("ECM",) * 2),
                           seconds_features + time.perf_counter() - t1, note)
    # Supervised, trained on the true links of this same drive: an oracle upper bound.
    t2 = time.perf_counter()
    person = {e.index: e.person_id for e in drive.entries}
    true_links = features.index[[person[a] == person[b] for a, b in features.index]]
    if len(true_links):
        logreg = recordlinkage.LogisticRegressionClassifier()
        logreg.fit(features, true_links)
        predicted = logreg.predict(features)
        probs = logreg.prob(features.loc[predicted]) if len(predicted) else []
        pairs = [(a, b, float(p)) for (a, b), p in zip(predicted, probs, strict=True)]
        out += score_decisions(drive, "recordlinkage",
                               _best_earlier(pairs, labels=("LogReg on true links",) * 2),
                               seconds_features + time.perf_counter() - t2, note + ", oracle")
    total = features.sum(axis=1)
    kept = total[total >= 4]
    pairs = [(a, b, float(s)) for (a, b), s in kept.items()]
    out += score_decisions(drive, "recordlinkage", _best_earlier(pairs, labels=("sum>=4 of 6",) * 2),
                           seconds_features, note)
    return out
