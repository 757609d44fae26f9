#!/bin/bash
# Compute Engine startup script of a training VM (runs as root at every boot).
# Reads the run spec from instance metadata, installs the package unless attribute ec-python names
# an interpreter that already has it, and runs the VM agent (restore from the bucket, train,
# sync) as an unprivileged user. No credential passes through here: the storage client gets the
# VM service account's token from the metadata server itself.
set -euo pipefail

MD_HOST="${GCE_METADATA_HOST:-metadata.google.internal}"
md() {  # md KEY [DEFAULT]: an instance attribute, or DEFAULT when it is not set
  curl -sf -H "Metadata-Flavor: Google" \
    "http://${MD_HOST}/computeMetadata/v1/instance/attributes/$1" || printf '%s' "${2:-}"
}

RUN_USER="$(md ec-user ec)"
WORKDIR="$(md ec-workdir /var/lib/episodic_curiosity)"
PYTHON="$(md ec-python)"

if [ -z "$PYTHON" ]; then
  # Install from the source archive the launcher uploaded (gin/ and scripts/ live beside the
  # package, so the VM gets the whole source tree of one commit). Idempotent across reboots.
  SRC=/opt/episodic_curiosity/src
  VENV=/opt/episodic_curiosity/venv
  if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$SRC"
    gcloud storage cp "$(md ec-source)" /opt/episodic_curiosity/source.tar.gz
    tar -xzf /opt/episodic_curiosity/source.tar.gz -C "$SRC"
    python3 -m venv "$VENV.tmp"
    "$VENV.tmp/bin/pip" install -q -e "$SRC"
    mv "$VENV.tmp" "$VENV"
  fi
  PYTHON="$VENV/bin/python"
fi

AGENT=("$PYTHON" -m episodic_curiosity.launch.vm_agent "--workdir=$WORKDIR")
set +e
if [ "$(id -u)" = 0 ]; then
  # Training never runs as root: a system user owns the work directory and runs the agent.
  id -u "$RUN_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /usr/sbin/nologin \
    "$RUN_USER"
  mkdir -p "$WORKDIR"
  chown -R "$RUN_USER:" "$WORKDIR"
  # runuser without --login keeps the environment (GCE_METADATA_HOST, proxies) but sets HOME.
  runuser -u "$RUN_USER" -- "${AGENT[@]}"
else
  mkdir -p "$WORKDIR"
  "${AGENT[@]}"
fi
status=$?
set -e
echo "episodic_curiosity agent exited with status $status"
# Only on a real VM (no metadata-server override) and only when the launcher asked for it.
if [ "$status" = 0 ] && [ -z "${GCE_METADATA_HOST:-}" ] && [ "$(id -u)" = 0 ] \
    && [ "$(md ec-poweroff-when-done)" = TRUE ]; then
  poweroff
fi
exit "$status"
