"""Windows of the per-address budgets of captchas and QR sign-in tickets."""

from datetime import UTC, datetime, timedelta

from services.identity.domain import AddressBudget


def test_window_start_floors_to_the_minute():
    budget = AddressBudget(requests=30, window=timedelta(minutes=1))

    assert budget.window_start(datetime(2026, 6, 30, 15, 59, 59, 999000, tzinfo=UTC)) == datetime(
        2026, 6, 30, 15, 59, tzinfo=UTC)
    assert budget.window_start(datetime(2026, 6, 30, 16, 0, tzinfo=UTC)) == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)


def test_window_start_of_longer_windows():
    budget = AddressBudget(requests=30, window=timedelta(minutes=10))

    assert budget.window_start(datetime(2026, 6, 30, 15, 47, 12, tzinfo=UTC)) == datetime(
        2026, 6, 30, 15, 40, tzinfo=UTC)
