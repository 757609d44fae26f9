"""Compute Engine calls for the fleet: build instance bodies, insert / list / start / delete, wait.

The real google-cloud-compute clients over REST. `endpoint` (an http:// url) points them at a
local fake with anonymous credentials; otherwise they use Application Default Credentials.
Operations are waited for with ZoneOperationsClient.wait, not ExtendedOperation.result(), which
would poll the real googleapis host whatever the endpoint.
"""

import json
import time

from google.api_core import exceptions
from episodic_curiosity.errors import UsageError

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
FLEET_LABEL = "ec-fleet"

# GPUs one VM may hold, per GPU type (cloud.google.com/compute/docs/gpus, 2024): N1 machines take
# 1, 2 or 4 of the older types (V100 also 8); A100 / H100 come only in their accelerator-optimized
# machine types, one fixed count each (a3-highgpu-1g/2g/4g: Spot or flex-start only).
GPU_COUNTS = {"nvidia-tesla-t4": (1, 2, 4), "nvidia-tesla-p4": (1, 2, 4),
              "nvidia-tesla-p100": (1, 2, 4), "nvidia-tesla-v100": (1, 2, 4, 8),
              "nvidia-l4": (1, 2, 4, 8), "nvidia-tesla-a100": (1, 2, 4, 8, 16),
              "nvidia-a100-80gb": (1, 2, 4, 8), "nvidia-h100-80gb": (1, 2, 4, 8),
              "nvidia-h100-mega-80gb": (8,)}
# The machine type of those that fix it, by GPU count.
GPU_MACHINES = {"nvidia-tesla-a100": {n: f"a2-highgpu-{n}g" for n in (1, 2, 4, 8)}
                | {16: "a2-megagpu-16g"},
                "nvidia-a100-80gb": {n: f"a2-ultragpu-{n}g" for n in (1, 2, 4, 8)},
                "nvidia-h100-80gb": {n: f"a3-highgpu-{n}g" for n in (1, 2, 4, 8)},
                "nvidia-h100-mega-80gb": {8: "a3-megagpu-8g"}}
N1_MAX_VCPUS = 96


def check_gpu_count(gpu_type: str, count: int, flag: str) -> None:
    """Refuses a GPU count Compute Engine would refuse, before anything is created."""
    allowed = GPU_COUNTS.get(gpu_type)
    if allowed and count not in allowed:
        raise UsageError(f"{flag}={count}: a VM holds {', '.join(map(str, allowed))} x "
                         f"{gpu_type} on Compute Engine")


def gpu_machine_type(gpu_type: str | None, count: int, asked: str | None) -> str | None:
    """The machine type a GPU type fixes (None: any); refuses another one passed as `asked`."""
    fixed = GPU_MACHINES.get(gpu_type, {}).get(count)
    if fixed and asked and asked != fixed:
        raise UsageError(f"{count} x {gpu_type} runs on machine type {fixed}, not --machine_type="
                         f"{asked}; leave --machine_type out")
    return fixed


def _v1():
    """google.cloud.compute_v1 takes ~5 s to import: only the calls that need it pay."""
    from google.cloud import compute_v1
    return compute_v1


def instance_body(name: str, zone: str, machine_type: str, gpu_type: str | None, gpu_count: int,
                  spot: bool, source_image: str, metadata: dict, labels: dict,
                  disk_gb: int = 200, service_account: str = "default"):
    """One training VM: GPU, TERMINATE on host maintenance (GPUs cannot live-migrate), Spot or
    on-demand, startup script and run spec as metadata, cloud-platform scope for the bucket."""
    compute_v1 = _v1()
    scheduling = compute_v1.Scheduling(on_host_maintenance="TERMINATE")
    if spot:
        # STOP keeps the boot disk: --resume_preempted starts the same VM again.
        scheduling.provisioning_model = "SPOT"
        scheduling.instance_termination_action = "STOP"
        scheduling.automatic_restart = False
    else:
        scheduling.automatic_restart = True
    instance = compute_v1.Instance(
        name=name,
        machine_type=f"zones/{zone}/machineTypes/{machine_type}",
        disks=[compute_v1.AttachedDisk(
            boot=True, auto_delete=True,
            initialize_params=compute_v1.AttachedDiskInitializeParams(
                source_image=source_image, disk_size_gb=disk_gb))],
        network_interfaces=[compute_v1.NetworkInterface(
            network="global/networks/default",
            access_configs=[compute_v1.AccessConfig(name="External NAT", type_="ONE_TO_ONE_NAT")])],
        scheduling=scheduling,
        metadata=compute_v1.Metadata(items=[compute_v1.Items(key=k, value=str(v))
                                            for k, v in metadata.items()]),
        service_accounts=[compute_v1.ServiceAccount(email=service_account, scopes=SCOPES)],
        labels=labels)
    if gpu_type and gpu_count:
        instance.guest_accelerators = [compute_v1.AcceleratorConfig(
            accelerator_count=gpu_count,
            accelerator_type=f"zones/{zone}/acceleratorTypes/{gpu_type}")]
    return instance


def body_json(instance) -> dict:
    """The request body as the REST API receives it (camelCase JSON, unset fields left out)."""
    return json.loads(_v1().Instance.to_json(instance, use_integers_for_enums=False,
                                             always_print_fields_with_no_presence=False))


class Compute:
    """The clients of one (project, zone)."""

    def __init__(self, project: str, zone: str, endpoint: str | None = None):
        self.project, self.zone = project, zone
        from google.api_core.client_options import ClientOptions
        compute_v1 = _v1()
        kwargs = {"transport": "rest"}
        if endpoint:
            from google.auth.credentials import AnonymousCredentials
            kwargs.update(client_options=ClientOptions(api_endpoint=endpoint),
                          credentials=AnonymousCredentials())
        self.instances = compute_v1.InstancesClient(**kwargs)
        self.operations = compute_v1.ZoneOperationsClient(**kwargs)
        self.accelerators = compute_v1.AcceleratorTypesClient(**kwargs)
        self.images = compute_v1.ImagesClient(**kwargs)

    # -- checks before anything is created ----------------------------------------------------

    def check_gpu_type(self, gpu_type: str):
        try:
            self.accelerators.get(project=self.project, zone=self.zone,
                                  accelerator_type=gpu_type)
        except exceptions.NotFound as e:
            raise UsageError(f"zone {self.zone} has no GPU type {gpu_type}; list the zones that "
                             f"have it with 'gcloud compute accelerator-types list "
                             f"--filter=name={gpu_type}' and pass one as --zone") from e

    def resolve_image(self, image_project: str, family: str) -> str:
        """The newest image of the family, fixed once so every VM of a launch boots the same."""
        try:
            image = self.images.get_from_family(project=image_project, family=family)
        except exceptions.NotFound as e:
            raise UsageError(f"image family {family} not found in project {image_project}; "
                             "pick one from 'gcloud compute images list --project "
                             f"{image_project}' and pass --image_family") from e
        return image.self_link

    # -- instances ------------------------------------------------------------------------------

    def insert(self, instance):
        try:
            op = self.instances.insert_unary(project=self.project, zone=self.zone,
                                             instance_resource=instance)
        except exceptions.Conflict as e:
            raise UsageError(f"a VM named {instance.name} already exists in {self.zone}; "
                             "delete it (--delete) or pass another --prefix") from e
        except exceptions.Forbidden as e:
            raise UsageError(_quota_or_permission(e.message, instance.name)) from e
        self.wait(op, f"creating {instance.name}")

    def get(self, name: str):
        return self.instances.get(project=self.project, zone=self.zone, instance=name)

    def list(self, fleet: str) -> list:
        request = _v1().ListInstancesRequest(project=self.project, zone=self.zone,
                                             filter=f'labels.{FLEET_LABEL} = "{fleet}"')
        return list(self.instances.list(request=request))

    def start(self, name: str):
        self.wait(self.instances.start_unary(project=self.project, zone=self.zone,
                                             instance=name), f"starting {name}")

    def delete(self, name: str):
        try:
            op = self.instances.delete_unary(project=self.project, zone=self.zone, instance=name)
        except exceptions.NotFound:
            return
        self.wait(op, f"deleting {name}")

    def wait(self, op, what: str, timeout_s: float = 600):
        """Until the zone operation is DONE; its error becomes one UsageError line."""
        deadline = time.time() + timeout_s
        while op.status != _v1().Operation.Status.DONE:
            if time.time() > deadline:
                raise UsageError(f"{what}: operation {op.name} not done after {timeout_s:.0f} s")
            op = self.operations.wait(project=self.project, zone=self.zone, operation=op.name)
        if op.error and op.error.errors:
            first = op.error.errors[0]
            if first.code in ("QUOTA_EXCEEDED", "ZONE_RESOURCE_POOL_EXHAUSTED"):
                raise UsageError(_quota_or_permission(f"{first.code}: {first.message}", what))
            raise UsageError(f"{what} failed: {first.code}: {first.message}")


def _quota_or_permission(message: str, what: str) -> str:
    message = " ".join(message.split())
    if "QUOTA" in message.upper():
        return (f"{what}: quota exceeded ({message}); ask for more quota on the IAM & Admin > "
                "Quotas page, or launch fewer runs / another --zone")
    if "RESOURCE_POOL_EXHAUSTED" in message:
        return f"{what}: the zone has no capacity for this shape now ({message}); try another --zone"
    return f"{what}: permission denied ({message}); check the project and your credentials"
