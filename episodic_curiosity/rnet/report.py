"""`python -m episodic_curiosity.rnet.report`, the command the docs name: runs the binary
episodic_curiosity/rnet_report.py. By name, not by import: rnet/ imports nothing above it (the
card, report_card.py, sits above rnet/ and rewards/)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("episodic_curiosity.rnet_report", run_name="__main__", alter_sys=True)
