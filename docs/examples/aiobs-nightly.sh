#!/usr/bin/env bash
# Nightly aiobs run over yesterday's production logs (see docs/ci.md, "A cron job"):
#   15 2 * * *  AIOBS_LOGS=/var/log/myapp AIOBS_STORE=/var/lib/aiobs /opt/aiobs/aiobs-nightly.sh
# Records the day in the history store, writes a Markdown summary, prints the trend and anomalies,
# keeps 90 days, and exits 1 when yesterday broke an SLO (cron mails the output).
set -euo pipefail

LOGS=${AIOBS_LOGS:-/var/log/myapp}
STORE=${AIOBS_STORE:-/var/lib/aiobs}/history
REPORTS=${AIOBS_REPORTS:-/var/lib/aiobs}/reports
DAY=${AIOBS_DAY:-$(date -u -d yesterday +%F)}
NEXT=${AIOBS_NEXT:-$(date -u +%F)}
mkdir -p "$REPORTS"

aiobs summarize "$LOGS" --since "$DAY" --until "$NEXT" --by model --by route --history "$STORE" --output "$REPORTS/summary-$DAY.md"
aiobs history "$STORE" --days 14 --keep-days 90
aiobs check "$LOGS" --since "$DAY" --until "$NEXT" --slo "error_rate < 2%" --slo "p95(latency_ms) < 20s" --junit "$REPORTS/slo-$DAY.xml"
