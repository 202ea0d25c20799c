#!/usr/bin/env bash
# One slice of a scalesim sweep per Slurm array task.
#
#   sbatch docs/jobs/slurm-sweep.sh                     # 4 slices (--array=0-3)
#   sbatch --array=0-15 docs/jobs/slurm-sweep.sh        # 16 slices
#   SCENARIO=scenarios/mine.toml SCALESIM_ARGS="--set duration=10m" \
#     sbatch docs/jobs/slurm-sweep.sh                   # sbatch passes the environment on
#
# Task I of N runs `scalesim sweep --shard I/N` into $RESULTS/shard-I.
# N is SLURM_ARRAY_TASK_COUNT, so the array must be 0-(N-1) with no gaps;
# to re-run some tasks of a sweep of N slices, give N as SHARDS:
#
#   SHARDS=4 sbatch --array=2 docs/jobs/slurm-sweep.sh
#
# Then join the slices with docs/jobs/slurm-merge.sh:
#
#   jobid=$(sbatch --parsable docs/jobs/slurm-sweep.sh)
#   sbatch --dependency=afterok:$jobid docs/jobs/slurm-merge.sh
#
# Environment (the same for every task, and for the merge):
#   SCALESIM       the binary (default: scalesim on PATH)
#   SCENARIO       the scenario with a [sweep] table
#                  (default: scenarios/quickstart-sweep.toml)
#   RESULTS        where the slices go (default: results/<scenario file name>)
#   SCALESIM_ARGS  extra arguments for `sweep`, split on whitespace
#                  (e.g. "--set duration=10m -r 10"); every task must get
#                  the same ones, or the merge refuses the slices
#   SHARDS         the number of slices (default: SLURM_ARRAY_TASK_COUNT)
#
# Relative paths are relative to the directory sbatch was run from.
#
#SBATCH --job-name=scalesim-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%x-%A_%a.out

set -euo pipefail

SCALESIM=${SCALESIM:-scalesim}
SCENARIO=${SCENARIO:-scenarios/quickstart-sweep.toml}
RESULTS=${RESULTS:-results/$(basename "$SCENARIO" .toml)}
read -r -d "" -a extra <<<"${SCALESIM_ARGS:-}" || true # split on spaces and newlines

index=${SLURM_ARRAY_TASK_ID:?not an array task: submit with sbatch --array=0-<N-1>, or set SLURM_ARRAY_TASK_ID}
count=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:?not an array task: submit with sbatch --array=0-<N-1>, or set SLURM_ARRAY_TASK_COUNT}}
threads=()
if [[ -n ${SLURM_CPUS_PER_TASK:-} ]]; then
    threads=(--threads "$SLURM_CPUS_PER_TASK")
fi

mkdir -p "$RESULTS"
exec "$SCALESIM" sweep "$SCENARIO" \
    --shard "$index/$count" \
    --out "$RESULTS/shard-$index" \
    ${threads[@]+"${threads[@]}"} \
    ${extra[@]+"${extra[@]}"}
