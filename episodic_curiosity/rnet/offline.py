"""Offline R-network training (the `train_r` stage): epochs on random-policy pairs.

r_networks/ holds r_training.csv (per epoch: loss, train and validation accuracy),
checkpoints/ (resumable, one per epoch) and r_network.pt: the network after the last epoch, as the
original's launcher takes its latest checkpoint (`train_r.keep = 'best_validation'` keeps the best
by validation accuracy instead). At the end the report card (report_card.py, handed in by the
stage's callers: it sits above rnet/) is written beside it.
"""

import pathlib
import time

import gin
import numpy as np
import torch
from absl import logging

from episodic_curiosity import allocator, checkpoint
from episodic_curiosity.csv_log import ResumableCsv
from episodic_curiosity.errors import UsageError, load_error_summary
from episodic_curiosity.progress import Progress
from episodic_curiosity.rnet import data
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.training import RTrainer
from episodic_curiosity.validation import Count, Index
from episodic_curiosity.workdir import atomic_write_text

BEST = "r_network.pt"
KEEP = ("latest", "best_validation")
COLUMNS = ["epoch", "train_loss", "train_accuracy", "valid_accuracy", "timestamp_s"]


def save_rnet(path, rnet, **extra):
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"config": rnet.config, "rnet": rnet.state_dict(), **extra}, tmp)
    tmp.replace(path)


def load_rnet(path, device) -> RNetwork:
    """An R-network saved by `save_rnet`; missing, corrupt or misshapen files are UsageErrors."""
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / BEST
    if not path.is_file():
        raise UsageError(f"no R-network at {path}; train one (--method=ppo_plus_ec trains it) or "
                         "pass --r_networks_path=<dir with r_network.pt>")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        # Networks saved before `block` existed are the first, post-activation design.
        rnet = RNetwork(**{"block": "postactivation", **state["config"]})
        rnet.load_state_dict(state["rnet"])
    except UsageError:
        raise
    except Exception as e:
        raise UsageError(f"R-network checkpoint {path} cannot be loaded "
                         f"({load_error_summary(e)}); retrain it or pass another "
                         "--r_networks_path") from e
    return rnet.to(device)


def is_complete(r_networks_dir) -> bool:
    return (pathlib.Path(r_networks_dir) / "DONE").is_file()


@gin.configurable(denylist=["data_dir", "out_dir", "device", "write_report"])
def train_r(data_dir, out_dir, device, epochs: Count = 2000, steps_per_epoch: Count = 100,
            valid_pairs: Count = 2048, keep: str = "latest", report: bool = True, seed: Index = 0,
            write_report=None):
    """Trains an R-network on the shards in `data_dir`; resumes from the newest epoch checkpoint.

    The paper's budget: 2000 epochs x 100 batches of 64 pairs (200k steps), the latest kept.
    report: write the report card (r_networks/report.md) at the end, before the DONE marker,
    with `write_report(out_dir, data_dir, device)` (report_card.write_report; None: no card).
    """
    if keep not in KEEP:
        raise UsageError(f"train_r.keep must be one of {KEEP}, got {keep!r}")
    allocator.keep_freed_memory()  # each batch's activations reuse the last one's pages
    out_dir = pathlib.Path(out_dir)
    train_frames = data.Frames(pathlib.Path(data_dir) / "train")
    valid_frames = data.Frames(pathlib.Path(data_dir) / "valid")
    rnet = RNetwork(input_shape=train_frames.frame_shape).to(device)
    trainer = RTrainer(rnet, device)
    ckpt_dir = out_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state = checkpoint.load_latest(ckpt_dir)
    epoch, best = 0, -1.0
    if state is not None:
        try:
            trainer.load_state_dict(state["trainer"])
        except (RuntimeError, KeyError) as e:
            raise UsageError(f"R-network checkpoint in {ckpt_dir} does not fit this R-network "
                             f"({load_error_summary(e)}); use a new --workdir") from e
        epoch, best = state["step"], state["best"]
        checkpoint.restore_rng_state(state["rng"])
        rng = state["numpy_rng"]
    else:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
    log = ResumableCsv(out_dir / "r_training.csv", COLUMNS, epoch)
    bar = Progress(epochs, "R-network training", unit="epochs", initial=epoch)
    try:
        while epoch < epochs:
            start = time.time()
            stats = trainer.train_steps(train_frames, train_frames.episode_lengths,
                                        steps_per_epoch, rng)
            valid = trainer.accuracy(valid_frames, valid_frames.episode_lengths, valid_pairs)
            epoch += 1
            log.write(epoch, train_loss=f"{stats['loss']:.5f}",
                      train_accuracy=f"{stats['accuracy']:.4f}", valid_accuracy=f"{valid:.4f}",
                      timestamp_s=f"{time.time():.3f}")
            logging.info("R-network epoch %d/%d: loss %.4f, train accuracy %.3f, validation "
                         "accuracy %.3f (%.0f s)", epoch, epochs, stats["loss"],
                         stats["accuracy"], valid, time.time() - start)
            bar.update(1, valid_accuracy=f"{valid:.3f}")
            if keep == "latest" or valid > best:
                save_rnet(out_dir / BEST, rnet, epoch=epoch, valid_accuracy=valid)
            best = max(best, valid)
            checkpoint.save(ckpt_dir, epoch, {"trainer": trainer.state_dict(), "best": best,
                                              "rng": checkpoint.rng_state(), "numpy_rng": rng},
                            keep=2)
    finally:
        log.close()
        bar.close()
    scenario = data.read_meta(data_dir).get("scenario") if data.is_complete(data_dir) else None
    if report and scenario and write_report is not None:
        write_report(out_dir, data_dir, device)
    elif report and write_report is not None:
        logging.warning("no scenario recorded with %s: report card skipped (python -m "
                        "episodic_curiosity.rnet.report --r_networks_path=%s --scenario=S)",
                        data_dir, out_dir)
    atomic_write_text(out_dir / "DONE", f"best validation accuracy {best:.4f}\n")
    return best
