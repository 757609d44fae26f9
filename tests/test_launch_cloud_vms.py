"""scripts/launch_cloud_vms.py with the real compute and storage clients against local fakes:
the plan, the request bodies, status / delete, and one-line errors that leave nothing behind."""

import json
import os
import subprocess
import sys

import pytest
from google.cloud import storage

from conftest import REPO
from fake_compute import FakeCompute
from fake_gcs import bucket, gcs_server  # noqa: F401  (fixtures)
from test_launcher import assert_one_line_error

SOURCE = "gs://unused/source.tar.gz"


@pytest.fixture
def compute():
    fake = FakeCompute(gpu_quota=100)
    yield fake
    fake.close()


def launch(*args, compute=None, bucket=None):
    cmd = [sys.executable, str(REPO / "scripts" / "launch_cloud_vms.py"), "--project=proj",
           "--zone=us-central1-a", "--scenarios=doom_dense", *args]
    if compute is not None:
        cmd.append(f"--compute_endpoint={compute.endpoint}")
    if bucket is not None:
        cmd.append(f"--bucket={bucket.name}")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_without_the_flag_it_prints_the_plan_and_creates_nothing(compute):
    result = launch("--methods=ppo,ppo_plus_eco", "--num_runs=2", compute=compute)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("ec-table1-ppo-doom-dense-0", "ec-table1-ppo-doom-dense-1",
                 "ec-table1-ppo-plus-eco-doom-dense-1"):
        assert name in out
    assert "custom-16-105472" in out and "2 x nvidia-tesla-p100" in out and "Spot" in out
    assert "USD" in out and "per day" in out and "nothing was created" in out
    assert compute.requests == []


def test_dry_run_prints_the_exact_request_bodies(compute, bucket):
    result = launch("--methods=ppo", "--num_runs=1", "--dry_run", "--nospot", f"--source={SOURCE}",
                    compute=compute, bucket=bucket)
    assert result.returncode == 0, result.stderr
    [body] = json.loads(result.stdout)
    assert body["scheduling"] == {"onHostMaintenance": "TERMINATE", "automaticRestart": True}
    assert body["disks"][0]["initializeParams"]["sourceImage"].endswith(
        "images/pytorch-latest-gpu-v20240601")
    assert [m for m, *_ in compute.requests] == ["GET", "GET"]  # GPU type, image: nothing created
    assert compute.instances == {}


def test_every_launchable_method_has_a_machine_shape():
    from episodic_curiosity.launch import fleet, methods
    assert set(fleet.DEFAULT_SHAPES) == set(methods.METHODS)
    vms = fleet.plan("t", list(methods.METHODS), ["doom_dense"], 1)
    assert len(vms) == len(methods.METHODS)


def test_launch_status_and_delete(compute, bucket):
    result = launch("--methods=ppo,ppo_plus_eco", "--num_runs=2", "--preset=smoke",
                    "--i_understand_launching_vms_is_expensive", compute=compute, bucket=bucket)
    assert result.returncode == 0, result.stderr
    inserts = [body for method, path, body in compute.requests if method == "POST"
               and path.endswith("/instances")]
    assert [b["name"] for b in inserts] == [
        "ec-table1-ppo-doom-dense-0", "ec-table1-ppo-doom-dense-1",
        "ec-table1-ppo-plus-eco-doom-dense-0", "ec-table1-ppo-plus-eco-doom-dense-1"]
    eco = inserts[3]
    assert eco["machineType"] == "zones/us-central1-a/machineTypes/custom-16-105472"
    assert eco["guestAccelerators"] == [{
        "acceleratorCount": 2,
        "acceleratorType": "zones/us-central1-a/acceleratorTypes/nvidia-tesla-p100"}]
    assert eco["scheduling"] == {"onHostMaintenance": "TERMINATE", "provisioningModel": "SPOT",
                                 "instanceTerminationAction": "STOP", "automaticRestart": False}
    assert eco["serviceAccounts"] == [{"email": "default", "scopes": [
        "https://www.googleapis.com/auth/cloud-platform"]}]
    assert eco["labels"] == {"ec-fleet": "table1", "method": "ppo-plus-eco",
                             "scenario": "doom-dense", "run": "1"}
    md = {i["key"]: i["value"] for i in eco["metadata"]["items"]}
    assert md["startup-script"].startswith("#!/bin/bash") and md["install-nvidia-driver"] == "True"
    assert md["ec-prefix"] == "table1/ppo_plus_eco/doom_dense/run_number_1"
    assert md["ec-run-number"] == "1" and md["ec-preset"] == "smoke"
    assert md["ec-bucket"] == bucket.name
    # The source archive of this commit was uploaded, and the VMs install it.
    source = md["ec-source"]
    assert source.startswith(f"gs://{bucket.name}/table1/source/episodic_curiosity-")
    assert bucket.blob(source.split("/", 3)[3]).exists()
    # No credential travels in metadata.
    assert not any(word in json.dumps(md).lower()
                   for word in ("private_key", "access_token", "password", "secret"))

    bucket.blob("table1/ppo/doom_dense/run_number_0/progress.csv").upload_from_string(
        "step,fps\n256,1\n512,1\n")
    status = launch("--status", compute=compute, bucket=bucket)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.strip().splitlines()
    assert len(lines) == 4
    assert "ec-table1-ppo-doom-dense-0" in lines[0] and "RUNNING" in lines[0]
    assert "last_step=512" in lines[0] and "last_step=None" in lines[1]
    compute.instances["ec-table1-ppo-doom-dense-1"]["body"]["status"] = "TERMINATED"
    resumed = launch("--resume_preempted", compute=compute)
    assert "started 1 preempted VMs" in resumed.stdout, resumed.stderr
    assert compute.instances["ec-table1-ppo-doom-dense-1"]["body"]["status"] == "RUNNING"
    deleted = launch("--delete", compute=compute)
    assert deleted.returncode == 0 and "deleted 4 VMs" in deleted.stdout, deleted.stderr
    assert compute.instances == {}


LAUNCH = ["--methods=ppo", "--num_runs=4", "--i_understand_launching_vms_is_expensive",
          f"--source={SOURCE}"]


def test_missing_bucket(compute, gcs_server):
    result = launch(*LAUNCH, "--bucket=no-such-bucket", compute=compute)
    assert_one_line_error(result, "gs://no-such-bucket does not exist")
    assert compute.instances == {}


def test_zone_without_the_gpu_type(compute, bucket):
    result = launch(*LAUNCH, "--zone=us-central1-f", compute=compute, bucket=bucket)
    assert_one_line_error(result, "us-central1-f has no GPU type nvidia-tesla-p100", "--zone")
    assert compute.instances == {}


def test_quota_error_rolls_back_the_vms_already_created(compute, bucket):
    compute.gpu_quota = 3
    result = launch(*LAUNCH[:-1], compute=compute, bucket=bucket)  # with the source upload
    # (a checkout with uncommitted changes adds a warning line: not part of the error)
    result.stderr = "".join(l for l in result.stderr.splitlines(True)
                            if not l.startswith("warning: uncommitted"))
    assert_one_line_error(result, "quota exceeded", "QUOTA_EXCEEDED", "ec-table1-ppo-doom-dense-3")
    assert compute.instances == {}
    assert len([1 for m, p, _ in compute.requests if m == "DELETE"]) == 3
    assert list(storage.Client(project="p").list_blobs(bucket)) == []  # the upload too


def test_name_clash_rolls_back(compute, bucket):
    first = launch("--methods=ppo", "--num_runs=1", "--i_understand_launching_vms_is_expensive",
                   f"--source={SOURCE}", "--prefix=other", compute=compute, bucket=bucket)
    assert first.returncode == 0, first.stderr
    # Another fleet's VM happens to hold the name this launch wants for its third VM.
    compute.instances["ec-table1-ppo-doom-dense-2"] = compute.instances.pop(
        "ec-other-ppo-doom-dense-0")
    result = launch(*LAUNCH, compute=compute, bucket=bucket)
    assert_one_line_error(result, "ec-table1-ppo-doom-dense-2 already exists", "--delete")
    assert list(compute.instances) == ["ec-table1-ppo-doom-dense-2"]  # only the one it found


def test_bad_flags_are_one_line(compute):
    assert_one_line_error(launch("--methods=ppo_plus_nope", compute=compute), "ppo_plus_nope")
    assert_one_line_error(launch("--prefix=Bad_Prefix", compute=compute), "--prefix")
    assert_one_line_error(launch("--methods=ppo", "--dry_run", compute=compute), "--bucket")


def agent_command(compute, name):
    """The launcher command the VM agent builds from the VM's metadata server."""
    code = ("import json; from episodic_curiosity.launch import vm_agent; "
            "print(json.dumps(vm_agent.launcher_command('/w')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ,
                                                 GCE_METADATA_HOST=compute.metadata_host(name)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gpus_per_vm_gives_the_vm_n_gpus_and_its_run_n_ranks(compute, bucket):
    result = launch("--methods=ppo", "--num_runs=1", "--gpus_per_vm=2", f"--source={SOURCE}",
                    "--i_understand_launching_vms_is_expensive", compute=compute, bucket=bucket)
    assert result.returncode == 0, result.stderr
    [body] = [b for m, p, b in compute.requests if m == "POST" and p.endswith("/instances")]
    assert body["guestAccelerators"] == [{
        "acceleratorCount": 2,
        "acceleratorType": "zones/us-central1-a/acceleratorTypes/nvidia-tesla-p100"}]
    assert body["machineType"].endswith("/custom-24-65536")  # two ranks' vCPUs and memory
    md = {i["key"]: i["value"] for i in body["metadata"]["items"]}
    assert md["ec-num-ranks"] == "2"
    cmd = agent_command(compute, body["name"])
    assert cmd[1].endswith("scripts/launcher_script.py") and "--num_ranks=2" in cmd
    assert "--method=ppo" in cmd and "--run_number=0" in cmd


def test_one_gpu_vm_runs_one_rank(compute, bucket):
    result = launch("--methods=ppo", "--num_runs=1", f"--source={SOURCE}",
                    "--i_understand_launching_vms_is_expensive", compute=compute, bucket=bucket)
    assert result.returncode == 0, result.stderr
    cmd = agent_command(compute, "ec-table1-ppo-doom-dense-0")
    assert not any(arg.startswith("--num_ranks") for arg in cmd)


def test_invalid_gpu_count_is_refused_before_anything_is_created(compute, bucket):
    result = launch("--methods=ppo", "--gpus_per_vm=3", f"--source={SOURCE}",
                    "--i_understand_launching_vms_is_expensive", compute=compute, bucket=bucket)
    assert_one_line_error(result, "--gpus_per_vm=3", "1, 2, 4 x nvidia-tesla-p100")
    assert compute.requests == [] and compute.instances == {}
    assert list(storage.Client(project="p").list_blobs(bucket)) == []
    assert_one_line_error(launch("--gpus_per_vm=3", "--gpu_type=nvidia-h100-80gb",
                                 compute=compute), "1, 2, 4, 8 x nvidia-h100-80gb")
