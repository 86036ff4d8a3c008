"""Robustness at scale: specification curves and design power, on local cores or a Dask cluster."""
from .curve import SpecificationCurve, default_index_builder, specification_curve
from .power import PowerResult, design_power
from .specs import DIMENSIONS, Specification, expand_grid

__all__ = ["SpecificationCurve", "specification_curve", "default_index_builder", "DIMENSIONS", "Specification",
           "expand_grid", "PowerResult", "design_power"]
