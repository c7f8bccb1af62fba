"""Speed matching, lab offsets and between-subject spread for fukuchi2018 (figures; only sanity here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gait2hip.data import load_dataset
from gait2hip.data.fukuchi_evidence import (
    convention_evidence,
    evidence_summary,
    lab_offsets,
    matched_speeds,
    shift_table,
    subject_spread,
)


def test_stance_shortens_from_slow_to_fast(shared: Path) -> None:
    table = matched_speeds(shared).set_index("condition")
    assert table.loc["S", "stance_right"] > table.loc["C", "stance_right"] > table.loc["F", "stance_right"]
    assert (
        table.loc["S", "vanderzee_speed"]
        <= table.loc["C", "vanderzee_speed"]
        <= table.loc["F", "vanderzee_speed"]
    )
    # the two legs of a healthy group stand for the same share of their cycles
    assert np.allclose(table["stance_right"], table["stance_left"], atol=1.0)


def test_lab_offsets_cover_every_condition_and_channel(shared: Path) -> None:
    offsets = lab_offsets(shared, fukuchi=load_dataset("fukuchi2018"), default=load_dataset("default"))
    assert len(offsets) == 3 * 5
    assert offsets.groupby("condition")["n_fukuchi"].first().to_dict() == {"S": 60, "C": 60, "F": 58}
    assert (offsets["n_default"] > 100).all()  # healthy simulated cycles per cadence label
    knee = offsets[offsets["channel"] == "knee_angle"]
    assert (knee["fukuchi_rom"] > 50).all() and (knee["vanderzee_rom"] > 50).all()


def test_evidence_summary_covers_all_speeds(shared: Path) -> None:
    table = convention_evidence(shared, all_speeds=True)
    summary = evidence_summary(table)
    assert len(summary) == 2 * 8
    assert set(summary["best_is_mapped_vdZ"].str.split("/").str[1]) == {"12"}
    assert (summary["r_vdZ_min_all"] > 0).all()  # the mapped sign holds against every speed


def test_shift_table_and_spread() -> None:
    real = load_dataset("fukuchi2018")
    shifts = shift_table(real)
    assert len(shifts) == len(real) and shifts["other_heel_strike_percent"].notna().all()
    spread = subject_spread({"fukuchi2018": real})
    assert (spread["n_subjects"] == 30).all() and (spread["sd_of_subject_mean"] > 0).all()
