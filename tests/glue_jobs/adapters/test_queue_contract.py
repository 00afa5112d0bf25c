"""One contract for the queue port, run on the local SQLite queue and on SQS (moto): the SQS
semantics the serving loader relies on (visibility timeout, receive count, receipt handles,
the dead-letter queue after maxReceiveCount receives, at least once)."""
from __future__ import annotations

import json
import time

import boto3
import pytest

from glue_jobs.adapters.aws.sqs_queue import SqsQueue
from glue_jobs.adapters.local.queue_sqlite import SqliteQueue, queue_path
from glue_jobs.ports.queue import MAX_RECEIVE_COUNT, QueueError
from tests.support.aws import REGION


@pytest.fixture(params=["sqlite", "sqs"])
def queues(request, tmp_path):
    """(queue, its dead-letter queue) with maxReceiveCount 5 and a 30 s visibility timeout."""
    if request.param == "sqlite":
        queue = SqliteQueue(queue_path(tmp_path, "serve"), "serve")
        yield queue, queue.dead_letter_queue()
        queue.close()
        return
    request.getfixturevalue("aws")
    client = boto3.client("sqs", region_name=REGION)
    dlq_url = client.create_queue(QueueName="serve-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = client.create_queue(QueueName="serve", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}),
    })["QueueUrl"]
    yield SqsQueue(url, client=client), SqsQueue(dlq_url, client=client)


def test_queue_contract_a_received_message_is_hidden_until_deleted(queues):
    queue, _ = queues
    message_id = queue.send("hello")
    (got,) = queue.receive(10)
    assert (got.message_id, got.body, got.receive_count) == (message_id, "hello", 1)
    assert queue.receive(10) == []  # hidden by the visibility timeout
    assert queue.depth().in_flight == 1
    queue.delete(got.receipt_handle)
    assert queue.depth().visible == 0 and queue.depth().in_flight == 0


def test_queue_contract_an_undeleted_message_comes_back_after_its_visibility_timeout(queues):
    queue, _ = queues
    queue.send("again")
    (first,) = queue.receive(1, visibility_timeout=1)
    assert queue.receive(1) == []
    time.sleep(1.2)
    (second,) = queue.receive(1)
    assert second.message_id == first.message_id and second.receive_count == 2
    assert second.receipt_handle != first.receipt_handle


def test_queue_contract_change_visibility_zero_makes_a_message_visible_now(queues):
    queue, _ = queues
    queue.send("retry me")
    (got,) = queue.receive(1)
    queue.change_visibility(got.receipt_handle, 0)
    (again,) = queue.receive(1)
    assert again.receive_count == 2


def test_queue_contract_after_max_receive_count_receives_the_message_moves_to_the_dead_letter_queue(queues):
    queue, dlq = queues
    queue.send("poison")
    for attempt in range(1, MAX_RECEIVE_COUNT + 1):
        (got,) = queue.receive(1)
        assert got.receive_count == attempt
        queue.note_failure(got.receipt_handle, "manifest missing")
        queue.change_visibility(got.receipt_handle, 0)
    assert queue.receive(1) == []  # the 6th receive moves it instead of delivering it
    (dead,) = dlq.receive(1)
    assert dead.body == "poison"


def test_queue_contract_delivers_every_message_sent_at_least_once(queues):
    queue, _ = queues
    sent = {queue.send(f"m{i}") for i in range(25)}
    seen = set()
    for _ in range(20):
        for message in queue.receive(10):
            seen.add(message.message_id)
            queue.delete(message.receipt_handle)
        if seen == sent:
            break
    assert seen == sent


def test_queue_contract_refuses_more_than_ten_messages_a_receive(queues):
    queue, _ = queues
    with pytest.raises(QueueError, match="1 to 10"):
        queue.receive(11)


# -- what only the local queue can show ----------------------------------------------------------


def test_sqlite_queue_dead_letter_keeps_the_reason(tmp_path):
    queue = SqliteQueue(queue_path(tmp_path, "serve"), "serve")
    queue.send("poison")
    for _ in range(MAX_RECEIVE_COUNT):
        (got,) = queue.receive(1)
        queue.note_failure(got.receipt_handle, "manifest manifests/published/x.json is missing")
        queue.change_visibility(got.receipt_handle, 0)
    assert queue.receive(1) == []
    (dead,) = queue.dead_letters()
    assert dead.body == "poison"
    assert "received 5 times" in dead.reason and "manifests/published/x.json is missing" in dead.reason


def test_sqlite_queue_a_stale_receipt_handle_does_not_delete_the_message_received_since(tmp_path):
    """SQS documents that a delete with an older handle succeeds and the message "might not be
    deleted"; moto deletes it. The local queue takes the strict reading; the loader relies on
    neither (its writes are idempotent), so this is not in the contract."""
    queue = SqliteQueue(queue_path(tmp_path, "serve"), "serve")
    queue.send("slow consumer")
    (first,) = queue.receive(1, visibility_timeout=1)
    time.sleep(1.2)
    (second,) = queue.receive(1, visibility_timeout=1)
    queue.delete(first.receipt_handle)  # the slow consumer finishes late: a no-op, as on SQS
    time.sleep(1.2)
    (third,) = queue.receive(1)
    assert third.message_id == first.message_id and third.receive_count == 3
    queue.delete(third.receipt_handle)
    assert queue.receive(1) == []


def test_sqlite_queue_change_visibility_with_a_stale_handle_is_refused(tmp_path):
    clock = [1000.0]
    queue = SqliteQueue(queue_path(tmp_path, "serve"), "serve", clock=lambda: clock[0])
    queue.send("m")
    (first,) = queue.receive(1, visibility_timeout=5)
    clock[0] += 6
    queue.receive(1, visibility_timeout=5)
    with pytest.raises(QueueError, match="latest"):
        queue.change_visibility(first.receipt_handle, 60)


def test_sqlite_queue_survives_a_killed_process(tmp_path):
    """A message sent, or received and not deleted, by a process that is SIGKILLed is still there."""
    import subprocess
    import sys

    path = queue_path(tmp_path, "serve")
    script = (
        "import os, signal, sys\n"
        "from glue_jobs.adapters.local.queue_sqlite import SqliteQueue\n"
        "q = SqliteQueue(sys.argv[1], 'serve')\n"
        "q.send('kept'); q.send('received then killed')\n"
        "q.receive(1, visibility_timeout=1)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, path], capture_output=True)
    assert done.returncode == -9
    queue = SqliteQueue(path, "serve")
    time.sleep(1.1)
    bodies = sorted(m.body for m in queue.receive(10))
    assert bodies == ["kept", "received then killed"]
