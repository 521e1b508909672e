"""Issue 15 item 12: with the console mail backend (``make run``), the codes
and links of a mail stand out in a banner after it."""

from __future__ import annotations

import io

from django.core.mail import EmailMessage

from marquee.lib.mail_console import EmailBackend


def _send(body: str) -> str:
    stream = io.StringIO()
    backend = EmailBackend(stream=stream)
    backend.send_messages([EmailMessage("[Marquee] Confirm", body, "no-reply@marquee.test", ["new@example.com"])])
    return stream.getvalue()


def test_code_and_link_are_in_a_banner_after_the_mail():
    body = "Your email verification code is listed below.\n\nK7P2QX\n\nOr open http://127.0.0.1:8000/accounts/x/\n"
    out = _send(body)
    mail_end = out.index("Or open http://127.0.0.1:8000/accounts/x/")
    banner = out[mail_end:]
    assert "MAIL to new@example.com: [Marquee] Confirm" in banner
    assert "  CODE  K7P2QX" in banner and "  LINK  http://127.0.0.1:8000/accounts/x/" in banner
    assert "\033[" not in out  # not a terminal: no colours


def test_dashed_code_found_and_plain_words_are_not_codes():
    out = _send("Hello\n\nABC-123\n\nTHANKS\n")
    assert "  CODE  ABC-123" in out and "CODE  THANKS" not in out


def test_mail_without_code_or_link_has_no_banner():
    out = _send("Your show starts soon.")
    assert "CODE" not in out and "====" not in out
