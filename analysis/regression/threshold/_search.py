"""The vectorised threshold search: SSR at every grid point from cumulative sums (no loop over g)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse

from ...demean import FixedEffects
from ._grid import hansen_trim_mask, regime_codes, share_mask

__all__ = ["_Searcher", "_Model"]


class _Searcher:
    """SSR of adding one threshold to a fixed-regime within model, for every grid point at once.

    ``W0`` (N x kw) is the within-demeaned fixed basis (controls, time dummies, r times the dummies
    of the thresholds already fixed); ``R`` (N x kr) the raw regime-dependent regressors; the added
    block is Z(g) = R * 1{q <= g} (or q < g). With e0 = M0 y (N x B):

        S(g) = S0 - c(g)' [Z~' M0 Z~]^{-1} c(g),  c(g) = Z~(g)' e0,
        Z~' M0 Z~ = Z~'Z~ - (Z~'W0)(W0'W0)^{-1}(W0'Z~),
        Z~'Z~ = Z'Z - sum_i s_i s_i' / T_i   (within transform over all T_i periods).

    ``T`` is the number of periods (scalar) or the periods of each row's unit (unbalanced panels).
    ``drop`` marks rows demeaned but left out of the regression (Hansen's 1999 GAUSS transform,
    which drops each unit's last period after demeaning); ``W0`` and the outcomes must be zero on
    those rows. Then, with u_i = z_{i,drop} - s_i/T_i, w-sums omega_i and e-sums eps_i of the kept
    rows of unit i,

        Z~'Z~ -= sum_i u_i u_i',   Z~'W0 -= sum_i (s_i/T_i) omega_i',   c(g) -= sum_i (s_i/T_i) eps_i,

    all of which are cumulative sums along the q-sorted rows as well. Everything that depends only
    on the regressors is computed once (and reused by every bootstrap draw); :meth:`ssr` needs one
    cumulative sum of r * e0 per draw.
    """

    def __init__(self, W0, R, q, ids, T, grid_values, closed="right", mask=None, drop=None):
        N, kr = R.shape
        self.N, self.kr = N, kr
        self.W0 = W0
        self.grid = np.asarray(grid_values, dtype=float)
        G = len(self.grid)
        if W0.shape[1]:
            self.WtW_inv = np.linalg.pinv(W0.T @ W0)
        else:
            self.WtW_inv = np.zeros((0, 0))
        order = np.argsort(q, kind="stable")
        self.presorted = bool(np.all(order == np.arange(N)))  # threshold() passes q-sorted rows
        self.order = order
        qs = q[order]
        side = "right" if closed == "right" else "left"
        self.idx = np.searchsorted(qs, self.grid, side=side) - 1  # last sorted obs in Z(g)
        Tr = np.broadcast_to(np.asarray(T, dtype=float), (N,))
        Ts = Tr[order][:, None]
        self.Ts = Ts
        Rs = R[order]
        self.Rs = Rs
        Ws = W0[order]
        ids_s = ids[order]
        self.ids_s = ids_s
        self.drop = None if drop is None else np.asarray(drop, dtype=bool)
        # per-entity running sums of r over earlier sorted observations
        run = pd.DataFrame(Rs).groupby(ids_s, sort=False).cumsum().to_numpy()
        prev = run - Rs
        dZZ = Rs[:, :, None] * Rs[:, None, :]
        dSS = (prev[:, :, None] * Rs[:, None, :] + Rs[:, :, None] * prev[:, None, :] + dZZ) / Ts[:, :, None]
        dZW = Rs[:, :, None] * Ws[:, None, :]
        if self.drop is not None:
            n_ent = int(ids.max()) + 1
            self._ent = sparse.csr_matrix((np.ones(N), (ids_s, np.arange(N))), shape=(n_ent, N))
            ds = self.drop[order]
            # r on each unit's dropped row, and whether that row is already inside Z(g) before obs j
            rD = np.zeros((n_ent, kr))
            rD[ids_s[ds]] = Rs[ds]
            seen = pd.Series(ds.astype(int)).groupby(ids_s, sort=False).cumsum().to_numpy() - ds
            zD_before = rD[ids_s] * seen[:, None]
            u_before = zD_before - prev / Ts
            u_after = zD_before + Rs * ds[:, None] - (prev + Rs) / Ts
            dU = u_after[:, :, None] * u_after[:, None, :] - u_before[:, :, None] * u_before[:, None, :]
            dSS = dSS + dU
            omega = self._ent @ Ws  # kept-row sums of W0 per unit (W0 is zero on dropped rows)
            dZW = dZW - Rs[:, :, None] * (omega[ids_s] / Ts)[:, None, :]
        valid = self.idx >= 0
        gi = np.where(valid, self.idx, 0)
        ZZ = np.cumsum(dZZ - dSS, axis=0)[gi]  # Z~'Z~ at each grid point
        ZW = np.cumsum(dZW, axis=0)[gi]  # Z~'W0
        A = ZZ - np.einsum("gkw,wv,glv->gkl", ZW, self.WtW_inv, ZW)
        # identification: mask grid points where Z~'M0Z~ is (near) singular
        scale = np.maximum(np.abs(np.einsum("gkk->gk", ZZ)).max(axis=1), 1e-300)
        if kr == 1:
            det_ok = A[:, 0, 0] > 1e-10 * scale
        else:
            ev = np.linalg.eigvalsh(A)
            det_ok = ev[:, 0] > 1e-10 * scale
        ok = valid & det_ok
        if mask is not None:
            ok &= np.asarray(mask, dtype=bool)
        self.ok = ok
        Ainv = np.zeros_like(A)
        if ok.any():
            Ainv[ok] = np.linalg.inv(A[ok])
        self.Ainv = Ainv
        self.gi = gi
        self.G = G

    def residualise(self, Y):
        """e0 = M0 Y for a column or a matrix of outcomes (N x B)."""
        if self.W0.shape[1] == 0:
            return Y
        return Y - self.W0 @ (self.WtW_inv @ (self.W0.T @ Y))

    def ssr(self, e0):
        """S(g) for every grid point (G x B); masked points are +inf. ``e0`` is N x B, = M0 y."""
        e0 = np.asarray(e0, dtype=float)
        one = e0.ndim == 1
        E = e0.reshape(self.N, -1)
        B = E.shape[1]
        S0 = np.einsum("nb,nb->b", E, E)
        Es = E if self.presorted else E[self.order]
        if self.drop is not None:  # kept-row residual sums per unit do not vanish after dropping
            Es = Es - (self._ent @ Es)[self.ids_s] / self.Ts
        c = np.empty((self.G, self.kr, B))
        for k in range(self.kr):  # loop over regressors (kr is 1-3), not over grid points
            c[:, k, :] = np.cumsum(self.Rs[:, k, None] * Es, axis=0)[self.gi]
        quad = np.einsum("gkb,gkl,glb->gb", c, self.Ainv, c)
        S = S0[None, :] - quad
        S[~self.ok] = np.inf
        return S[:, 0] if one else S


class _Model:
    """Arrays of one panel, demeaned once; builds searchers for any set of fixed thresholds.

    ``T_row`` is each row's number of periods; ``drop`` (or None) the rows left out after
    demeaning (Hansen's transform). ``trim_rule`` is "share" (every regime keeps >= trim of the
    observations) or "hansen" (grid-index trimming of Hansen's GAUSS code, ``qn`` quantiles).
    """

    def __init__(self, Y, X, R, q, ids, T_row, D, closed, grid_values, trims, drop=None,
                 trim_rule="share", qn=None):
        self.Y, self.X, self.R, self.q, self.ids, self.T = Y, X, R, q, ids, T_row
        self.N = len(Y)
        self.closed = closed
        self.grid = grid_values
        self.trims = trims
        self.drop = drop
        self.trim_rule = trim_rule
        self.qn = qn
        self.keep = np.ones(self.N) if drop is None else (~drop).astype(float)
        self.fe = FixedEffects(pd.DataFrame({"id": ids}))
        XD = np.column_stack([X, D])
        self.Xd = (self.fe.demean(XD).reshape(self.N, -1) * self.keep[:, None]) if XD.shape[1] else XD
        self.Yd = self.fe.demean(Y) * self.keep
        self.qs = np.sort(q)
        self._cache: dict = {}
        self._pinned: set = set()  # searchers of the estimation itself, never evicted
        self.max_cache = 16

    def basis(self, fixed):
        """W0 for fixed thresholds: [x~, time dummies~, (r 1{regime j})~ for each regime]."""
        codes = regime_codes(self.q, fixed, self.closed)
        blocks = [self.R * (codes == j)[:, None] for j in range(len(fixed) + 1)]
        raw = np.column_stack(blocks)
        return np.column_stack([self.Xd, self.fe.demean(raw).reshape(self.N, -1) * self.keep[:, None]])

    def searcher(self, fixed, stage, pin=False, grid=None):
        key = tuple(np.sort(np.asarray(fixed, dtype=float)).tolist())
        trim = self.trims[stage - 1] if stage - 1 < len(self.trims) else self.trims[-1]
        n_rows = int(self.keep.sum())
        min_obs = max(int(math.ceil(trim * n_rows)), self.R.shape[1] + 1)
        gvals = self.grid if grid is None else grid
        ckey = (key, min_obs, grid is None, len(gvals))
        if ckey not in self._cache:
            if len(self._cache) >= self.max_cache:  # bootstrap draws create many bases: keep memory bounded
                old = next((k for k in self._cache if k not in self._pinned), None)
                if old is not None:
                    self._cache.pop(old)
            if self.trim_rule == "hansen" and grid is None:
                mask = hansen_trim_mask(gvals, key, self.qn, trim) if key else None
            else:
                mask = share_mask(gvals, self.qs, key, min_obs, self.closed)
            self._cache[ckey] = _Searcher(self.basis(key), self.R, self.q, self.ids, self.T, gvals,
                                          self.closed, mask, self.drop)
        if pin:
            self._pinned.add(ckey)
        return self._cache[ckey]

    def sequential(self, Yd, m):
        """Sequential search without refinement (as in the bootstrap) on outcome(s) Yd (N x B).

        Returns the SSR of stage m-1 and of stage m for every column.
        """
        B = Yd.shape[1]
        fixed = np.empty((B, 0))
        s_prev = None
        for stage in range(1, m + 1):
            S_stage = np.empty(B)
            g_stage = np.empty(B)
            S_base = np.empty(B)
            keys = [tuple(row) for row in fixed]
            for key in dict.fromkeys(keys):  # group draws sharing the same earlier thresholds
                cols = np.array([k == key for k in keys])
                srch = self.searcher(key, stage)
                e0 = srch.residualise(Yd if len(set(keys)) == 1 else Yd[:, cols])
                S = srch.ssr(e0)
                best = np.argmin(S, axis=0)
                S_stage[cols] = S[best, np.arange(S.shape[1])]
                g_stage[cols] = self.grid[best]
                S_base[cols] = np.einsum("nb,nb->b", e0, e0)
            s_prev = S_base
            fixed = np.column_stack([fixed, g_stage])
        return s_prev, S_stage
