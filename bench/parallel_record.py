"""Record one pass of bench/parallel.sh: RESULT json on stdin, appended to
results/parallel.jsonl with size and addon hash; prints a summary line."""

import datetime as dt
import json
import sys

size, addon, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
result = json.loads(sys.stdin.read())
result["size"] = size
result["addon_hash"] = addon
result["measured_at"] = dt.datetime.now().isoformat(timespec="seconds")
with open(path, "a", encoding="utf-8") as out:
    out.write(json.dumps(result) + "\n")
helpers = [helper["cpu_s"] for helper in result.get("helpers", [])]
print(
    f"  {result['workers']} worker(s): {result['wall']:.1f} s wall, coordinator CPU "
    f"{result['cpu_s']:.1f} s, helpers' CPU {helpers} s, {result['notices']} notices, "
    f"{result['dunned']} dunned, state {result['state']}, load before "
    f"{result['loadavg_before']}, after {result['loadavg_after']}; batches by worker "
    f"{result.get('batches_by_worker')}"
)
