"""The pure parts of delivery: URLs, backoff, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from grading.delivery import BASE_DELAY, MAX_DELAY, backoff, results_url, retry_after, scores_url


def test_scores_url_keeps_the_query_string():
    assert (
        scores_url("https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3")
        == "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"
    )
    assert scores_url("https://canvas.example/api/lti/courses/1/line_items/5") == (
        "https://canvas.example/api/lti/courses/1/line_items/5/scores"
    )
    assert results_url("https://x/li/1/?a=b") == "https://x/li/1/results?a=b"


def test_backoff_doubles_with_jitter_and_a_cap():
    rng = random.Random(7)
    for tries in range(1, 8):
        delay = backoff(tries, rng)
        base = min(BASE_DELAY * 2 ** (tries - 1), MAX_DELAY)
        assert 0.75 * base <= delay <= 1.25 * base
    assert backoff(40, rng) <= 1.25 * MAX_DELAY


def test_retry_after_seconds_or_date():
    assert retry_after("120") == 120.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 <= retry_after(format_datetime(later, usegmt=True)) <= 91
