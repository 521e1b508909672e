"""PayPal webhook self-verification, before anything in the body is read.

PayPal signs ``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the
raw body, unsigned decimal>`` with SHA256withRSA; the certificate is at
``PAYPAL-CERT-URL``.  We fetch it only over https from a host in
``PAYPAL_CERT_HOSTS`` (PayPal's own API hosts), check it is in its validity
window and issued for a ``*.paypal.com`` name (as PayPal's SDKs do), cache it,
and refuse transmissions older than ``WEBHOOK_TOLERANCE_SECONDS``."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.cache import cache

from marquee.billing.gateways.base import WebhookRejected
from marquee.billing.gateways.paypal import client

HEADERS = ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL")
ALGORITHM = "SHA256withRSA"
CERT_NAME_SUFFIX = ".paypal.com"
CERT_CACHE_SECONDS = 24 * 3600


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{binascii.crc32(body) & 0xFFFFFFFF}".encode()


def _parse_time(value: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookRejected("malformed PAYPAL-TRANSMISSION-TIME")
    if moment.tzinfo is None:
        raise WebhookRejected("PAYPAL-TRANSMISSION-TIME has no time zone")
    return moment


def _check_cert_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.username or parts.password or parts.port not in (None, 443):
        raise WebhookRejected("certificate URL must be plain https")
    if (parts.hostname or "").lower() not in {h.lower() for h in settings.PAYPAL_CERT_HOSTS}:
        raise WebhookRejected("certificate URL is not on PayPal's host")


def _load_certificate(url: str, now: datetime.datetime) -> x509.Certificate:
    key = "paypal:cert:" + hashlib.sha256(url.encode()).hexdigest()
    pem = cache.get(key)
    fetched = pem is None
    if fetched:
        try:
            with client.http() as http:
                response = http.get(url)
        except httpx.HTTPError:
            raise WebhookRejected("certificate could not be fetched")
        if response.status_code != 200:
            raise WebhookRejected("certificate could not be fetched")
        pem = response.content
    try:
        # The first certificate of the PEM bundle is the signing one.
        certificate = x509.load_pem_x509_certificates(pem)[0]
    except (ValueError, IndexError):
        raise WebhookRejected("certificate is not a PEM certificate")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        cache.delete(key)
        raise WebhookRejected("certificate is expired or not yet valid")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or not str(names[0].value).lower().endswith(CERT_NAME_SUFFIX):
        raise WebhookRejected("certificate is not issued to PayPal")
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise WebhookRejected("certificate key is not RSA")
    if fetched:
        # Cached for a day at most, never past the certificate's own expiry.
        remaining = int((certificate.not_valid_after_utc - now).total_seconds())
        cache.set(key, pem, max(min(CERT_CACHE_SECONDS, remaining), 1))
    return certificate


def verify(*, body: bytes, headers, now: datetime.datetime | None = None) -> None:
    """Raise ``WebhookRejected`` unless ``body`` was signed by PayPal for our webhook."""
    webhook_id = settings.PAYPAL_WEBHOOK_ID
    if not webhook_id:
        raise WebhookRejected("PayPal webhook id not configured")
    values = {name: (headers.get(name) or "").strip() for name in HEADERS}
    if not all(values.values()):
        raise WebhookRejected("PayPal signature headers missing")
    if (headers.get("PAYPAL-AUTH-ALGO") or "").strip() != ALGORITHM:
        raise WebhookRejected("unsupported PayPal signature algorithm")
    now = now or datetime.datetime.now(datetime.UTC)
    sent = _parse_time(values["PAYPAL-TRANSMISSION-TIME"])
    if abs((now - sent).total_seconds()) > settings.WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("transmission time outside the tolerance window")
    _check_cert_url(values["PAYPAL-CERT-URL"])
    try:
        signature = base64.b64decode(values["PAYPAL-TRANSMISSION-SIG"], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected("malformed PAYPAL-TRANSMISSION-SIG")
    certificate = _load_certificate(values["PAYPAL-CERT-URL"], now)
    message = signed_message(values["PAYPAL-TRANSMISSION-ID"], values["PAYPAL-TRANSMISSION-TIME"], webhook_id, body)
    try:
        certificate.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise WebhookRejected("signature mismatch")
