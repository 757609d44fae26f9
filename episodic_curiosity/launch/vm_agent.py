"""What runs on a training VM, as an unprivileged user: restore the run from the bucket, run
scripts/launcher_script.py, sync the run directory every ec-sync-seconds and at exit.

The run spec comes from instance metadata (attributes ec-*, written by launch_cloud_vms.py). A
StaleWriter (another VM took the run over) stops the training and exits 3. A run in the bucket
trained with another configuration (the pointer's config_hash) is refused before anything is
claimed: one `error:` line, exit 2 (ec-accept-config-change TRUE takes it over instead).

  python -m episodic_curiosity.launch.vm_agent --workdir=/var/lib/episodic_curiosity
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from absl import flags, logging

from episodic_curiosity import cli
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch.bucket_sync import BucketSync, StaleWriter
from episodic_curiosity.workdir import run_path

flags.DEFINE_string("workdir", None, "Root of the local run directories.", required=True)
FLAGS = flags.FLAGS

LAUNCHER = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "launcher_script.py"


def attribute(key: str, default=None):
    """An instance attribute from the metadata server (GCE_METADATA_HOST overrides its address,
    as for google-auth)."""
    host = os.environ.get("GCE_METADATA_HOST", "metadata.google.internal")
    request = urllib.request.Request(
        f"http://{host}/computeMetadata/v1/instance/attributes/{key}",
        headers={"Metadata-Flavor": "Google"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404 and default is not None:
            return default
        raise UsageError(f"instance attribute {key} is missing ({e.code}); "
                         "launch the VM with scripts/launch_cloud_vms.py") from e


def accept_config_change() -> bool:
    return attribute("ec-accept-config-change", "FALSE") == "TRUE"


def launcher_command(workdir) -> list[str]:
    cmd = [sys.executable, str(LAUNCHER), f"--method={attribute('ec-method')}",
           f"--scenario={attribute('ec-scenario')}", f"--workdir={workdir}",
           f"--run_number={attribute('ec-run-number')}"]
    if preset := attribute("ec-preset", ""):
        cmd.append(f"--preset={preset}")
    cmd += [f"--gin_bindings={b}" for b in json.loads(attribute("ec-gin-bindings", "[]"))]
    if accept_config_change():
        cmd.append("--accept_config_change")
    if (ranks := int(attribute("ec-num-ranks", "1"))) > 1:  # one per GPU of the VM (torchrun)
        cmd.append(f"--num_ranks={ranks}")
    return cmd


def config_hash(workdir) -> str:
    """The hash of the configuration the launcher will train with, parsed as it parses it, so the
    bucket's pointer can say whether this VM may continue the run there."""
    import gin
    from episodic_curiosity import run_config
    from episodic_curiosity.launch import local
    local.configure(attribute("ec-method"), attribute("ec-scenario"), workdir,
                    int(attribute("ec-run-number")), attribute("ec-preset", "") or None,
                    json.loads(attribute("ec-gin-bindings", "[]")))
    return run_config.config_hash(gin.config_str())


def main(argv):
    del argv
    from google.cloud import storage
    run_dir = run_path(FLAGS.workdir, attribute("ec-method"), attribute("ec-scenario"),
                       int(attribute("ec-run-number")))
    bucket = storage.Client().bucket(attribute("ec-bucket"))
    sync = BucketSync(bucket, attribute("ec-prefix"), run_dir,
                      config_hash=config_hash(FLAGS.workdir))
    sync_seconds = float(attribute("ec-sync-seconds", "300"))
    if run_dir.exists():
        # The bucket is the truth: a restarted VM's disk may hold a checkpoint newer than the
        # published one, whose CSV rows the bucket lacks. Resume from what was published.
        shutil.rmtree(run_dir)
    step = sync.restore(accept_config_change())
    print(f"writer {sync.writer_id}: "
          + (f"restored {run_dir} at step {step}" if step is not None else f"fresh run {run_dir}"),
          flush=True)
    # cwd: VizDoom writes ./_vizdoom/ wherever it starts; a startup script starts in /.
    child = subprocess.Popen(launcher_command(FLAGS.workdir), cwd=FLAGS.workdir)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())  # a soft preemption notice
    try:
        while child.poll() is None:
            deadline = time.time() + sync_seconds
            while child.poll() is None and time.time() < deadline:
                time.sleep(0.2)
            print(f"sync: {sync.sync()}", flush=True)
    except StaleWriter as e:
        child.kill()
        child.wait()
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(3)
    print(f"training exited with status {child.returncode}", flush=True)
    sys.exit(child.returncode)


if __name__ == "__main__":
    logging.set_verbosity(logging.INFO)
    cli.run(main)
