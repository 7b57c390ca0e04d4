"""A reference MIP of the whole instance for benchmarks and tests: HiGHS through highspy (a test extra).

Every feasible family–host pair and every family–unit pair is a binary column; rows: each family at
most once, each host's family slots and beds, each unit's beds. Costs are the spec's, unrounded,
relative to leaving everyone unplaced. Run it in a child process: HiGHS here and the HiGHS bundled in
OR-Tools do not share one process safely.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from matching import candidates as C
from matching.schema import Instance


def solve_reference(inst: Instance, time_limit_s: float = 600.0, rel_gap: float = 1e-8) -> dict:
    """Solve the full MIP with HiGHS; returns status, objective, bound (spec units) and wall time."""
    import highspy

    t0 = time.perf_counter()
    p = C.prepare(inst)
    pairs = C.all_pairs(p)
    n_fam, n_host, n_unit = p.n_fam, p.n_host, len(p.u_beds)
    uf, uu = np.nonzero(np.isfinite(p.u_cost) & (p.u_cost < p.unplaced_cost[:, None])) if n_unit else \
        (np.zeros(0, np.int64), np.zeros(0, np.int64))
    fam = np.concatenate([pairs.f, uf]).astype(np.int64)
    cost = np.concatenate([pairs.cost - p.unplaced_cost[pairs.f], p.u_cost[uf, uu] - p.unplaced_cost[uf]])
    n_pair, n_col = len(pairs), len(fam)
    col = np.arange(n_col)
    # Rows: families, host slots, host beds, unit beds.
    size = p.f_size[fam].astype(float)
    rows = np.concatenate([fam, n_fam + pairs.h, n_fam + n_host + pairs.h, n_fam + 2 * n_host + uu])
    cols = np.concatenate([col, col[:n_pair], col[:n_pair], col[n_pair:]])
    vals = np.concatenate([np.ones(n_col), np.ones(n_pair), size[:n_pair], size[n_pair:]])
    n_row = n_fam + 2 * n_host + n_unit
    a = sparse.csc_matrix((vals, (rows, cols)), shape=(n_row, n_col))
    upper = np.concatenate([np.ones(n_fam), np.maximum(p.h_slots, 0), np.maximum(p.h_beds, 0), p.u_beds]).astype(float)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.ones(n_col)
    lp.row_lower_ = np.full(n_row, -highspy.kHighsInf)
    lp.row_upper_ = upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    base = float(p.unplaced_cost.sum()) + p.fixed_cost
    has_sol = info.primal_solution_status == 2
    return {
        "status": "OPTIMAL" if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else status,
        "objective": base + info.objective_function_value if has_sol else None,
        "bound": base + info.mip_dual_bound,
        "columns": n_col,
        "wall_s": time.perf_counter() - t0,
    }
