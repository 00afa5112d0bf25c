"""The Grafana panels that read CloudWatch instead of Athena: the intraday consumer's lag.

Athena cannot see the consumer's position on the stream; on AWS the lag is a CloudWatch
metric of the transport the stack chose (StreamTransport):

- Kinesis: `GetRecords.IteratorAgeMilliseconds` of the quote stream (how old the last record
  a GetRecords returned was: 0 when the consumer keeps up);
- SQS FIFO: `ApproximateAgeOfOldestMessage` of the quote queue (seconds).

Both series are on one panel; the transport not deployed draws nothing. The stream and the
queue are named after the stack (infra/template.yaml: `<stack>-quotes`, `<stack>-quotes.fifo`),
so the dashboard has a `stack` variable (default `tickerlake`). The data source is Grafana's
built-in CloudWatch one, provisioned beside Athena's
(infra/grafana/provisioning/datasources/cloudwatch.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DATASOURCE = {"type": "cloudwatch", "uid": "tickerlake-cloudwatch"}
SECTION = "Intraday"
STACK_VARIABLE = "stack"
DEFAULT_STACK = "tickerlake"
PERIOD_SECONDS = 60


@dataclass(frozen=True)
class LagMetric:
    ref: str
    label: str
    namespace: str
    metric: str
    dimension: str
    resource: str  # the resource's name, `${stack}` standing for the stack's
    unit: str  # Grafana's unit of the metric's values


LAG_METRICS = (
    LagMetric("A", "Kinesis: age of the newest record read (GetRecords.IteratorAgeMilliseconds)", "AWS/Kinesis",
              "GetRecords.IteratorAgeMilliseconds", "StreamName", "${stack}-quotes", "ms"),
    LagMetric("B", "SQS FIFO: age of the oldest message (ApproximateAgeOfOldestMessage)", "AWS/SQS",
              "ApproximateAgeOfOldestMessage", "QueueName", "${stack}-quotes.fifo", "s"),
)


def stack_variable() -> dict[str, Any]:
    return {"name": STACK_VARIABLE, "label": "Stack", "type": "textbox", "query": DEFAULT_STACK,
            "current": {"text": DEFAULT_STACK, "value": DEFAULT_STACK},
            "options": [{"selected": True, "text": DEFAULT_STACK, "value": DEFAULT_STACK}], "hide": 0}


def _target(m: LagMetric) -> dict[str, Any]:
    return {
        "refId": m.ref, "datasource": dict(DATASOURCE), "queryMode": "Metrics", "region": "default",
        "namespace": m.namespace, "metricName": m.metric, "dimensions": {m.dimension: [m.resource]},
        "matchExact": True, "statistic": "Maximum", "period": str(PERIOD_SECONDS), "label": m.label,
        "metricQueryType": 0, "metricEditorMode": 0, "id": "", "expression": "",
    }


def consumer_lag_panel(number: int, pos: dict[str, int]) -> dict[str, Any]:
    """The consumer-lag time series, each in its metric's own unit (Kinesis ms, SQS s)."""
    overrides = [{"matcher": {"id": "byFrameRefID", "options": m.ref},
                  "properties": [{"id": "unit", "value": m.unit}]} for m in LAG_METRICS]
    return {
        "id": number, "type": "timeseries", "title": "Stream consumer lag",
        "description": "How far the intraday consumer is behind the quote stream, from CloudWatch: "
                       + "; ".join(f"{m.namespace} {m.metric} of {m.resource}" for m in LAG_METRICS)
                       + ". The transport the stack does not use draws nothing. Over a minute the "
                         "ConsumerIteratorAgeAlarm fires (Kinesis). Defined in "
                         "workflows/dashboards/grafana_cloudwatch.py (not SQL: Athena cannot see it).",
        "datasource": dict(DATASOURCE), "gridPos": pos,
        "targets": [_target(m) for m in LAG_METRICS],
        "fieldConfig": {"defaults": {"unit": "ms", "min": 0, "custom": {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": False}},
            "overrides": overrides},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
    }


PANELS = {SECTION: [(24, 8, consumer_lag_panel)]}  # section -> (width, height, builder)
