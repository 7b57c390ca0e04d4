"""Command line: `python -m matching solve | check | generate | bench` (also installed as `ebo-match`).

Exit status: 0 success; 1 a solution that fails validation; 2 bad input (a one-line message that names
the record and the field, never a traceback); 3 an internal error. Output files are written to a
temporary file and renamed, so a failure never leaves a partial file behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from matching.schema import Instance, SchemaError, Solution

EXIT_OK, EXIT_INVALID, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Fail(Exception):
    """A failure already worded for the user, with its exit status."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- helpers


def _write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory, then rename it."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as e:
        raise _Fail(f"cannot write {path}: {e.strerror or e}", EXIT_INPUT) from None
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if not text.endswith("\n"):
                fh.write("\n")
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _Fail(f"cannot write {path}: {e.strerror or e}", EXIT_INPUT) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _emit(text: str, out: str | None) -> None:
    """Write to the file `out`, or to standard output when it is None or '-'."""
    if out and out != "-":
        _write_atomic(out, text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()


def _solver(method: str):
    """The solve function for `method` ('model' or 'greedy'), imported only when needed."""
    if method == "greedy":
        from matching.greedy import greedy

        return lambda inst, time_limit_s, workers, progress=None: greedy(inst)
    try:
        from matching.model import solve
    except ImportError as e:
        raise _Fail(f"the model solver is not available ({e}); use --greedy", EXIT_INTERNAL) from None
    return solve


def _checked_text(inst: Instance, sol: Solution) -> tuple[str, Solution, list[str]]:
    """The solution's JSON text and the problems the validator finds in exactly that text."""
    from matching.schema import dumps_solution, solution_from_dict
    from matching.validate import validate

    text = dumps_solution(sol)
    # Validate what is written, after rounding, not the in-memory object.
    written = solution_from_dict(json.loads(text))
    return text, written, validate(inst, written)


def _summary(inst: Instance, sol: Solution) -> str:
    from matching.validate import stats

    s = stats(inst, sol)
    return (
        f"{sol.status}: objective {sol.objective:.3f}, bound {sol.bound:.3f}, gap {sol.gap:.4%}; "
        f"{s.families_with_hosts} families ({s.persons_with_hosts} persons) with hosts, "
        f"{s.families_in_units} ({s.persons_in_units}) in units, {s.families_unplaced} "
        f"({s.persons_unplaced}) unplaced; {s.children_within_limit} of {s.schooled_children} schooled "
        f"children within {inst.params.max_school_km:g} km; {sol.wall_s:.2f} s"
    )


# --------------------------------------------------------------------------- commands


def cmd_solve(a: argparse.Namespace) -> int:
    """Solve an instance file, validate the solution, and write it (stdout or -o)."""
    from matching.schema import read_instance

    inst = read_instance(a.instance)
    solve = _solver("greedy" if a.greedy else "model")
    kwargs = {}
    if a.verbose:
        kwargs["progress"] = lambda *x, **k: print(
            "progress:", *x, *(f"{n}={v}" for n, v in k.items()), file=sys.stderr, flush=True
        )
    sol = solve(inst, time_limit_s=a.time_limit, workers=a.workers, **kwargs)
    text, written, problems = _checked_text(inst, sol)
    if problems:
        print(
            f"error: the solution fails validation ({len(problems)} problems); nothing written:",
            file=sys.stderr,
        )
        for p in problems[:50]:
            print(f"  {p}", file=sys.stderr)
        return EXIT_INVALID
    _emit(text, a.output)
    print(_summary(inst, written), file=sys.stderr)
    return EXIT_OK


def cmd_check(a: argparse.Namespace) -> int:
    """Validate a solution file against an instance file."""
    from matching.schema import read_instance, read_solution
    from matching.validate import validate

    inst = read_instance(a.instance)
    sol = read_solution(a.solution)
    problems = validate(inst, sol)
    if problems:
        print(f"INVALID: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
        for p in problems:
            print(f"  {p}")
        return EXIT_INVALID
    print(f"valid. {_summary(inst, sol)}")
    return EXIT_OK


def cmd_generate(a: argparse.Namespace) -> int:
    """Write a synthetic instance."""
    from matching.generate import generate
    from matching.schema import dumps_instance

    options = {} if a.unit_bed_share is None else {"unit_bed_share": a.unit_bed_share}
    _emit(dumps_instance(generate(a.scale, seed=a.seed, date=a.date, **options)), a.output)
    return EXIT_OK


# --------------------------------------------------------------------------- bench

_CHILD = "import sys; from matching.__main__ import _bench_child; sys.exit(_bench_child(sys.argv[1:]))"


def _bench_child(argv: list[str]) -> int:
    """In a fresh process: read the instance, solve it, write the solution, print time and peak memory."""
    import resource

    method, inst_path, out_path, time_limit, workers = argv
    from matching.schema import dumps_solution, read_instance

    if method == "reference":
        # HiGHS (highspy, a test extra) in a process of its own: it must not share one with OR-Tools.
        try:
            from matching.reference import solve_reference

            print(json.dumps(solve_reference(read_instance(inst_path), float(time_limit))))
        except ImportError as e:
            print(f"the reference MIP needs highspy ({e})", file=sys.stderr)
            return EXIT_INTERNAL
        return 0

    try:
        solve = _solver(method)
    except _Fail as e:
        print(e, file=sys.stderr)
        return e.code
    t0 = time.perf_counter()
    inst = read_instance(inst_path)
    t1 = time.perf_counter()
    try:
        sol = solve(inst, time_limit_s=float(time_limit), workers=int(workers))
    except Exception as e:
        import traceback

        traceback.print_exc()
        # The parent shows the last line only: make it name the error, not its tail.
        print(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return EXIT_INTERNAL
    t2 = time.perf_counter()
    Path(out_path).write_text(dumps_solution(sol), encoding="utf-8")
    # ru_maxrss is in KiB on Linux: the peak of this whole process, imports and reading included.
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"read_s": t1 - t0, "solve_s": t2 - t1, "peak_mib": peak_kib / 1024}))
    return 0


def _run_child(method: str, inst_path: str, out_path: str, time_limit: float, workers: int) -> dict:
    import matching

    env = dict(os.environ)
    root = str(Path(matching.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    try:
        # The arguments are our own interpreter, our own code and paths we created: no untrusted input.
        r = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _CHILD, method, inst_path, out_path, str(time_limit), str(workers)],
            capture_output=True,
            text=True,
            env=env,
            timeout=max(600.0, 5 * time_limit + 300),
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        lines = [x for x in (r.stderr or r.stdout).strip().splitlines() if x.strip()]
        return {"error": lines[-1] if lines else f"exit status {r.returncode}"}
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["process_s"] = wall
    return out


def _fmt(v, kind: str) -> str:
    if v is None:
        return "-"
    if kind == "int":
        return f"{v:,}"
    if kind == "pct":
        return f"{v:.4%}"
    if kind == "f1":
        return f"{v:,.1f}"
    if kind == "f2":
        return f"{v:,.2f}"
    if kind == "f3":
        return f"{v:,.3f}"
    return str(v)


def _ratio(a, b) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(a, bool):
        return ""
    if b == 0:
        return "=" if a == 0 else "inf"
    return f"{a / b:.3f}"


def _bench_scale(scale: str, seed: int, time_limit: float, workers: int, tmp: str) -> tuple[str, bool]:
    from matching.generate import generate
    from matching.schema import dumps_instance, read_solution
    from matching.validate import stats, validate

    t0 = time.perf_counter()
    inst = generate(scale, seed=seed)
    gen_s = time.perf_counter() - t0
    inst_path = os.path.join(tmp, f"{scale}-{seed}.json")
    Path(inst_path).write_text(dumps_instance(inst), encoding="utf-8")
    cols: dict[str, dict] = {}
    ok = True
    notes = []
    for method in ("model", "greedy"):
        out_path = os.path.join(tmp, f"{scale}-{seed}-{method}.solution.json")
        run = _run_child(method, inst_path, out_path, time_limit, workers)
        if "error" in run:
            cols[method] = {"status": "ERROR"}
            notes.append(f"  {method}: {run['error']}")
            ok = False
            continue
        sol = read_solution(out_path)
        problems = validate(inst, sol)
        if problems:
            ok = False
            notes.append(f"  {method}: INVALID, {len(problems)} problems, first: {problems[0]}")
        s = stats(inst, sol)
        cols[method] = {
            "wall s (solve)": run["solve_s"],
            "wall s (solver's own)": sol.wall_s,
            "wall s (process)": run["process_s"],
            "peak MiB": run["peak_mib"],
            "persons with hosts": s.persons_with_hosts,
            "persons in units": s.persons_in_units,
            "persons unplaced": s.persons_unplaced,
            "families with hosts": s.families_with_hosts,
            "families in units": s.families_in_units,
            "families unplaced": s.families_unplaced,
            f"children within {inst.params.max_school_km:g} km": s.children_within_limit,
            "school km total": s.school_km_total,
            "no common language": s.no_common_language,
            "objective": sol.objective,
            "bound": sol.bound,
            "gap": sol.gap,
            "status": sol.status,
            "valid": "yes" if not problems else f"NO ({len(problems)})",
        }
    kinds = {
        "wall s (solve)": "f2",
        "wall s (solver's own)": "f2",
        "wall s (process)": "f2",
        "peak MiB": "f1",
        "school km total": "f1",
        "objective": "f2",
        "bound": "f2",
        "gap": "pct",
    }
    rows = list(dict.fromkeys(k for c in cols.values() for k in c))
    persons = sum(f.size for f in inst.families)
    schooled = sum(1 for f in inst.families for c in f.children if c.school_id)
    head = (
        f"== {scale} (seed {seed}): {len(inst.families):,} families ({persons:,} persons, {schooled:,} "
        f"schooled children), {len(inst.hosts):,} hosts, {len(inst.schools)} schools, "
        f"{len(inst.units)} units ({sum(u.beds for u in inst.units):,} beds), {len(inst.fixed)} fixed, "
        f"{len(inst.forbidden)} forbidden; generated in {gen_s:.2f} s; "
        f"time limit {time_limit:g} s, {workers} workers"
    )
    lines = [head, f"{'':28} {'model':>16} {'greedy':>16} {'model/greedy':>13}"]
    for r in rows:
        m, g = cols["model"].get(r), cols["greedy"].get(r)
        kind = kinds.get(r, "int" if isinstance(m if m is not None else g, int) else "str")
        ratio = "" if r in ("bound", "gap", "status", "valid") else _ratio(m, g)
        lines.append(f"{r:28} {_fmt(m, kind):>16} {_fmt(g, kind):>16} {ratio:>13}")
    return "\n".join(lines + notes), ok


CASES = {
    "multi10": ("10 % of big homes take 2-3 families", {"multi_family_share": 0.1}),
    "multi30": ("30 % of big homes take 2-3 families, tight unit beds",
                {"multi_family_share": 0.3, "unit_bed_share": 0.04}),
    "units": ("unit shortage, 10 % multi-family", {"multi_family_share": 0.1, "unit_bed_share": 0.02}),
    "extreme": ("unplaced_per_person 1e12, 10 % multi-family", {"multi_family_share": 0.1, "extreme": True}),
}


def _case_instance(scale: str, seed: int, case: str):
    from matching.generate import generate
    from matching.schema import MAX_WEIGHT, Params, Weights

    opts = dict(CASES[case][1])
    if opts.pop("extreme", False):
        opts["params"] = Params(weights=Weights(unplaced_per_person=MAX_WEIGHT))
    return generate(scale, seed=seed, **opts)


def _bench_cases(scale: str, seed: int, cases: list[str], time_limit: float, workers: int, ref_limit: float,
                 tmp: str) -> tuple[str, bool]:
    """One row per case: the model's status, objective, bound and time, and the reference MIP's optimum."""
    from matching.schema import dumps_instance, read_solution
    from matching.validate import validate

    ref_text = f"reference: HiGHS MIP, relative gap 1e-8, {ref_limit:g} s" if ref_limit > 0 else "no reference"
    head = f"== {scale} (seed {seed}), harder cases: time limit {time_limit:g} s, {workers} workers; {ref_text}"
    cols = f"{'case':9} {'families x hosts':>17} {'status':>9} {'objective':>18} {'bound':>18} {'gap':>9} " \
           f"{'wall s':>7} {'MiB':>7} {'reference':>18} {'ref status':>11} {'ref s':>7} {'excess':>9}"
    lines, ok = [head, cols], True
    for case in cases:
        inst = _case_instance(scale, seed, case)
        path = os.path.join(tmp, f"{scale}-{seed}-{case}.json")
        Path(path).write_text(dumps_instance(inst), encoding="utf-8")
        out = os.path.join(tmp, f"{scale}-{seed}-{case}.solution.json")
        run = _run_child("model", path, out, time_limit, workers)
        size = f"{len(inst.families):,} x {len(inst.hosts):,}"
        if "error" in run:
            ok = False
            lines.append(f"{case:9} {size:>17} {'ERROR':>9}  {run['error']}")
            continue
        sol = read_solution(out)
        problems = validate(inst, sol)
        ok &= not problems
        ref: dict = {}
        if ref_limit > 0:
            ref = _run_child("reference", path, os.devnull, ref_limit, workers)
        ref_obj = ref.get("objective") if ref.get("status") == "OPTIMAL" else None
        excess = f"{(sol.objective - ref_obj) / ref_obj:+.4%}" if ref_obj else "-"
        status = sol.status if not problems else "INVALID"
        lines.append(
            f"{case:9} {size:>17} {status:>9} {sol.objective:>18,.2f} {sol.bound:>18,.2f} {sol.gap:>9.4%} "
            f"{run['process_s']:>7.1f} {run['peak_mib']:>7,.0f} {_fmt(ref.get('objective'), 'f2'):>18} "
            f"{(ref.get('status') or ref.get('error') or '-')[:11]:>11} {_fmt(ref.get('wall_s'), 'f1'):>7} {excess:>9}")
    lines += [f"  {c}: {CASES[c][0]}" for c in cases]
    return "\n".join(lines), ok


def cmd_bench(a: argparse.Namespace) -> int:
    """Generate each scale, solve it with the model and with greedy in separate processes, print a table;
    then the harder cases (several families per host, unit shortage, extreme weights) against a reference MIP."""
    from matching.generate import SCALES

    scales = [s.strip() for s in a.scales.split(",") if s.strip()]
    for s in scales:
        if s not in SCALES:
            raise _Fail(f"--scales: unknown scale {s!r}; choose from {', '.join(SCALES)}", EXIT_INPUT)
    cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            raise _Fail(f"--cases: unknown case {c!r}; choose from {', '.join(CASES)}", EXIT_INPUT)
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="ebo-bench-") as tmp:
        for s in scales:
            table, ok = _bench_scale(s, a.seed, a.time_limit, a.workers, tmp)
            all_ok &= ok
            print(table, flush=True)
            print(flush=True)
            if cases:
                # The reference MIP lists every pair: beyond mid scale it needs far more memory and time.
                ref = a.reference_limit if s != "city" else 0.0
                table, ok = _bench_cases(s, a.seed, cases, a.time_limit, a.workers, ref, tmp)
                all_ok &= ok
                print(table, flush=True)
                print(flush=True)
    return EXIT_OK if all_ok else EXIT_INVALID


# --------------------------------------------------------------------------- entry point


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return v


def _positive(kind):
    def parse(text: str):
        """Parse `text` as `kind`, refusing zero and negative values."""
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return v

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all subcommands."""
    p = argparse.ArgumentParser(prog="python -m matching", description="EBO host matching (ebo-match/1).")
    p.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("solve", help="solve an instance; the solution goes to stdout or -o")
    s.add_argument("instance", metavar="INSTANCE.json")
    s.add_argument("-o", "--output", metavar="SOLUTION.json", help="write here instead of stdout")
    s.add_argument(
        "--time-limit",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="solver time limit in seconds (default 60)",
    )
    s.add_argument("--workers", type=_positive(int), default=2, metavar="N", help="solver workers (default 2)")
    s.add_argument("--greedy", action="store_true", help="use the greedy baseline instead of the model")
    s.add_argument("-v", "--verbose", action="store_true", help="print solver progress on stderr")
    s.set_defaults(func=cmd_solve)

    c = sub.add_parser("check", help="validate a solution against its instance")
    c.add_argument("instance", metavar="INSTANCE.json")
    c.add_argument("solution", metavar="SOLUTION.json")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("generate", help="write a synthetic instance")
    g.add_argument("--scale", choices=("small", "mid", "city"), default="small")
    g.add_argument("--seed", type=_seed, default=0)
    g.add_argument("--date", type=_date, default=None, help="the instance date (default 2026-12-01)")
    g.add_argument(
        "--unit-bed-share",
        type=_positive(float),
        default=None,
        metavar="X",
        help="municipal unit beds per person to place (default 0.08; 0.05 makes units bind)",
    )
    g.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    g.set_defaults(func=cmd_generate)

    b = sub.add_parser("bench", help="compare the model with greedy on generated instances")
    b.add_argument("--scales", default="small,mid,city", help="comma-separated (default small,mid,city)")
    b.add_argument("--time-limit", type=_positive(float), default=60.0, metavar="S")
    b.add_argument("--seed", type=_seed, default=0)
    b.add_argument("--workers", type=_positive(int), default=2, metavar="N")
    b.add_argument("--cases", default=",".join(CASES),
                   help=f"harder cases per scale, comma-separated, '' for none (default {','.join(CASES)})")
    b.add_argument("--reference-limit", type=float, default=600.0, metavar="S",
                   help="time for the reference MIP (HiGHS, needs highspy), 0: none (default 600; never at city)")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    a = build_parser().parse_args(argv)
    if getattr(a, "date", "absent") is None:
        from matching.generate import DEFAULT_DATE

        a.date = DEFAULT_DATE
    try:
        return a.func(a)
    except SchemaError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except _Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if a.debug:
            raise
        msg = str(e).splitlines()[0] if str(e) else ""
        print(
            f"error: internal error ({type(e).__name__}: {msg}); rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
