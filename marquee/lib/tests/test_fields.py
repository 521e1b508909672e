from marquee.audit.models import AuditEvent
from marquee.lib.fields import clip, max_length


def test_clip_cuts_to_the_columns_own_length():
    limit = AuditEvent._meta.get_field("user_agent").max_length
    assert max_length(AuditEvent, "user_agent") == limit
    assert clip("a" * (limit + 7), AuditEvent, "user_agent") == "a" * limit
    assert clip("short", AuditEvent, "user_agent") == "short"
