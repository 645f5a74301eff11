"""One company's run spread over several workers: the rules.

A run that uses more than one worker stores its customers as batches; each
worker claims one open batch at a time, processes it (read, decide, book,
commit, deliver) and marks it done. These rules say how customers are split,
which batch a worker may take, when a batch counts as abandoned (its worker
died), when the run is finished and how the batches' counts add up to the
run's. Plain data in, plain data out.
"""

from collections.abc import Iterable, Sequence
from typing import NamedTuple

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATES = (PENDING, RUNNING, DONE, FAILED)
OPEN_STATES = (PENDING, RUNNING)

# A batch whose processing raised this many times is given up: its
# customers are left to the next run, with a line in the run's log.
MAX_ATTEMPTS = 3

# Workers of one company: the coordinating run and up to this many more,
# one scheduled action ("Dunning: batch worker N") each.
MAX_WORKERS = 4

COUNTS = ("customers", "notices", "invoices", "errors")

# Shared batches: at least this many per worker, so that the workers end
# close together (the last batch is not a large one that one worker does
# alone), but none below SHARED_BATCH_MIN customers (each batch costs a few
# queries of its own).
BATCHES_PER_WORKER = 4
SHARED_BATCH_MIN = 50


def use_parallel(workers: int, autocommit: bool, dry_run: bool) -> bool:
    """Batches for several workers only when the company asks for more than
    one worker and the run commits per batch (the cron): a preview and "Run
    now" (one transaction) stay serial, as does a setting of 1."""
    return workers > 1 and autocommit and not dry_run


def split(partner_ids: Sequence[int], size: int) -> list[list[int]]:
    """The customers in batches of ``size``, in their order; nothing lost,
    nothing twice (a customer listed twice is kept once, where it first
    came)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    seen = set()
    unique = []
    for partner_id in partner_ids:
        if partner_id not in seen:
            seen.add(partner_id)
            unique.append(partner_id)
    return [unique[start : start + size] for start in range(0, len(unique), size)]


def shared_batch_size(customers: int, size: int, workers: int) -> int:
    """The batch size of a run shared by ``workers``: the company's size, or
    smaller so that each worker gets about BATCHES_PER_WORKER batches."""
    if workers <= 1:
        return size
    balanced = -(-customers // (workers * BATCHES_PER_WORKER))  # ceiling
    return max(1, min(size, max(SHARED_BATCH_MIN, balanced)))


def helpers_to_trigger(workers: int, batches: int) -> int:
    """How many batch workers the coordinating run wakes besides itself: one
    fewer than the setting asks for, never more than there are batches to
    share, never more than exist."""
    if batches <= 1 or workers <= 1:
        return 0
    return max(0, min(workers, MAX_WORKERS, batches) - 1)


def claimable(state: str, worker_alive: bool) -> bool:
    """A worker may take a pending batch; a running batch only when the worker
    that took it is gone (its session, and so its lock on the batch, ended):
    the batch was abandoned half way and is taken again. What the dead worker
    committed is booked already and a second pass of the same day books
    nothing twice."""
    if state == PENDING:
        return True
    return state == RUNNING and not worker_alive


def after_failure(attempts: int) -> str:
    """The state of a batch whose processing raised (rolled back): pending for
    another attempt, failed after ``MAX_ATTEMPTS``."""
    return FAILED if attempts >= MAX_ATTEMPTS else PENDING


def finished(states: Iterable[str]) -> bool:
    """A run is finished once none of its batches is open (pending or
    running); a run without batches is finished at once."""
    return not any(state in OPEN_STATES for state in states)


class BatchCounts(NamedTuple):
    customers: int = 0
    notices: int = 0
    invoices: int = 0
    errors: int = 0


def total(counts: Iterable[BatchCounts]) -> BatchCounts:
    """The run's counts: the sum of its batches'."""
    sums = dict.fromkeys(COUNTS, 0)
    for count in counts:
        for name in COUNTS:
            sums[name] += getattr(count, name)
    return BatchCounts(**sums)
