#!/usr/bin/env bash
# Table 1 scaled to one machine (docs/results.md): every (method, scenario, run) of the
# table1_small preset, JOBS (default 2) at a time, each its own launcher process, logs in
# WORKDIR/logs/. Rerunning resumes unfinished runs and skips finished ones.
#   scripts/table1_small.sh WORKDIR ["ppo ppo_plus_grid_oracle ppo_plus_ec"]
# With RNET_ROOT set, ppo_plus_ec uses the R-network in $RNET_ROOT/<scenario> for every run
# (one R-network per scenario, trained by `launcher_script.py --method=ppo_plus_ec` run 0 or by
# hand) instead of training its own.
set -euo pipefail
workdir=${1:?usage: table1_small.sh WORKDIR [METHODS]}
methods=${2:-"ppo ppo_plus_grid_oracle ppo_plus_ec"}
cd "$(dirname "$0")/.."
mkdir -p "$workdir/logs"
one_run() {
  local method=$1 scenario=$2 run=$3 flags=()
  if [[ $method == ppo_plus_ec && -n ${RNET_ROOT:-} ]]; then
    flags+=("--r_networks_path=$RNET_ROOT/$scenario")
  fi
  if python scripts/launcher_script.py --method="$method" --scenario="$scenario" \
      --run_number="$run" --workdir="$workdir" --preset=table1_small \
      --gin_bindings="train_policy.torch_threads = 1" "${flags[@]}" \
      > "$workdir/logs/$method.$scenario.$run.log" 2>&1; then
    echo "done $method $scenario $run"
  else
    echo "FAILED $method $scenario $run (see $workdir/logs/$method.$scenario.$run.log)"
  fi
}
export -f one_run
export workdir
for method in $methods; do
  for scenario in noreward_small sparse_small; do
    for run in 0 1 2; do echo "$method $scenario $run"; done
  done
done | xargs -P "${JOBS:-2}" -L 1 bash -c 'one_run "$@"' _
