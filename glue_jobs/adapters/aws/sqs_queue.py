"""The queue port on SQS (a standard queue; its redrive policy moves a message to the dead-letter
queue after maxReceiveCount receives: the stack sets it, this adapter only reads it)."""
from __future__ import annotations

import json
from typing import Any

from glue_jobs.ports.queue import MAX_BATCH, Depth, Message, QueueError


class SqsQueue:
    """`queue_url` on the boto3 SQS `client` (one is made when not given)."""

    def __init__(self, queue_url: str, *, client: Any = None):
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self.client = client
        self.url = queue_url
        self.name = queue_url.rstrip("/").rsplit("/", 1)[-1]

    def send(self, body: str) -> str:
        return self.client.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]

    def receive(self, max_messages: int = 1, visibility_timeout: int | None = None) -> list[Message]:
        if not 1 <= max_messages <= MAX_BATCH:
            raise QueueError(f"max_messages {max_messages}: SQS takes 1 to {MAX_BATCH}")
        kwargs: dict[str, Any] = {"QueueUrl": self.url, "MaxNumberOfMessages": max_messages,
                                  "AttributeNames": ["ApproximateReceiveCount"], "WaitTimeSeconds": 0}
        if visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = visibility_timeout
        answer = self.client.receive_message(**kwargs)
        return [Message(m["MessageId"], m["Body"], m["ReceiptHandle"],
                        int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
                for m in answer.get("Messages", [])]

    def delete(self, receipt_handle: str) -> None:
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        try:
            self.client.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt_handle,
                                                  VisibilityTimeout=timeout)
        except self.client.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise QueueError(f"{self.name}: change_visibility refused ({code})") from exc

    def note_failure(self, receipt_handle: str, reason: str) -> None:
        # SQS keeps no text with a message: the reason is in the consumer's log (CloudWatch)
        return None

    def depth(self) -> Depth:
        attrs = self.client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return Depth(int(attrs.get("ApproximateNumberOfMessages", 0)),
                     int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))

    def max_receive_count(self) -> int | None:
        """The redrive policy's maxReceiveCount, or None when the queue has no dead-letter queue."""
        attrs = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = attrs.get("RedrivePolicy")
        return int(json.loads(policy)["maxReceiveCount"]) if policy else None
