"""Compliance reads: jurisdiction rules (cached), verification state,
who may see ID documents."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from marquee.compliance.models import AgeVerification, Jurisdiction, PerformerRecord
from marquee.lib.geo import Location

_RULES_CACHE_KEY = "compliance:jurisdictions:v1"


@dataclass(frozen=True)
class Rule:
    country: str
    subdivision: str
    rule: str
    reason: str

    @property
    def region(self) -> str:
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country


def _active_rules() -> dict[tuple[str, str], Rule]:
    rules = cache.get(_RULES_CACHE_KEY)
    if rules is None:
        rules = {
            (j.country, j.subdivision): Rule(j.country, j.subdivision, j.rule, j.reason)
            for j in Jurisdiction.objects.filter(is_active=True)
        }
        cache.set(_RULES_CACHE_KEY, rules, settings.JURISDICTION_CACHE_SECONDS)
    return rules


def forget_jurisdiction_rules() -> None:
    cache.delete(_RULES_CACHE_KEY)


def jurisdiction_rule(location: Location) -> Rule | None:
    """The rule for ``location``: a subdivision's own rule wins over its
    country's; blocking wins over verification if both apply."""
    if not location.known:
        return None
    rules = _active_rules()
    candidates = [rules.get((location.country, location.subdivision or "")), rules.get((location.country, ""))]
    candidates = [rule for rule in candidates if rule is not None]
    for rule in candidates:
        if rule.rule == Jurisdiction.Rule.BLOCKED:
            return rule
    return candidates[0] if candidates else None


def is_blocked(location: Location) -> Rule | None:
    rule = jurisdiction_rule(location)
    return rule if rule is not None and rule.rule == Jurisdiction.Rule.BLOCKED else None


def requires_age_verification(location: Location) -> bool:
    if not location.known:
        return settings.GEO_UNKNOWN_POLICY == "verify"
    rule = jurisdiction_rule(location)
    return rule is not None and rule.rule == Jurisdiction.Rule.VERIFY


def verification_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.AGE_VERIFICATION_VALID_DAYS)


def current_age_verification(user) -> AgeVerification | None:
    """The approved verification still within its validity period, if any."""
    if user is None or not user.is_authenticated:
        return None
    return (
        AgeVerification.objects.filter(
            user=user, status=AgeVerification.Status.APPROVED, decided_at__gte=verification_cutoff()
        )
        .order_by("-decided_at")
        .first()
    )


def is_age_verified(user) -> bool:
    """A viewer with a current age verification, or a performer whose 2257
    record (a stronger check: ID + selfie) staff approved."""
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(user, "_marquee_age_verified", None)
    if cached is not None:
        return cached
    verified = current_age_verification(user) is not None or (
        PerformerRecord.objects.filter(performer__user=user, status=PerformerRecord.Status.APPROVED).exists()
    )
    user._marquee_age_verified = verified
    return verified


def pending_age_verification(user) -> AgeVerification | None:
    if user is None or not user.is_authenticated:
        return None
    return user.age_verifications.filter(status=AgeVerification.Status.PENDING).order_by("-created_at").first()


def may_view_id_documents(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("compliance.view_id_documents"))


def performer_record(performer) -> PerformerRecord | None:
    return PerformerRecord.objects.filter(performer=performer).prefetch_related("aliases", "documents").first()


def records_for_export(*, legal_name: str = ""):
    records = PerformerRecord.objects.select_related("performer__user").prefetch_related(
        "aliases", "documents", "performer__shows", "performer__appearances__show"
    )
    if legal_name:
        records = records.filter(legal_name__icontains=legal_name)
    return records.order_by("legal_name")
