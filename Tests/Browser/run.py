"""Runs the browser tests (Tests/Browser/test_*.py) and prints a table of cases: result, seconds and
what each measured. Arguments name tests to run as unittest does (`test_tabs`,
`test_tabs.TabTests.test_closing_the_leader_hands_over`); none: all.
Exits non-zero when a case failed."""

import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class TableResult(unittest.TextTestResult):
    """Keeps one row per test: its name, its result, how long it took and the figures it reported."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        self.started = {}

    def startTest(self, test):
        self.started[test.id()] = time.monotonic()
        super().startTest(test)

    def row(self, test, result, note=""):
        seconds = time.monotonic() - self.started.get(test.id(), time.monotonic())
        name = test.id().split(".")[-1].removeprefix("test_").replace("_", " ")
        figures = getattr(test, "figures", None) or note
        self.rows.append((name, result, seconds, figures))

    def addSuccess(self, test):
        super().addSuccess(test)
        self.row(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.row(test, "FAILED", str(err[1]).splitlines()[0][:100])

    def addError(self, test, err):
        super().addError(test, err)
        self.row(test, "ERROR", f"{err[0].__name__}: {str(err[1]).splitlines()[0][:90] if str(err[1]) else ''}")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.row(test, "skipped", reason)


def stopped(signum, frame):
    """Stopped from outside (the script's time limit): end every Chromium before going."""
    from harness import Browser
    for browser in list(Browser.live):
        browser.quit()
    print(f"browser tests: stopped by signal {signum}", file=sys.stderr)
    os._exit(124)


def main(names):
    signal.signal(signal.SIGTERM, stopped)
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(resultclass=TableResult, verbosity=2, stream=sys.stdout)
    result = runner.run(suite)

    width = max([len(r[0]) for r in result.rows] + [4])
    print()
    print(f"{'case':<{width}}  {'result':<7}  {'seconds':>7}  figures / reason")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 7}  {'-' * 40}")
    for name, outcome, seconds, figures in result.rows:
        print(f"{name:<{width}}  {outcome:<7}  {seconds:7.1f}  {figures}")
    passed = sum(1 for r in result.rows if r[1] == "passed")
    failed = sum(1 for r in result.rows if r[1] in ("FAILED", "ERROR"))
    skipped = sum(1 for r in result.rows if r[1] == "skipped")
    print()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
