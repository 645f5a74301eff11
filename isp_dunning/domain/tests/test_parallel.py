"""Tests for domain.parallel: batches shared by several workers."""

import pytest
from domain import parallel
from domain.parallel import BatchCounts


def test_serial_unless_more_than_one_worker_and_commits_per_batch():
    assert parallel.use_parallel(2, autocommit=True, dry_run=False)
    assert not parallel.use_parallel(1, autocommit=True, dry_run=False)
    assert not parallel.use_parallel(2, autocommit=False, dry_run=False)
    assert not parallel.use_parallel(2, autocommit=True, dry_run=True)


def test_split_keeps_order_and_every_customer_once():
    ids = list(range(1, 12))
    batches = parallel.split(ids, 5)
    assert batches == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11]]
    assert [pid for batch in batches for pid in batch] == ids


def test_split_drops_a_customer_listed_twice():
    assert parallel.split([3, 1, 3, 2, 1], 2) == [[3, 1], [2]]


def test_split_of_nothing_is_no_batch():
    assert parallel.split([], 10) == []


def test_split_refuses_a_size_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        parallel.split([1], 0)


@pytest.mark.parametrize(
    ("workers", "batches", "helpers"),
    [(1, 10, 0), (2, 10, 1), (3, 10, 2), (2, 1, 0), (4, 2, 1), (9, 100, 3), (2, 0, 0)],
)
def test_helpers_to_trigger(workers, batches, helpers):
    assert parallel.helpers_to_trigger(workers, batches) == helpers


@pytest.mark.parametrize(
    ("customers", "size", "workers", "expected"),
    [
        (3092, 500, 1, 500),  # serial: the company's size
        (3092, 500, 2, 387),  # 8 batches for 2 workers
        (100000, 500, 2, 500),  # enough batches anyway
        (120, 500, 2, 50),  # not below the minimum
        (120, 20, 2, 20),  # never above the company's size
    ],
)
def test_shared_batch_size(customers, size, workers, expected):
    assert parallel.shared_batch_size(customers, size, workers) == expected


def test_pending_batch_is_claimable():
    assert parallel.claimable(parallel.PENDING, worker_alive=False)
    assert parallel.claimable(parallel.PENDING, worker_alive=True)


def test_running_batch_is_claimable_only_when_its_worker_is_gone():
    assert not parallel.claimable(parallel.RUNNING, worker_alive=True)
    assert parallel.claimable(parallel.RUNNING, worker_alive=False)


def test_done_and_failed_batches_are_never_claimed():
    for state in (parallel.DONE, parallel.FAILED):
        assert not parallel.claimable(state, worker_alive=False)


def test_a_failing_batch_is_tried_again_then_given_up():
    assert parallel.after_failure(1) == parallel.PENDING
    assert parallel.after_failure(parallel.MAX_ATTEMPTS - 1) == parallel.PENDING
    assert parallel.after_failure(parallel.MAX_ATTEMPTS) == parallel.FAILED


def test_finished_when_no_batch_is_open():
    assert parallel.finished([])
    assert parallel.finished([parallel.DONE, parallel.FAILED])
    assert not parallel.finished([parallel.DONE, parallel.PENDING])
    assert not parallel.finished([parallel.RUNNING, parallel.DONE])


def test_total_sums_the_batches():
    counts = [BatchCounts(10, 3, 4, 1), BatchCounts(5, 2, 2, 0), BatchCounts()]
    assert parallel.total(counts) == BatchCounts(15, 5, 6, 1)
    assert parallel.total([]) == BatchCounts(0, 0, 0, 0)
