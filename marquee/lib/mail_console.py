"""The development mail backend (``make run`` with no ``EMAIL_HOST``): each
mail printed as Django's console backend does, then a short banner with the
codes and links it holds, so a sign-up code is easy to spot among the logs
of every process honcho interleaves."""

from __future__ import annotations

import re

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

# allauth's codes (e-mail verification, login, password reset) stand alone on
# their line: letters and digits, possibly grouped with dashes ("ABC-123").
_CODE_LINE = re.compile(r"^[A-Z0-9]{3,12}(?:-[A-Z0-9]{2,12})*$")
_LINK = re.compile(r"https?://\S+")


def highlights(body: str) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in body.splitlines()]
    codes = [line for line in lines if _CODE_LINE.match(line) and any(c.isdigit() for c in line)]
    links = list(dict.fromkeys(_LINK.findall(body)))
    return codes, links


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        super().write_message(message)
        body = message.body if isinstance(message.body, str) else ""
        codes, links = highlights(body)
        if not codes and not links:
            return
        bold, plain = ("\033[1;33m", "\033[0m") if self.stream.isatty() else ("", "")
        rule = "=" * 72
        lines = [f"{bold}{rule}", f"  MAIL to {', '.join(message.to)}: {message.subject}"]
        lines += [f"  CODE  {code}" for code in codes]
        lines += [f"  LINK  {link}" for link in links]
        lines.append(f"{rule}{plain}")
        self.stream.write("\n".join(lines) + "\n")
