"""Run many specifications, sharing the work they have in common, on local cores or a Dask cluster.

Shared work is done once: the integration index once per index setting (in the driver), the sample
and the within transformation once per (sample, fixed effects, complete-case pattern) group; each
TWFE specification of a group then costs one small least-squares solve and its clustered covariance
(computed by :func:`analysis.regression.vcov.compute_vcov`, the reghdfe rules of
:func:`analysis.regression.fe`). Groups are the unit of parallel work. Every specification's result
depends only on its choices (and its own seed, drawn from one ``SeedSequence``), so the table is
identical whatever the backend and the number of workers.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..demean import FixedEffects
from ..errors import ColumnError, SpecificationError, check_choice
from ..regression import vcov as _vc
from ..regression._sample import drop_singletons
from .specs import Specification

__all__ = ["Task", "Runner", "prepare_tasks", "run_task", "execute"]


def _as_tuple(v) -> tuple:
    if v is None:
        return ()
    if isinstance(v, str):
        return tuple(p.strip() for p in v.split("+")) if "+" in v else (v,)
    return tuple(v)


def index_key(choices: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in choices.items() if k.startswith("index.")))


def resolve_controls(choices, control_sets: Mapping[str, tuple]) -> tuple[str, ...]:
    value = choices.get("controls", ())
    if isinstance(value, str):
        if value not in control_sets:
            raise SpecificationError(f"control set {value!r} is not in base['control_sets'] ({list(control_sets)}).")
        return tuple(control_sets[value])
    return tuple(value or ())


def apply_sample(frame: pd.DataFrame, name, samples: Mapping[str, Any]) -> pd.DataFrame:
    if name is None or name == "full":
        rule = samples.get(name) if name in samples else None
    else:
        if name not in samples:
            raise SpecificationError(f"sample {name!r} is not in base['samples'] ({list(samples)}).")
        rule = samples[name]
    if rule is None:
        return frame
    if isinstance(rule, str):
        return frame.query(rule)
    if callable(rule):
        return rule(frame)
    raise SpecificationError(f"sample {name!r} must be None, a pandas query string or a function of the data.")


@dataclass
class Task:
    """One group of specifications that share a sample, fixed effects and complete-case rows."""

    frame: pd.DataFrame  # the group's rows and only the columns it needs
    fe: tuple[str, ...]
    specs: list[tuple[Specification, dict]]  # (spec, resolved: outcome column, treatment, controls, ...)
    n_sample: int  # rows in the sample before the complete-case and singleton steps


def _build_index(index_builder: Callable, data: pd.DataFrame, key: tuple) -> tuple[tuple, np.ndarray]:
    import warnings

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():  # same summation order in every process
        # per-year normalization is a deliberate alternative here; its warning would repeat per worker
        warnings.filterwarnings("ignore", message="scope='year' recomputes")
        settings = {k.split(".", 1)[1]: v for k, v in key}
        return key, np.asarray(index_builder(data, **settings), dtype=float)


def prepare_tasks(data: pd.DataFrame, specs: list[Specification], base: Mapping[str, Any],
                  index_builder: Callable | None, entity: str, time: str, runner: "Runner | None" = None) -> list[Task]:
    """Build the index columns once per index setting (in parallel on the runner), then group the
    specifications.

    Examples
    --------
    Two cluster choices share the sample and the fixed effects, so they form one task:

    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness import expand_grid
    >>> from analysis.robustness.engine import prepare_tasks
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["province"] = d["county"] // 10
    >>> d["treat"] = ((d["county"] < 20) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> base = {"outcome": "y", "treatment": "treat", "cluster": "county"}
    >>> specs = expand_grid(base, {"cluster": ["county", "province"]})
    >>> tasks = prepare_tasks(d, specs, base, None, "county", "year")
    >>> len(tasks), len(tasks[0].specs), tasks[0].frame.columns.tolist()
    (1, 2, ['county', 'year', 'province', 'treat', 'y'])
    """
    frame = data.copy()
    keys = list(dict.fromkeys(index_key(s.choices) for s in specs if s.get("outcome") == "index"))
    if keys and index_builder is None:
        raise SpecificationError("outcome='index' needs an index_builder (see specification_curve).")
    runner = runner or Runner()
    built = dict(runner.map(_build_index, [(index_builder, data, k) for k in keys]))
    index_cols: dict[tuple, str] = {}
    for i, key in enumerate(keys):
        index_cols[key] = f"__index_{i}"
        frame[index_cols[key]] = built[key]
    control_sets = base.get("control_sets", {})
    samples = base.get("samples", {})
    groups: dict[tuple, Task] = {}
    sample_cache: dict = {}
    for spec in specs:
        c = spec.choices
        outcome = index_cols[index_key(c)] if c.get("outcome") == "index" else c.get("outcome")
        estimator = c.get("estimator", "twfe")
        check_choice("estimator", estimator, ("twfe", "callaway_santanna"))
        regressor = c.get("treatment") if estimator == "twfe" else c.get("adoption")
        controls = resolve_controls(c, control_sets)
        fe = _as_tuple(c.get("fe", (entity, time)))
        cluster = _as_tuple(c.get("cluster", entity))
        needed = [outcome, regressor, *controls]
        missing = [col for col in needed + list(cluster) + [p for f in fe for p in f.split("^")] if col not in frame.columns]
        if missing or regressor is None:
            raise ColumnError(f"specification {spec.number}: columns {missing or ['treatment/adoption']} are not in the data.")
        sample_name = c.get("sample")
        if sample_name not in sample_cache:
            sample_cache[sample_name] = apply_sample(frame, sample_name, samples)
        sub = sample_cache[sample_name]
        check_cols = [outcome, *controls] + ([regressor] if estimator == "twfe" else [])
        complete = sub[check_cols].notna().all(axis=1).to_numpy()
        digest = hashlib.sha1(np.packbits(complete).tobytes()).hexdigest()
        key = (str(sample_name), fe, estimator, digest)
        resolved = {"outcome": outcome, "regressor": regressor, "controls": controls, "cluster": cluster,
                    "estimator": estimator, "complete": complete}
        if key not in groups:
            groups[key] = Task(frame=sub, fe=fe, specs=[], n_sample=len(sub))
        groups[key].specs.append((spec, resolved))
    tasks = []
    for task in groups.values():
        complete = task.specs[0][1]["complete"]
        cols = set()
        for _, r in task.specs:
            cols |= {r["outcome"], r["regressor"], *r["controls"], *r["cluster"]}
        cols |= {p for f in task.fe for p in f.split("^")} | {entity, time}
        keep = [c for c in task.frame.columns if c in cols]
        task.frame = task.frame.loc[complete, keep]
        tasks.append(task)
    return tasks


def _fe_codes(frame: pd.DataFrame, fe: tuple[str, ...]) -> list[np.ndarray]:
    codes = []
    for f in fe:
        parts = [p.strip() for p in f.split("^")]
        codes.append(pd.factorize(frame[parts[0]], sort=True)[0] if len(parts) == 1
                     else frame.groupby(parts, sort=True).ngroup().to_numpy())
    return codes


def _twfe_group(task: Task, alpha: float) -> list[dict]:
    frame = task.frame
    codes = _fe_codes(frame, task.fe)
    keep = drop_singletons(codes) if codes else np.ones(len(frame), bool)
    n_singletons = int((~keep).sum())
    frame = frame.loc[keep]
    codes = [c[keep] for c in codes]
    columns = list(dict.fromkeys(c for _, r in task.specs for c in [r["outcome"], r["regressor"], *r["controls"]]))
    raw = frame[columns].to_numpy(dtype=float)
    fe_frame = pd.DataFrame({i: c for i, c in enumerate(codes)})
    demeaned = FixedEffects(fe_frame).demean(raw) if codes else raw - raw.mean(axis=0)
    pos = {c: i for i, c in enumerate(columns)}
    absorbed_all = _vc.absorbed_dof(codes, task.fe, ()) if codes else None
    df_a_all = int(absorbed_all["num_coefs"].sum()) if codes else 0
    out = []
    from scipy import stats

    clusters: dict[tuple, tuple[list[np.ndarray], int]] = {}  # per cluster choice: codes, absorbed dof
    for spec, r in task.specs:
        xcols = [r["regressor"], *r["controls"]]
        X = demeaned[:, [pos[c] for c in xcols]]
        y = demeaned[:, pos[r["outcome"]]]
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        if r["cluster"] not in clusters:
            cl = [pd.factorize(frame[c], sort=True)[0] for c in r["cluster"]]
            dof = int(_vc.absorbed_dof(codes, task.fe, cl)["num_coefs"].sum()) if codes else 0
            clusters[r["cluster"]] = (cl, dof)
        cl_codes, df_a_cl = clusters[r["cluster"]]
        V, df_t, _ = _vc.compute_vcov("cluster", X, resid, rank=X.shape[1], df_a_nonnested=df_a_all,
                                      df_a_clustered=df_a_cl, clusters=cl_codes, cluster_names=r["cluster"],
                                      has_fe=bool(codes))
        est, se = float(beta[0]), float(np.sqrt(V[0, 0]))
        q = stats.t.ppf(1 - alpha / 2, df_t)
        out.append({"number": spec.number, "estimate": est, "std_error": se,
                    "p_value": float(2 * stats.t.sf(abs(est / se), df_t)),
                    "ci_low": est - q * se, "ci_high": est + q * se, "n_obs": int(len(frame)),
                    "n_dropped": int(task.n_sample - len(frame)), "singletons": n_singletons})
    return out


def spec_seed(seed, number: int) -> int:
    """The seed of one specification: depends only on the curve's seed and the spec's number."""
    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


def _cs_group(task: Task, alpha: float, entity: str, time: str) -> list[dict]:
    """Callaway-Sant'Anna specifications: simple aggregation of ATT(g,t).

    Analytic influence-function SEs when clustering by the unit; with another cluster variable
    (e.g. province) the clustered multiplier bootstrap of R ``did`` (``cs.bootstrap`` draws, default
    499, seeded per specification). Fixed-effect choices do not apply to this estimator.
    """
    from scipy import stats

    from ..did import callaway_santanna

    out = []
    for spec, r in task.specs:
        cluster = r["cluster"]
        clustered = cluster not in ((), (entity,))
        if len(cluster) > 1:
            raise SpecificationError(f"specification {spec.number}: Callaway-Sant'Anna clusters on one variable only.")
        try:
            res = callaway_santanna(task.frame, r["outcome"], r["regressor"], entity=entity, time=time,
                                    controls=tuple(r["controls"]), control=spec.get("cs.control", "never"),
                                    method=spec.get("cs.method", "dr"), cluster=cluster[0] if clustered else None,
                                    n_draws=int(spec.get("cs.bootstrap", 499)) if clustered else 0,
                                    seed=spec_seed(spec.get("seed", 0), spec.number), alpha=alpha)
            agg = res.aggregate("simple")
        except ValueError as exc:  # the library's input errors (analysis.errors) all derive from ValueError
            # undefined on these data (e.g. ATT(g,t) cells without overlap on a small panel): NaN with the reason
            out.append({"number": spec.number, "estimate": np.nan, "std_error": np.nan, "p_value": np.nan,
                        "ci_low": np.nan, "ci_high": np.nan, "n_obs": int(len(task.frame)),
                        "n_dropped": int(task.n_sample - len(task.frame)), "singletons": 0,
                        "note": f"Callaway-Sant'Anna undefined: {exc}"})
            continue
        est, se = float(agg.params["did"]), float(agg.std_errors["did"])
        z = stats.norm.ppf(1 - alpha / 2)
        out.append({"number": spec.number, "estimate": est, "std_error": se,
                    "p_value": float(2 * stats.norm.sf(abs(est / se))), "ci_low": est - z * se,
                    "ci_high": est + z * se, "n_obs": int(len(task.frame)),
                    "n_dropped": int(task.n_sample - len(task.frame)), "singletons": 0})
    return out


def run_task(task: Task, alpha: float = 0.05, entity: str = "county", time: str = "year") -> list[dict]:
    """Estimate every specification of one group.

    BLAS runs single-threaded here whatever the backend, so that sums are taken in the same order in
    the driver, a joblib worker or a Dask worker, and the results agree to the last bit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness import expand_grid
    >>> from analysis.robustness.engine import prepare_tasks, run_task
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["province"] = d["county"] // 10
    >>> d["treat"] = ((d["county"] < 20) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> base = {"outcome": "y", "treatment": "treat", "cluster": "county"}
    >>> specs = expand_grid(base, {"cluster": ["county", "province"]})
    >>> rows = run_task(prepare_tasks(d, specs, base, None, "county", "year")[0])
    >>> [(r["number"], round(r["estimate"], 2), r["n_obs"]) for r in rows]
    [(0, 0.5, 240), (1, 0.5, 240)]
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        if task.specs[0][1]["estimator"] == "twfe":
            return _twfe_group(task, alpha)
        return _cs_group(task, alpha, entity, time)


class Runner:
    """Where the work runs: serially, on local cores through joblib, or on a Dask cluster.

    ``backend="dask"``: ``scheduler`` is the address of a running scheduler (``"tcp://host:8786"``), a
    ``distributed.Client``, or ``None`` for a new ``LocalCluster`` with ``n_jobs`` workers (one
    thread each), closed when the runner closes. Use as a context manager.
    """

    def __init__(self, n_jobs: int = 1, backend: str = "loky", scheduler=None):
        check_choice("backend", backend, ("loky", "threading", "dask", "serial"))
        self.n_jobs, self.backend, self.scheduler = n_jobs, backend, scheduler
        self.serial = backend == "serial" or (n_jobs == 1 and backend != "dask")
        self.client = self.cluster = None

    def __enter__(self) -> "Runner":
        if self.backend == "dask":
            from distributed import Client, LocalCluster

            if self.scheduler is None:
                self.cluster = LocalCluster(n_workers=max(self.n_jobs, 1), threads_per_worker=1, processes=True,
                                            dashboard_address=None)
                self.client = Client(self.cluster)
            elif isinstance(self.scheduler, str):
                self.client = Client(self.scheduler)
            else:
                self.client = self.scheduler
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None and (self.scheduler is None or isinstance(self.scheduler, str)):
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def map(self, fn: Callable, arg_tuples: list[tuple], **kwargs):
        """Yield ``fn(*args, **kwargs)`` for every tuple, in completion order."""
        if not arg_tuples:
            return
        if self.serial:
            for args in arg_tuples:
                yield fn(*args, **kwargs)
        elif self.backend == "dask":
            from distributed import as_completed

            if self.client is None:
                raise RuntimeError("use the dask Runner as a context manager")
            futures = [self.client.submit(fn, *args, pure=False, **kwargs) for args in arg_tuples]
            for fut in as_completed(futures):
                yield fut.result()
        else:
            from joblib import Parallel, delayed

            parallel = Parallel(n_jobs=self.n_jobs, backend=self.backend, return_as="generator_unordered")
            yield from parallel(delayed(fn)(*args, **kwargs) for args in arg_tuples)


def execute(tasks: list[Task], runner: Runner | None = None, progress: bool = True, alpha: float = 0.05,
            entity: str = "county", time: str = "year") -> list[dict]:
    """Run every task on the runner (serial by default), with a progress bar; results by spec number.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness import expand_grid
    >>> from analysis.robustness.engine import execute, prepare_tasks
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["province"] = d["county"] // 10
    >>> d["treat"] = ((d["county"] < 20) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> base = {"outcome": "y", "treatment": "treat", "cluster": "county"}
    >>> specs = expand_grid(base, {"cluster": ["county", "province"]})
    >>> rows = execute(prepare_tasks(d, specs, base, None, "county", "year"), progress=False)
    >>> [(r["number"], round(r["estimate"], 2)) for r in rows]
    [(0, 0.5), (1, 0.5)]
    """
    from tqdm.auto import tqdm

    runner = runner or Runner()
    bar = tqdm(total=sum(len(t.specs) for t in tasks), desc="specifications", disable=not progress)
    results: list[dict] = []
    for part in runner.map(run_task, [(t,) for t in tasks], alpha=alpha, entity=entity, time=time):
        results += part
        bar.update(len(part))
    bar.close()
    return sorted(results, key=lambda r: r["number"])
