"""Reports of `styleclip test`: JUnit XML, JSON, the summary table and failure lines.

JUnit layout (what CI services read): one ``<testsuite>`` per recipe file,
one ``<testcase>`` per ``expect`` line (name ``line N: <the line>``,
classname the recipe path). A failed expectation is a ``<failure>`` with
expected vs measured; an invalid recipe is one ``check`` test case with an
``<error type="InvalidRecipe">``, a runtime error one ``run`` test case with
an ``<error type="RuntimeError">``; a recipe that ran without expectations is
one passing ``run`` test case.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from .ci_results import ERROR, FAILED, INVALID, PASSED, Expectation, RecipeResult, overall_exit

REPORT_VERSION = 1
STATUS_STYLE = {PASSED: "green", FAILED: "red", INVALID: "magenta", ERROR: "bold red"}


def failure_text(path: str, e: Expectation) -> str:
    """``path:line: <the expect line>: expected OP TARGET, measured item=value, ...``."""
    bad = e.measured_text(only_failing=True) or e.measured_text()
    return f"{path}:{e.line}: {e.source}: expected {e.expected}, measured {bad}"


def counts(results: list[RecipeResult]) -> dict[str, int]:
    n_exp = sum(len(r.expectations) for r in results)
    n_exp_failed = sum(len(r.failed_expectations) for r in results)
    by_status = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, INVALID, ERROR)}
    return {"recipes": len(results), **by_status, "expectations": n_exp, "expectations_failed": n_exp_failed}


def _fmt_time(seconds: float) -> str:
    return f"{seconds:.3f}"


def _testcases(r: RecipeResult) -> list[ET.Element]:
    cases = []
    if r.status in (INVALID, ERROR):
        name, kind = ("check", "InvalidRecipe") if r.status == INVALID else ("run", "RuntimeError")
        case = ET.Element("testcase", classname=r.path, name=name, file=r.path, time=_fmt_time(r.seconds))
        first = next((ln for ln in r.message.splitlines() if ln.strip()), r.status)
        err = ET.SubElement(case, "error", type=kind, message=first.strip())
        err.text = r.message
        return [case]
    for e in r.expectations:
        case = ET.Element("testcase", classname=r.path, name=f"line {e.line}: {e.source}", file=r.path,
                          line=str(e.line), time=_fmt_time(e.seconds))
        if not e.passed:
            fail = ET.SubElement(case, "failure", type="ExpectationFailed",
                                 message=f"expected {e.expected}, measured {e.measured_text(only_failing=True)}")
            fail.text = failure_text(r.path, e)
            if any(m.passed for m in e.measured):
                fail.text += "\nall items: " + e.measured_text()
        cases.append(case)
    if not cases:
        cases.append(ET.Element("testcase", classname=r.path, name="run", file=r.path, time=_fmt_time(r.seconds)))
    if r.message and cases:
        out = ET.SubElement(cases[-1], "system-out")
        out.text = r.message
    return cases


def junit_tree(results: list[RecipeResult], name: str = "styleclip test") -> ET.ElementTree:
    """The JUnit XML document for ``results``."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for r in results:
        cases = _testcases(r)
        failures = sum(c.find("failure") is not None for c in cases)
        errors = sum(c.find("error") is not None for c in cases)
        suite = ET.SubElement(root, "testsuite", name=r.path, tests=str(len(cases)), failures=str(failures),
                              errors=str(errors), skipped="0", time=_fmt_time(r.seconds))
        suite.extend(cases)
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["errors"] += errors
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", _fmt_time(sum(r.seconds for r in results)))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: list[RecipeResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)


def json_report(results: list[RecipeResult]) -> dict:
    """The ``--json`` report: version, exit code, counts and every recipe with its expectations."""
    return {"version": REPORT_VERSION, "exit_code": overall_exit(results), "counts": counts(results),
            "recipes": [r.to_dict() for r in results]}


def write_json(results: list[RecipeResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_report(results), indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")


def summary_table(results: list[RecipeResult]) -> Table:
    table = Table(title="styleclip test")
    for col in ("recipe", "status", "expectations", "seconds"):
        table.add_column(col)
    for r in results:
        style = STATUS_STYLE[r.status]
        held = sum(e.passed for e in r.expectations)
        table.add_row(escape(r.path), f"[{style}]{r.status}[/{style}]",
                      f"{held}/{len(r.expectations)}" if r.expectations or r.status in (PASSED, FAILED) else "-",
                      f"{r.seconds:.1f}")
    return table


def summary_line(results: list[RecipeResult]) -> str:
    c = counts(results)
    return (f"{c['recipes']} recipe(s): {c[PASSED]} passed, {c[FAILED]} failed, {c[INVALID]} invalid, "
            f"{c[ERROR]} error(s); {c['expectations'] - c['expectations_failed']}/{c['expectations']} "
            "expectations held")
