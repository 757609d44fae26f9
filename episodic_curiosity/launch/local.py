"""Runs one (method, scenario, run) in this process: configure gin, then the method's stages."""

from episodic_curiosity import configuration, envs
from episodic_curiosity.agents import trainer
from episodic_curiosity.errors import UsageError, not_one_of
from episodic_curiosity.launch import methods
from episodic_curiosity.workdir import RunDir, run_path


def gin_files(method: methods.Method, scenario: str, preset: str | None):
    """method -> scenario -> preset: later files override earlier ones."""
    files = [method.gin_file]
    scenario_file = configuration.GIN_DIR / "scenarios" / f"{scenario}.gin"
    if scenario_file.is_file():
        files.append(scenario_file)
    if preset:
        if preset not in methods.PRESETS:
            raise UsageError(not_one_of("preset", preset, methods.PRESETS))
        files.append(configuration.GIN_DIR / "presets" / f"{preset}.gin")
    return files


def run(method_name: str, scenario: str, workdir, run_number: int = 0,
        preset: str | None = None, extra_bindings=()) -> RunDir:
    """Validates every input before anything is written, then trains; returns the run dir."""
    method = methods.get(method_name)
    envs.get(scenario)
    if run_number < 0:
        raise UsageError(f"--run_number must be >= 0, got {run_number}")
    bindings = [f"train_policy.scenario = '{scenario}'", f"train_policy.seed = {run_number}",
                *extra_bindings]
    configuration.parse(gin_files(method, scenario, preset), bindings)
    run_dir = RunDir(run_path(workdir, method_name, scenario, run_number))
    trainer.train_policy(run_dir)
    return run_dir
