#!/bin/bash
# Runs `npm test` N times (default 5) beside a CPU hog: one busy process per core, as issue 13 asks
# ("stable with both cores loaded"). Prints one line per run: status, seconds, pass/fail counts
# per isolation mode; each run's output is kept in .scratch/hog-N.log.
set -u
runs=${1:-5}
cores=$(node -p "require('node:os').availableParallelism()")
mkdir -p .scratch
failed=0
for i in $(seq 1 "$runs"); do
  hogs=()
  for _ in $(seq 1 "$cores"); do node -e 'for(;;){}' & hogs+=($!); done
  start=$(date +%s)
  npm test > ".scratch/hog-$i.log" 2>&1
  rc=$?
  kill "${hogs[@]}" 2>/dev/null
  [ "$rc" -eq 0 ] || failed=1
  echo "run $i rc=$rc $(( $(date +%s) - start ))s $(grep -E '(^|\] )ℹ (pass|fail)' ".scratch/hog-$i.log" | tr '\n' ' ')"
done
exit $failed
