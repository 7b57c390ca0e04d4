"""The command line: generate → solve → check, and bad input refused with one line and no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matching.__main__ import main
from matching.generate import generate_custom
from matching.schema import dumps_instance

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "matching", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
    )


@pytest.fixture
def small_instance(tmp_path):
    p = tmp_path / "inst.json"
    p.write_text(dumps_instance(generate_custom(25, 40, 3, 1, seed=2)))
    return p


def test_generate_solve_check_happy_path(tmp_path):
    inst, sol = tmp_path / "inst.json", tmp_path / "sol.json"
    r = run("generate", "--scale", "small", "--seed", "3", "-o", inst)
    assert r.returncode == 0, r.stderr
    assert json.loads(inst.read_text())["format"] == "ebo-match/1"
    r = run("solve", inst, "-o", sol, "--greedy")
    assert r.returncode == 0, r.stderr
    assert json.loads(sol.read_text())["format"] == "ebo-match-solution/1"
    r = run("check", inst, sol)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("valid")


def test_solve_to_stdout(small_instance, capsys):
    assert main(["solve", str(small_instance), "--greedy"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["status"] == "FEASIBLE"
    assert "families" in out.err


def test_solve_with_the_model(small_instance, tmp_path, capsys):
    sol = tmp_path / "sol.json"
    r = call(capsys, "solve", small_instance, "-o", sol, "--time-limit", "20")
    assert r.returncode == 0, r.stderr
    assert call(capsys, "check", small_instance, sol).returncode == 0


def test_generate_to_stdout_is_deterministic(capsys):
    assert main(["generate", "--scale", "small", "--seed", "4"]) == 0
    a = capsys.readouterr().out
    assert main(["generate", "--scale", "small", "--seed", "4", "--date", "2026-12-01"]) == 0
    assert capsys.readouterr().out == a


class Result:
    def __init__(self, returncode, out, err):
        self.returncode, self.stdout, self.stderr = returncode, out, err


def call(capsys, *args):
    """Run main() in this process (fast), capturing what it prints."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return Result(code, out.out, out.err)


def one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_json_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{ not json")
    out = tmp_path / "out.json"
    one_line_error(run("solve", p, "-o", out, "--greedy"), "bad.json", "not valid JSON")
    assert not out.exists()


def test_missing_file(tmp_path, capsys):
    one_line_error(call(capsys, "solve", tmp_path / "nope.json", "--greedy"), "nope.json", "cannot read")


@pytest.mark.parametrize(
    ("mutate", "needles"),
    [
        (lambda d: d["hosts"][0].pop("beds"), ("hosts[0]", "'beds'")),
        (lambda d: d["hosts"][1].__setitem__("beds", -2), ("hosts[1]", "'beds'")),
        (lambda d: d["families"][0].__setitem__("arrival", "2026-02-30"), ("families[0]", "'arrival'")),
        (
            lambda d: d["families"][0].__setitem__("children", [{"school_id": "S999"}]),
            ("children[0]", "'school_id'"),
        ),
        (lambda d: d["fixed"].append({"family_id": "F00001", "host_id": "H99999"}), ("fixed[", "'host_id'")),
    ],
)
def test_bad_instance_names_record_and_field(tmp_path, small_instance, mutate, needles, capsys):
    d = json.loads(small_instance.read_text())
    d["fixed"] = [x for x in d["fixed"] if x["family_id"] != "F00001"]
    mutate(d)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    out = tmp_path / "out.json"
    one_line_error(call(capsys, "solve", p, "-o", out, "--greedy"), *needles)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.json.*"))


def test_unknown_key(tmp_path, small_instance, capsys):
    d = json.loads(small_instance.read_text())
    d["hosts"][0]["colour"] = "red"
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    one_line_error(call(capsys, "check", p, p), "hosts[0]", "'colour'")


def test_check_rejects_a_corrupted_solution(tmp_path, small_instance, capsys):
    sol = tmp_path / "sol.json"
    assert main(["solve", str(small_instance), "-o", str(sol), "--greedy"]) == 0
    d = json.loads(sol.read_text())
    dropped = d["placements"].pop()
    sol.write_text(json.dumps(d))
    capsys.readouterr()
    assert main(["check", str(small_instance), str(sol)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("INVALID") and dropped["family_id"] in out and "missing" in out


def test_check_with_a_bad_solution_file(tmp_path, small_instance, capsys):
    p = tmp_path / "sol.json"
    p.write_text(json.dumps({"format": "ebo-match-solution/1", "status": "MAYBE"}))
    one_line_error(call(capsys, "check", small_instance, p), "'status'")


def test_unwritable_output(small_instance, tmp_path, capsys):
    r = call(capsys, "solve", small_instance, "--greedy", "-o", tmp_path / "no" / "such" / "dir.json")
    one_line_error(r, "cannot write")


@pytest.mark.parametrize(
    "args", [["solve"], ["generate", "--scale", "galaxy"], ["generate", "--seed", "-1"], ["frobnicate"]]
)
def test_usage_errors_exit_nonzero(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_bench_small(capsys):
    code = main(["bench", "--scales", "small", "--time-limit", "10", "--cases", "extreme",
                 "--reference-limit", "120"])
    out = capsys.readouterr().out
    assert "== small" in out and "persons with hosts" in out and "greedy" in out
    # The harder case's row: the model's status, objective and bound, and the reference MIP's optimum.
    row = next(ln for ln in out.splitlines() if ln.startswith("extreme "))
    assert ("OPTIMAL" in row or "FEASIBLE" in row) and "INVALID" not in row and "ERROR" not in row, row
    assert "unplaced_per_person 1e12" in out
    assert code == 0, out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("valid")}
    assert "yes" in lines["valid"]
