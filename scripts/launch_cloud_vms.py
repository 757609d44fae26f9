"""One Compute Engine GPU VM per (method, scenario, run), each syncing its run to Cloud Storage.

  # The plan: USD a day, each run's wall time and cost, the fleet's total; creates nothing:
  python scripts/launch_cloud_vms.py --project=P --zone=us-central1-a --bucket=B --num_runs=10
  # The exact request bodies (reads the bucket, the zone's GPU types and the image family):
  python scripts/launch_cloud_vms.py ... --dry_run
  # Launch for real, then watch, resume preempted Spot VMs, tear down:
  python scripts/launch_cloud_vms.py ... --i_understand_launching_vms_is_expensive
  python scripts/launch_cloud_vms.py --project=P --zone=Z --bucket=B --status
  python scripts/launch_cloud_vms.py --project=P --zone=Z --bucket=B --resume_preempted
  python scripts/launch_cloud_vms.py --project=P --zone=Z --bucket=B --delete
"""

import json
import subprocess
import sys
import tempfile

from absl import flags

from episodic_curiosity import cli, envs, gcs
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import fleet, gce, methods

flags.DEFINE_string("project", None, "Google Cloud project.")
flags.DEFINE_string("zone", None, "Compute Engine zone, e.g. us-central1-a.")
flags.DEFINE_string("bucket", None, "Cloud Storage bucket (must exist) for the run directories.")
flags.DEFINE_string("prefix", "table1", "Fleet name: VM names ec-<prefix>-..., label ec-fleet, and "
                    "the bucket folder gs://BUCKET/<prefix>/<method>/<scenario>/run_number_<n>/.")
flags.DEFINE_list("methods", list(methods.METHODS), "Methods to launch.")
flags.DEFINE_list("scenarios", ["doom_dense"], "Scenarios to launch.")
flags.DEFINE_integer("num_runs", 10, "Runs per (method, scenario): run_number 0..num_runs-1.")
flags.DEFINE_string("machine_type", None, "Override the per-method machine type "
                    "(defaults: each method's shape in episodic_curiosity/launch/methods.py).")
flags.DEFINE_string("gpu_type", None, "Override the GPU type ('' for none).")
flags.DEFINE_integer("gpu_count", None, "Override the GPUs per VM (the run still trains one rank).")
flags.DEFINE_integer("gpus_per_vm", 1, "N > 1: N GPUs on every VM, whose run trains with N ranks "
                     "(launcher_script.py --num_ranks=N); the default machine's vCPUs and memory "
                     "are multiplied by N. Checked against the counts the GPU type allows.")
flags.DEFINE_boolean("spot", True, "Spot VMs (preemptible, stopped on preemption and resumed "
                     "with --resume_preempted); --nospot for on-demand.")
flags.DEFINE_string("image_family", "pytorch-latest-gpu", "Deep Learning VM image family, "
                    "resolved to its newest image at launch.")
flags.DEFINE_string("image_project", "deeplearning-platform-release", "Project of the family.")
flags.DEFINE_integer("disk_gb", 200, "Boot disk size.")
flags.DEFINE_string("service_account", "default", "Service account of the VMs (needs write "
                    "access to the bucket).")
flags.DEFINE_string("source", None, "gs:// url of a source archive to install on the VMs; "
                    "default: `git archive HEAD` of this checkout, uploaded to "
                    "gs://BUCKET/<prefix>/source/.")
flags.DEFINE_string("preset", None, "Preset(s) passed to launcher_script.py on every VM.")
flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings passed to every run.")
cli.define_accept_config_change()
flags.DEFINE_integer("sync_seconds", 300, "How often each VM syncs its run to the bucket.")
flags.DEFINE_boolean("i_understand_launching_vms_is_expensive", False,
                     "Without it the plan and its estimated cost are printed and nothing is "
                     "created.")
flags.DEFINE_boolean("dry_run", False, "Print the exact instances.insert request bodies as JSON.")
flags.DEFINE_boolean("status", False, "List the fleet's VMs with their last step in the bucket.")
flags.DEFINE_boolean("delete", False, "Delete the fleet's VMs (the bucket is kept).")
flags.DEFINE_boolean("resume_preempted", False, "Start the fleet's preempted (TERMINATED) VMs.")
flags.DEFINE_string("compute_endpoint", None, "http:// url of a Compute Engine API stand-in, "
                    "with anonymous credentials (tests); default: the real API.")
FLAGS = flags.FLAGS


def _storage_client():
    from google.cloud import storage
    return storage.Client(project=FLAGS.project)


def _require(*names):
    missing = [n for n in names if not getattr(FLAGS, n)]
    if missing:
        raise UsageError(f"pass {', '.join('--' + n for n in missing)}")


def _upload_source(bucket, sha: str):
    """`git archive HEAD` to gs://BUCKET/<prefix>/source/; returns (url, blob we created|None)."""
    name = f"{FLAGS.prefix}/source/episodic_curiosity-{sha}.tar.gz"
    blob = bucket.blob(name)
    if blob.exists():
        return f"gs://{bucket.name}/{name}", None
    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as f:
        subprocess.run(["git", "-C", str(fleet.STARTUP_SCRIPT.parents[2]), "archive",
                        "--format=tar.gz", "HEAD"], stdout=f, check=True)
        blob.upload_from_filename(f.name, if_generation_match=0)
    return f"gs://{bucket.name}/{name}", blob


def _git_head() -> str:
    repo = str(fleet.STARTUP_SCRIPT.parents[2])
    try:
        sha = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        raise UsageError("this checkout is not a git repository; pass --source=gs://... with a "
                         "source archive") from e
    if subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        print(f"warning: uncommitted changes are not shipped; the VMs get commit {sha[:12]}",
              file=sys.stderr)
    return sha


def main(argv):
    del argv
    for name in FLAGS.methods:
        methods.get(name)
    for name in FLAGS.scenarios:
        envs.get(name)
    vms = fleet.plan(FLAGS.prefix, FLAGS.methods, FLAGS.scenarios, FLAGS.num_runs,
                     FLAGS.machine_type, FLAGS.gpu_type, FLAGS.gpu_count, FLAGS.gpus_per_vm)
    if FLAGS.status or FLAGS.delete or FLAGS.resume_preempted:
        _require("project", "zone")
        compute = gce.Compute(FLAGS.project, FLAGS.zone, FLAGS.compute_endpoint)
        if FLAGS.delete:
            print(f"deleted {len(fleet.delete_all(compute, FLAGS.prefix))} VMs")
        elif FLAGS.resume_preempted:
            print(f"started {len(fleet.resume_preempted(compute, FLAGS.prefix))} preempted VMs")
        else:
            bucket = (gcs.get_bucket(_storage_client(), FLAGS.bucket)
                      if FLAGS.bucket else None)
            lines = fleet.status_lines(compute, bucket, FLAGS.prefix)
            print("\n".join(lines) if lines else f"no VMs labelled {gce.FLEET_LABEL}={FLAGS.prefix}")
        return
    if not (FLAGS.dry_run or FLAGS.i_understand_launching_vms_is_expensive):
        print(fleet.format_plan(vms, FLAGS.spot, FLAGS.disk_gb, FLAGS.zone or "<--zone>",
                                f"family {FLAGS.image_family} (resolved at launch)",
                                FLAGS.preset, FLAGS.gin_bindings))
        print("nothing was created: pass --dry_run to see the request bodies, "
              "--i_understand_launching_vms_is_expensive to launch")
        return
    _require("project", "zone", "bucket")
    # Everything that can be refused is checked before anything is created.
    bucket = gcs.get_bucket(_storage_client(), FLAGS.bucket)
    compute = gce.Compute(FLAGS.project, FLAGS.zone, FLAGS.compute_endpoint)
    for gpu in sorted({vm.shape.gpu_type for vm in vms if vm.shape.gpu_count}):
        compute.check_gpu_type(gpu)
    image = compute.resolve_image(FLAGS.image_project, FLAGS.image_family)
    uploaded = None
    if FLAGS.source:
        source = FLAGS.source
    else:
        sha = _git_head()
        source = f"gs://{FLAGS.bucket}/{FLAGS.prefix}/source/episodic_curiosity-{sha}.tar.gz"
    bodies = [gce.instance_body(
        vm.name, FLAGS.zone, vm.shape.machine_type, vm.shape.gpu_type, vm.shape.gpu_count,
        FLAGS.spot, image, fleet.metadata(vm, FLAGS.bucket, FLAGS.prefix, source, FLAGS.preset,
                                          FLAGS.gin_bindings, FLAGS.sync_seconds,
                                          FLAGS.accept_config_change),
        fleet.labels(vm, FLAGS.prefix), FLAGS.disk_gb, FLAGS.service_account) for vm in vms]
    if FLAGS.dry_run:
        print(json.dumps([gce.body_json(b) for b in bodies], indent=2))
        return
    if not FLAGS.source:
        source, uploaded = _upload_source(bucket, sha)
    try:
        fleet.launch(compute, bodies)
    except BaseException:
        if uploaded is not None:
            uploaded.delete()
        raise
    print(f"launched {len(bodies)} VMs; follow them with --status")


def guarded(argv):
    """Google API and credential errors become one line too."""
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions
    try:
        main(argv)
    except auth_exceptions.DefaultCredentialsError as e:
        raise UsageError("no Google Cloud credentials; run 'gcloud auth application-default "
                         "login'") from e
    except exceptions.GoogleAPICallError as e:
        raise UsageError(f"Google Cloud API error {e.code}: {' '.join(str(e.message).split())}")


if __name__ == "__main__":
    cli.run(guarded)
