"""What the end-to-end runners (test/notify/run_smtp.py,
test/incident/run_workflow.py) share: counted checks and a free loopback
port. Each runner ends with "<label>: N passed, M failed" (scripts/test.sh
adds these up)."""

import socket


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {name}")
        else:
            self.failed += 1
            print(f"  FAIL {name} {str(detail)[:600]}")
        return ok

    def summary(self, label):
        print(f"{label}: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
