"""One benchmark scenario in a process of its own, so CPU time and peak memory are its own.

``python -m bench.scenario {trailcheck|naive|load-only} SUITE AGENT_URL CONCURRENCY DATABASE_URL
[SHARD_SIZE PARALLEL]`` prints one JSON line: wall and CPU seconds of the flow call, CPU seconds
of the whole process, its peak RSS.
"""

import json
import resource
import sys
import time
import uuid


def main() -> None:
    design, suite, agent_url, concurrency, database_url = sys.argv[1:6]
    concurrency_n = int(concurrency)
    run_id = uuid.uuid4().hex[:12]
    # Import before the clock starts: import cost is a fixed start, not per-case overhead.
    from bench.naive import with_concurrency
    from trailcheck.flows.regression import regression

    started, cpu0 = time.perf_counter(), time.process_time()
    if design == "trailcheck":
        shard_size = int(sys.argv[6]) if len(sys.argv) > 6 else 250
        parallel = int(sys.argv[7]) if len(sys.argv) > 7 else 4
        result = regression(
            suite=suite,
            agent=agent_url,
            concurrency=concurrency_n,
            shard_size=shard_size,
            database_url=database_url,
            run_id=run_id,
            max_parallel_shards=parallel,
        )
        passed = sum(c.passes for c in result.cases)
    elif design == "load-only":  # the same imports and suite in memory, no replay: a memory baseline
        from trailcheck.loading.suite import load_suite

        passed = len(load_suite(suite).cases)
    else:
        passed = with_concurrency(concurrency_n)(suite, agent_url, run_id, database_url)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    measured = {
        "wall_s": wall,
        "cpu_s": cpu,
        "process_cpu_s": usage.ru_utime + usage.ru_stime,  # imports and start-up included
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "passed": passed,
    }
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
