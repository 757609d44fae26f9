"""Estimated Compute Engine prices for the plan print: USD per hour in us-central1.

Source: Google Cloud's public price pages (VM instance pricing for N1 custom machine types, GPU
pricing, disk pricing) as of mid-2024, copied by hand. ESTIMATES ONLY: Spot prices change up to
once a month, regions differ, and sustained-use or committed-use discounts are ignored. Check
https://cloud.google.com/compute/all-pricing before spending money.
"""

import re

# (on-demand, spot) USD per hour.
N1_VCPU = (0.033174, 0.006960)
N1_GB_RAM = (0.004446, 0.000930)
GPU = {
    "nvidia-tesla-p100": (1.46, 0.584),
    "nvidia-tesla-t4": (0.35, 0.14),
    "nvidia-tesla-v100": (2.48, 0.992),
    "nvidia-tesla-p4": (0.60, 0.24),
}
# Balanced persistent disk, USD per GB-month (spot and on-demand alike), ~730 hours a month.
DISK_GB_MONTH = 0.10
STANDARD_N1 = {"n1-standard-4": (4, 15), "n1-standard-8": (8, 30), "n1-standard-16": (16, 60),
               "n1-highmem-8": (8, 52), "n1-highmem-16": (16, 104)}


def machine_shape(machine_type: str):
    """(vCPUs, GB) of an N1 type: n1-standard-8, or custom-<cpus>-<MB> (N1 custom)."""
    if machine_type in STANDARD_N1:
        return STANDARD_N1[machine_type]
    m = re.fullmatch(r"custom-(\d+)-(\d+)", machine_type)
    if m:
        return int(m.group(1)), int(m.group(2)) / 1024
    return None


def usd_per_day(machine_type: str, gpu_type: str | None, gpu_count: int, spot: bool,
                disk_gb: int) -> float | None:
    """Estimated cost of one VM running 24 h; None when the table does not know a part."""
    i = 1 if spot else 0
    shape = machine_shape(machine_type)
    if shape is None or (gpu_count and gpu_type not in GPU):
        return None
    hourly = shape[0] * N1_VCPU[i] + shape[1] * N1_GB_RAM[i]
    hourly += gpu_count * GPU[gpu_type][i] if gpu_count else 0.0
    hourly += disk_gb * DISK_GB_MONTH / 730
    return 24 * hourly
