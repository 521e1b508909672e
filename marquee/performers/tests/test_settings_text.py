"""Free text a performer sets (room topic, tip goal label, tip-menu labels)
longer than its column is refused with a clear error and nothing changes;
it used to be cut silently, so the performer never knew what was saved."""

from __future__ import annotations

import pytest

from marquee.performers import services
from marquee.performers.models import Performer, TipMenuItem
from marquee.performers.services import SettingsError


def _settings(performer, **text):
    return services.update_room_settings(
        performer=performer,
        default_show_kind="public",
        default_ticket_price_cents=700,
        subscription_price_cents=700,
        private_show_price_cents=700,
        tip_goal_tokens=100,
        timezone_name="UTC",
        **{"room_topic": "", "tip_goal_label": "", **text},
    )


@pytest.mark.parametrize(("field", "limit"), [("room_topic", 200), ("tip_goal_label", 120)])
def test_room_text_longer_than_its_column_is_refused_and_nothing_changes(performer, field, limit):
    _settings(performer, **{field: "  Board games  "})
    performer.refresh_from_db()
    assert getattr(performer, field) == "Board games"  # stripped, kept

    with pytest.raises(SettingsError) as refused:
        _settings(performer, **{field: "x" * (limit + 1)})
    assert refused.value.code == "too_long" and str(limit) in refused.value.message
    assert getattr(Performer.objects.get(pk=performer.pk), field) == "Board games"

    _settings(performer, **{field: "y" * limit})  # exactly the column fits
    assert getattr(Performer.objects.get(pk=performer.pk), field) == "y" * limit


def test_tip_menu_label_longer_than_its_column_is_refused_and_nothing_is_added(performer):
    with pytest.raises(SettingsError) as refused:
        services.add_tip_menu_item(performer=performer, label="w" * 81, tokens=5)
    assert refused.value.code == "too_long"
    assert not TipMenuItem.objects.filter(performer=performer).exists()

    item = services.add_tip_menu_item(performer=performer, label="w" * 80, tokens=5)
    with pytest.raises(SettingsError):
        services.update_tip_menu_item(performer=performer, item_id=item.pk, label="v" * 81, tokens=5)
    assert TipMenuItem.objects.get(pk=item.pk).label == "w" * 80


def test_a_long_suspension_reason_is_kept_to_its_column(performer, staff):
    assert services.suspend_performer(performer=performer, actor=staff, reason="r" * 400)
    performer.refresh_from_db()
    assert performer.is_suspended and performer.suspended_reason == "r" * 300
