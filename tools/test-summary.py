#!/usr/bin/env python3
"""Sums every suite's results under a results folder: MSTest TRX files and JUnit XML (ctest).
Prints why each skipped test skipped, then the closing line 'N passed, N failed, N skipped'.
Exits 1 when a test failed or nothing ran."""
import pathlib
import sys
import xml.etree.ElementTree as ET

TRX = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"


def trx(path, acc):
    root = ET.parse(path).getroot()
    names = {}
    for t in root.iter(TRX + "UnitTest"):
        names[t.get("id")] = t.get("name")
    for r in root.iter(TRX + "UnitTestResult"):
        outcome = r.get("outcome")
        name = r.get("testName") or names.get(r.get("testId"), "?")
        msg = ""
        m = r.find(f"{TRX}Output/{TRX}ErrorInfo/{TRX}Message")
        if m is not None and m.text:
            msg = m.text.strip().splitlines()[0]
        suite = path.parent.name
        if outcome == "Passed":
            acc["passed"] += 1
        elif outcome in ("Failed", "Error", "Timeout", "Aborted"):
            acc["failed"] += 1
            acc["failures"].append(f"{suite}: {name}: {msg}")
        else:
            acc["skipped"] += 1
            acc["skips"].append(f"{suite}: {name}: {msg or outcome}")


def junit(path, acc):
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            acc["failed"] += 1
            acc["failures"].append(f"ctest: {name}")
        elif case.find("skipped") is not None:
            acc["skipped"] += 1
            sk = case.find("skipped")
            acc["skips"].append(f"ctest: {name}: {sk.get('message') or (sk.text or '').strip() or 'skipped'}")
        else:
            acc["passed"] += 1


def main():
    base = pathlib.Path(sys.argv[1])
    acc = {"passed": 0, "failed": 0, "skipped": 0, "skips": [], "failures": []}
    for p in sorted(base.rglob("*.trx")):
        trx(p, acc)
    for p in sorted(base.rglob("*.junit.xml")):
        junit(p, acc)
    if acc["failures"]:
        print(f"Failed tests ({len(acc['failures'])}):")
        for f in acc["failures"]:
            print(f"  {f}")
    if acc["skips"]:
        print(f"Skipped tests ({len(acc['skips'])}) and why:")
        for s in acc["skips"]:
            print(f"  {s}")
    print(f"{acc['passed']} passed, {acc['failed']} failed, {acc['skipped']} skipped")
    return 1 if acc["failed"] or acc["passed"] == 0 else 0


sys.exit(main())
