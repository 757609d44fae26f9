"""Rank plumbing for data-parallel training of one run on torch.distributed.

torchrun (or the launcher's --num_ranks) sets WORLD_SIZE / RANK / LOCAL_RANK / MASTER_ADDR /
MASTER_PORT; `init()` joins the process group from them (NCCL on GPUs, gloo on CPU). Without
WORLD_SIZE nothing is initialised and every helper here is a no-op for the one rank, so a plain
run behaves exactly as before.
"""

import datetime
import os

import torch
import torch.distributed as dist

# Seconds a collective waits for a missing rank before it fails (a rank that hangs; one that
# dies is noticed at once: its sockets close, or torchrun's agent stops the others).
TIMEOUT_ENV = "EPISODIC_CURIOSITY_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 1800


def requested() -> bool:
    """torchrun's variables are set for more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_rank() -> int:
    """This process's rank from the environment, before (or without) `init`."""
    return int(os.environ.get("RANK", "0")) if requested() else 0


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def init(device: torch.device) -> torch.device:
    """Joins the process group once (no-op for one rank); returns the device this rank uses
    (its local GPU where the run is on CUDA)."""
    if not requested():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not active():
        timeout = datetime.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV,
                                                                  DEFAULT_TIMEOUT_S)))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timeout)
    return device


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_writer() -> bool:
    """Rank 0 writes the run directory; the others write nothing there."""
    return rank() == 0


def barrier() -> None:
    if active():
        dist.barrier()


def _collective_device(tensor: torch.Tensor) -> torch.device:
    """gloo reduces CPU tensors; NCCL this rank's GPU's."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _all_reduce(tensor: torch.Tensor, op=None) -> torch.Tensor:
    """`op` (sum by default) over ranks, as a new tensor of `tensor`'s device and dtype."""
    buffer = tensor.detach().to(_collective_device(tensor)).clone()
    dist.all_reduce(buffer, op=dist.ReduceOp.SUM if op is None else op)
    return buffer.to(tensor.device)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum over ranks, as a new tensor of `tensor`'s device and dtype."""
    return _all_reduce(tensor) if active() else tensor


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    if not active():
        return tensor
    return all_reduce_sum(tensor) / world_size()


def average_gradients(parameters) -> None:
    """Replaces every gradient by its mean over ranks, in one flat all-reduce (a missing grad
    counts as zeros, so all ranks reduce the same buffer)."""
    if not active():
        return
    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = all_reduce_mean(torch.cat([g.reshape(-1) for g in grads]))
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset:offset + n].view_as(g).to(g.dtype)
        offset += n


def sync_optimizer(optimizer: torch.optim.Optimizer) -> None:
    """Every `optimizer.step()` first averages its parameters' gradients over ranks: the one
    hook that keeps an intrinsic reward's own networks (RND predictor, ICM / RIDE dynamics, NGU
    and E3B embeddings, ECO's R-network) the same on every rank."""
    if not active() or getattr(optimizer, "_ec_synced", False):
        return

    def hook(opt, args, kwargs):
        del args, kwargs
        average_gradients(p for group in opt.param_groups for p in group["params"])

    optimizer.register_step_pre_hook(hook)
    optimizer._ec_synced = True


def optimizers_of(obj, depth: int = 3, seen=None) -> list:
    """The torch optimizers reachable from `obj`'s attributes (a reward and its parts, an
    nn.Module's own attributes included)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.optim.Optimizer):
        return [obj]
    if isinstance(obj, torch.Tensor) or not hasattr(obj, "__dict__"):
        return []
    found = []
    for value in vars(obj).values():
        found += optimizers_of(value, depth - 1, seen)
    return found


def broadcast_object(obj):
    """Rank 0's `obj` on every rank (pickled; small states only)."""
    if not active():
        return obj
    box = [obj if rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers into `module` on every rank (the initial weights)."""
    if not active():
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        buffer = tensor.detach().to(_collective_device(tensor)).clone()
        dist.broadcast(buffer, src=0)
        with torch.no_grad():
            tensor.copy_(buffer.to(tensor.device))


def gather_objects(items: list) -> list:
    """Every rank's list, concatenated in rank order (e.g. finished episodes for rank 0's log)."""
    if not active():
        return items
    out = [None] * world_size()
    dist.all_gather_object(out, items)
    return [x for part in out for x in part]


def any_rank(flag) -> int | None:
    """The largest of the ranks' flags (a stop signal number, 0 for none), so that all ranks
    agree to stop at the same update; None where no rank has one."""
    if not active():
        return flag or None
    return int(_all_reduce(torch.tensor([float(flag or 0)]), dist.ReduceOp.MAX).item()) or None


def min_over_ranks(value: int) -> int:
    """The smallest of the ranks' counts: a loop of collectives must run as often on each."""
    if not active():
        return value
    return int(_all_reduce(torch.tensor([float(value)]), dist.ReduceOp.MIN).item())


def merged_moments(mean: torch.Tensor, var: torch.Tensor, count: int):
    """(mean, population var, count) of the union of every rank's batch, exactly (Chan et al.:
    the M2 sums plus each rank's shift to the global mean), as RND's MPI code merged them."""
    if not active():
        return mean, var, count
    total = all_reduce_sum(torch.tensor([float(count)], dtype=torch.float64)).item()
    global_mean = all_reduce_sum(mean * count) / total
    m2 = all_reduce_sum(var * count + (mean - global_mean) ** 2 * count)
    return global_mean, m2 / total, int(total)


def shutdown() -> None:
    if active():
        dist.destroy_process_group()
