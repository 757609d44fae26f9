"""`python -m episodic_curiosity.envs`, the command README names: runs the binary
episodic_curiosity/scenarios.py. By name, not by import: envs/ imports nothing above it."""

import runpy

if __name__ == "__main__":
    runpy.run_module("episodic_curiosity.scenarios", run_name="__main__", alter_sys=True)
