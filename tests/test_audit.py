import datetime as dt
import io
import json

from hydra._audit import AuditLog, mask_accounts


def test_account_ids_are_masked_but_their_last_two_digits() -> None:
    """Live, paper and advisor account ids keep only a prefix and their last two digits."""
    text = "U1234567 DU7654321 F9876543 DF1122334 U12"
    assert mask_accounts(text) == "U*****67 DU*****21 F*****43 DF*****34 U12"


def test_each_line_is_json_with_event_and_correlation_id() -> None:
    """Every audit line is one JSON object naming the event, its journal sequence number, its
    time in UTC and the intent it belongs to."""
    buffer = io.StringIO()
    audit = AuditLog(buffer)
    at = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    audit.write("fill", seq=7, recorded_at=at, correlation_id="int-1", account="DU1234567",
                price="350.25")
    (line,) = buffer.getvalue().splitlines()
    record = json.loads(line)
    assert record == {"event": "fill", "correlation_id": "int-1", "account": "DU*****67",
                      "price": "350.25", "seq": 7, "recorded_at": "2026-11-25T14:30:00+00:00"}
