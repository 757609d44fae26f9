"""Runs one (method, scenario, run) in this process: configure gin, then the method's stages.

ppo_plus_ec chains generate_r_training_data -> train_r -> train_policy; a stage that finished
(its DONE marker exists) is skipped on rerun, and an unfinished one resumes. The run directory is
locked for the whole chain: a second launcher on it is refused (exit 2) and changes nothing.

num_ranks > 1: the policy stage trains on that many data-parallel ranks (distributed.py), each a
`python -m episodic_curiosity.train_policy` process this launcher starts and watches (as
torchrun's agent would): a rank that dies stops the others and the run ends with one line.
"""

from absl import logging

from episodic_curiosity import configuration, envs, preflight, report_card
from episodic_curiosity.agents import trainer
from episodic_curiosity.devices import resolve_device
from episodic_curiosity.errors import UsageError, not_one_of
from episodic_curiosity.launch import methods
from episodic_curiosity.launch.ranks import train_on_ranks
from episodic_curiosity.rnet import data, offline
from episodic_curiosity.workdir import RunDir, run_path


def gin_files(method: methods.Method, scenario: str, preset: str | None):
    """method -> scenario family (engine) -> method on that family -> scenario -> method on that
    scenario -> preset: later files override earlier ones."""
    files = list(method.gin_files)
    engine = envs.get(scenario).engine
    for family_file in (configuration.GIN_DIR / "scenarios" / f"{engine}.gin",
                        configuration.GIN_DIR / "methods" / method.name / f"{engine}.gin"):
        if family_file.is_file():
            files.append(family_file)
    scenario_file = configuration.GIN_DIR / "scenarios" / f"{scenario}.gin"
    if scenario_file.is_file():
        files.append(scenario_file)
    if method.task_gin_file(scenario):
        files.append(method.task_gin_file(scenario))
    for name in (preset.split(",") if preset else []):
        if name not in methods.PRESETS:
            raise UsageError(not_one_of("preset", name, methods.PRESETS))
        files.append(configuration.GIN_DIR / "presets" / f"{name}.gin")
    return files


def announce_verdict(r_networks_dir) -> None:
    """Prints the R-network report card's verdict before the policy trains: a warning, not a stop
    (a network whose bonus does not separate an explorer from a couch potato is worth a look)."""
    verdict = report_card.read_verdict(r_networks_dir)
    if verdict is None:
        line = (f"R-network report card: none in {r_networks_dir} (python -m "
                f"episodic_curiosity.rnet.report --r_networks_path={r_networks_dir} writes one)")
    else:
        line = f"R-network report card ({r_networks_dir}/report.md): {verdict}"
    print(line, flush=True)
    if verdict is not None and verdict.startswith("FAIL"):  # a missing card is only a hint: a
        logging.warning(line)  # missing or broken R-network is the policy stage's one error line


def configure(method_name: str, scenario: str, workdir, run_number: int = 0,
              preset: str | None = None, extra_bindings=(), r_networks_path: str | None = None):
    """Validates every input and parses the run's gin configuration; writes nothing. Returns
    (method, run_dir, R-network dir). The VM agent calls it too, for the configuration's hash."""
    method = methods.get(method_name)
    methods.check_observations(method, envs.get(scenario))
    if run_number < 0:
        raise UsageError(f"--run_number must be >= 0, got {run_number}")
    if r_networks_path and not method.needs_offline_rnet:
        offline_ones = ", ".join(m.name for m in methods.METHODS.values() if m.needs_offline_rnet)
        raise UsageError(f"--r_networks_path is for {offline_ones}, not {method_name}")
    run_dir = RunDir(run_path(workdir, method_name, scenario, run_number))
    rnet_dir = r_networks_path or run_dir.r_networks
    configuration.parse(gin_files(method, scenario, preset),
                        _bindings(method, scenario, run_number, rnet_dir, extra_bindings))
    preflight.check_numeric_bindings()
    return method, run_dir, rnet_dir


def _bindings(method, scenario, run_number, rnet_dir, extra_bindings) -> list:
    bindings = [f"train_policy.scenario = '{scenario}'", f"train_policy.seed = {run_number}"]
    if method.needs_offline_rnet:
        bindings.append(f"EpisodicCuriosity.r_network_path = '{rnet_dir}'")
    return bindings + list(extra_bindings)


def check_num_ranks(num_ranks: int, device) -> None:
    """Refuses, in one line, a rank count that cannot run here."""
    if num_ranks < 1:
        raise UsageError(f"--num_ranks must be >= 1, got {num_ranks}")
    if device.type == "cuda" and num_ranks > (gpus := torch_cuda_count()):
        raise UsageError(f"--num_ranks={num_ranks} needs one GPU per rank and this machine has "
                         f"{gpus}; lower --num_ranks or train on the CPU (train_policy.device)")
    if device.type == "mps" and num_ranks > 1:
        raise UsageError("--num_ranks > 1 runs on CUDA (NCCL) or the CPU (gloo), not on mps; "
                         "use --num_ranks=1 or --gin_bindings=\"train_policy.device='cpu'\"")


def torch_cuda_count() -> int:
    import torch
    return torch.cuda.device_count()


def run(method_name: str, scenario: str, workdir, run_number: int = 0,
        preset: str | None = None, extra_bindings=(), r_networks_path: str | None = None,
        accept_config_change: bool = False, num_ranks: int = 1) -> RunDir:
    """Validates every input before anything is written, then runs the method's stages.

    accept_config_change: resume the run even with a configuration other than its own
    (run_config.py; --accept_config_change).
    num_ranks: data-parallel ranks of the policy stage (the R-network stages run here, alone).
    """
    method, run_dir, rnet_dir = configure(method_name, scenario, workdir, run_number, preset,
                                          extra_bindings, r_networks_path)
    device = resolve_device(configuration.query("train_policy.device", "auto"))
    check_num_ranks(num_ranks, device)

    with run_dir.lock():
        if method.needs_offline_rnet and not r_networks_path:
            _offline_rnet_stages(run_dir, scenario, run_number, device)
        if method.needs_offline_rnet:
            announce_verdict(rnet_dir)
        if num_ranks == 1:
            trainer.train_policy(run_dir, accept_config_change=accept_config_change)
        else:
            args = [f"--gin_config={f}" for f in gin_files(method, scenario, preset)]
            args += [f"--gin_bindings={b}" for b in
                     _bindings(method, scenario, run_number, rnet_dir, extra_bindings)]
            train_on_ranks(run_dir, num_ranks, args + (["--accept_config_change"]
                                                       if accept_config_change else []))
    return run_dir


def _offline_rnet_stages(run_dir: RunDir, scenario: str, run_number: int, device):
    """generate_r_training_data then train_r, each skipped once its DONE marker exists."""
    run_dir.create()
    if data.is_complete(run_dir.r_training_data):
        logging.info("R-network data already generated in %s: skipped", run_dir.r_training_data)
    else:
        data.generate(run_dir.r_training_data, scenario, seed=run_number)
    if offline.is_complete(run_dir.r_networks):
        logging.info("R-network already trained in %s: skipped", run_dir.r_networks)
    else:
        offline.train_r(run_dir.r_training_data, run_dir.r_networks, device, seed=run_number,
                        write_report=report_card.write_report)
