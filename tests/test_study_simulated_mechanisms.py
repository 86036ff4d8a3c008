"""data/studies/simulated_mechanisms.yaml: the study notebook 05 uses on the shipped SIMULATED panel.

It names the simulated panel's mechanism columns by their yearbook labels, as a user's study would;
the notebook itself names none of them. This checks that every label resolves to the column the
simulated truth (data/synthetic/truth.json) is about.
"""
from __future__ import annotations

from analysis.reporting import project_root
from analysis.study import Study

PATH = project_root() / "data" / "studies" / "simulated_mechanisms.yaml"


def test_simulated_mechanisms_study_resolves_to_the_truths_columns():
    study = Study.from_yaml(PATH)
    assert study.data_path is None  # the shipped panel, never a user's file
    panel, roles = study.load()
    # truth.json: mediation through land_transfer_rate, moderation by digital_gov, threshold of loans_gdp
    assert roles["outcome"] == "rural_income"
    assert roles["mediators"] == ["land_transfer_rate"]
    assert roles["moderators"] == ["digital_gov"]
    assert roles["controls"] == ["loans_gdp"]
    assert roles["did"] == "did" and panel["did"].sum() > 0
    for col in roles["mediators"] + roles["moderators"] + roles["controls"] + [roles["outcome"]]:
        assert panel[col].notna().mean() > 0.99, col
