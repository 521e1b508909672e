from django.db import models


class IntegrityCheck(models.Model):
    """The last result of each periodic integrity check (``ledger_check``,
    ``audit_verify``), kept in the database so every web process exports the
    same gauge whatever process ran the check."""

    name = models.CharField(max_length=32, unique=True)
    ok = models.BooleanField()
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} at {self.checked_at:%Y-%m-%d %H:%M:%S}"
