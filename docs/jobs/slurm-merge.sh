#!/usr/bin/env bash
# Joins the slices written by docs/jobs/slurm-sweep.sh into the whole
# sweep's files ($RESULTS/all): runs.csv, points.csv, sweep.json, charts.
#
#   jobid=$(sbatch --parsable docs/jobs/slurm-sweep.sh)
#   sbatch --dependency=afterok:$jobid docs/jobs/slurm-merge.sh
#
# afterok on an array job waits for every task to succeed. Export the same
# SCALESIM, SCENARIO and RESULTS as for the sweep (see slurm-sweep.sh).
# SCALESIM_ARGS is not used here (its flags are `sweep` flags).
# MERGE_ARGS: extra arguments for `merge`, split on whitespace (optional;
# e.g. MERGE_ARGS="--plot latency_s.p99" charts other metrics than the
# scenario's [sweep] plot list, which the slices carry in sweep.json).
#
# Every $RESULTS/shard-* folder is passed to merge, which refuses a
# missing, repeated or foreign slice: use a fresh RESULTS for each sweep.
#
#SBATCH --job-name=scalesim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:15:00
#SBATCH --output=slurm-%x-%j.out

set -euo pipefail

SCALESIM=${SCALESIM:-scalesim}
SCENARIO=${SCENARIO:-scenarios/quickstart-sweep.toml}
RESULTS=${RESULTS:-results/$(basename "$SCENARIO" .toml)}
read -r -d "" -a extra <<<"${MERGE_ARGS:-}" || true # split on spaces and newlines

shopt -s nullglob
slices=("$RESULTS"/shard-*/)
if ((${#slices[@]} == 0)); then
    echo "slurm-merge.sh: no slice folders $RESULTS/shard-*" >&2
    exit 2
fi

exec "$SCALESIM" merge "${slices[@]}" --out "$RESULTS/all" ${extra[@]+"${extra[@]}"}
