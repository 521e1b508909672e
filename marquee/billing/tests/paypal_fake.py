"""A local fake of the PayPal REST endpoints the gateway uses, as an httpx
transport (no network), plus a test certificate and PayPal-style signing.

Shapes follow PayPal's API reference (Orders v2, Payments v2, Subscriptions
v1, Catalog Products v1) and its documented webhook samples."""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import uuid
import zlib

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

API_HOST = "api.paypal.test"
API_URL = f"https://{API_HOST}"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
CLIENT_ID, CLIENT_SECRET = "client-id-test", "client-secret-test"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-test"
EXPIRED_CERT_PATH = "/v1/notifications/certs/CERT-expired"
CERT_URL = f"{API_URL}{CERT_PATH}"
EXPIRED_CERT_URL = f"{API_URL}{EXPIRED_CERT_PATH}"


def _now():
    return datetime.datetime.now(datetime.UTC)


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_certificate(key, *, name="messageverificationcerts.paypal.com", not_before=None, not_after=None) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or _now() - datetime.timedelta(days=1))
        .not_valid_after(not_after or _now() + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


# One RSA key for the session: generating keys is slow.
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_headers(
    body: bytes,
    *,
    key=KEY,
    cert_url: str = CERT_URL,
    webhook_id: str = WEBHOOK_ID,
    sent: datetime.datetime | None = None,
    algo: str = "SHA256withRSA",
) -> dict:
    """PayPal's scheme, written here independently of the app:
    SHA256withRSA over "<transmission id>|<time>|<webhook id>|<crc32 decimal>"."""
    transmission_id = str(uuid.uuid1())
    transmission_time = iso(sent or _now())
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": algo,
        "PAYPAL-AUTH-VERSION": "v2",
    }


def event(event_type: str, resource_type: str, resource: dict, *, event_id: str | None = None) -> bytes:
    """A webhook notification envelope as PayPal sends it."""
    event_id = event_id or f"WH-{uuid.uuid4().hex[:17].upper()}-{uuid.uuid4().hex[:17].upper()}"
    return json.dumps(
        {
            "id": event_id,
            "event_version": "1.0",
            "create_time": iso(_now()),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type} event",
            "resource": resource,
            "links": [
                {"href": f"{API_URL}/v1/notifications/webhooks-events/{event_id}", "rel": "self", "method": "GET"},
                {
                    "href": f"{API_URL}/v1/notifications/webhooks-events/{event_id}/resend",
                    "rel": "resend",
                    "method": "POST",
                },
            ],
        }
    ).encode()


class FakePayPal:
    def __init__(self):
        self.ids = (f"{n:017d}" for n in itertools.count(10**15))
        self.orders: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.sales: dict[str, list[dict]] = {}
        self.plans: dict[str, dict] = {}
        self.refunds: list[tuple[str, str, dict]] = []
        self.canceled: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.cert_fetches = 0
        self.idempotent: dict[str, httpx.Response] = {}
        self.certs = {
            CERT_PATH: make_certificate(KEY),
            EXPIRED_CERT_PATH: make_certificate(
                KEY, not_before=_now() - datetime.timedelta(days=400), not_after=_now() - datetime.timedelta(days=1)
            ),
        }

    def new_id(self, prefix=""):
        return prefix + next(self.ids)

    # --- what the buyer does on PayPal's pages -------------------------------------
    def approve_order(self, order_id: str) -> None:
        self.orders[order_id]["status"] = "APPROVED"

    def approve_subscription(self, subscription_id: str) -> str:
        """The buyer approves; PayPal activates and takes the first payment (a sale)."""
        subscription = self.subscriptions[subscription_id]
        subscription["status"] = "ACTIVE"
        return self.charge_subscription(subscription_id)

    def charge_subscription(self, subscription_id: str, when: datetime.datetime | None = None) -> str:
        sale_id = self.new_id("S")
        plan = self.plans[self.subscriptions[subscription_id]["plan_id"]]
        price = plan["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
        self.sales.setdefault(subscription_id, []).append(
            {
                "status": "COMPLETED",
                "id": sale_id,
                "amount_with_breakdown": {"gross_amount": price, "net_amount": price},
                "time": iso(when or _now()),
            }
        )
        return sale_id

    def capture_of(self, order_id: str) -> dict:
        return self.orders[order_id]["purchase_units"][0]["payments"]["captures"][0]

    # --- the REST endpoints ----------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.requests.append((method, path))
        if path in self.certs and method == "GET":
            self.cert_fetches += 1
            return httpx.Response(200, content=self.certs[path])
        if path == "/v1/oauth2/token":
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return httpx.Response(401, json={"error": "invalid_client"})
            return httpx.Response(200, json={"access_token": "A21AAtest", "token_type": "Bearer", "expires_in": 32400})
        if request.headers.get("Authorization") != "Bearer A21AAtest":
            return httpx.Response(401, json={"name": "AUTHENTICATION_FAILURE"})
        request_id = request.headers.get("PayPal-Request-Id")
        if request_id and request_id in self.idempotent:
            return self.idempotent[request_id]
        response = self._route(method, path, json.loads(request.content or b"{}"))
        if request_id and response.status_code < 400:
            self.idempotent[request_id] = response
        return response

    def _route(self, method: str, path: str, body: dict) -> httpx.Response:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v2/checkout/orders":
            order_id = self.new_id("O")
            order = {
                "id": order_id,
                "intent": body["intent"],
                "status": "PAYER_ACTION_REQUIRED",
                "purchase_units": body["purchase_units"],
                "links": [
                    {"href": f"{API_URL}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                    {"href": f"https://www.paypal.test/checkoutnow?token={order_id}", "rel": "payer-action"},
                ],
            }
            self.orders[order_id] = order
            return httpx.Response(200, json=order)
        if parts[:3] == ["v2", "checkout", "orders"] and len(parts) >= 4:
            order = self.orders.get(parts[3])
            if order is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if method == "GET" and len(parts) == 4:
                return httpx.Response(200, json=order)
            if method == "POST" and parts[4:] == ["capture"]:
                if order["status"] == "COMPLETED":
                    return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
                if order["status"] != "APPROVED":
                    return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
                unit = order["purchase_units"][0]
                capture_id = self.new_id("C")
                unit["payments"] = {
                    "captures": [
                        {
                            "id": capture_id,
                            "status": "COMPLETED",
                            "amount": unit["amount"],
                            "final_capture": True,
                            "custom_id": unit.get("custom_id"),
                            "invoice_id": unit.get("invoice_id"),
                            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
                            "links": [
                                {"href": f"{API_URL}/v2/payments/captures/{capture_id}", "rel": "self"},
                                {"href": f"{API_URL}/v2/payments/captures/{capture_id}/refund", "rel": "refund"},
                                {"href": f"{API_URL}/v2/checkout/orders/{order['id']}", "rel": "up"},
                            ],
                            "create_time": iso(_now()),
                        }
                    ]
                }
                order["status"] = "COMPLETED"
                return httpx.Response(201, json=order)
        if method == "POST" and parts[:3] == ["v2", "payments", "captures"] and parts[4:] == ["refund"]:
            captures = [
                c for o in self.orders.values() for c in o["purchase_units"][0].get("payments", {}).get("captures", [])
            ]
            if not any(c["id"] == parts[3] for c in captures):
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            self.refunds.append(("capture", parts[3], body))
            return httpx.Response(201, json={"id": self.new_id("R"), "status": "COMPLETED"})
        if method == "POST" and parts[:3] == ["v1", "payments", "sale"] and parts[4:] == ["refund"]:
            if not any(s["id"] == parts[3] for sales in self.sales.values() for s in sales):
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            self.refunds.append(("sale", parts[3], body))
            return httpx.Response(201, json={"id": self.new_id("R"), "state": "completed", "sale_id": parts[3]})
        if method == "POST" and path == "/v1/catalogs/products":
            return httpx.Response(201, json={"id": self.new_id("PROD-"), **body})
        if method == "POST" and path == "/v1/billing/plans":
            plan = {"id": self.new_id("P-"), **body}
            self.plans[plan["id"]] = plan
            return httpx.Response(201, json=plan)
        if method == "POST" and path == "/v1/billing/subscriptions":
            if body["plan_id"] not in self.plans:
                return _error(422, "UNPROCESSABLE_ENTITY", "INVALID_PLAN")
            subscription_id = self.new_id("I-")
            subscription = {
                "id": subscription_id,
                "plan_id": body["plan_id"],
                "custom_id": body.get("custom_id"),
                "status": "APPROVAL_PENDING",
                "create_time": iso(_now()),
                "links": [
                    {
                        "href": f"https://www.paypal.test/webapps/billing/subscriptions?ba_token=BA-{subscription_id}",
                        "rel": "approve",
                    },
                    {"href": f"{API_URL}/v1/billing/subscriptions/{subscription_id}", "rel": "self"},
                ],
            }
            self.subscriptions[subscription_id] = subscription
            return httpx.Response(201, json=subscription)
        if parts[:3] == ["v1", "billing", "subscriptions"] and len(parts) >= 4:
            subscription = self.subscriptions.get(parts[3])
            if subscription is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if method == "GET" and len(parts) == 4:
                return httpx.Response(200, json=subscription)
            if method == "GET" and parts[4:] == ["transactions"]:
                return httpx.Response(200, json={"transactions": self.sales.get(parts[3], [])})
            if method == "POST" and parts[4:] == ["cancel"]:
                if subscription["status"] not in ("ACTIVE", "SUSPENDED"):
                    return _error(422, "UNPROCESSABLE_ENTITY", "SUBSCRIPTION_STATUS_INVALID")
                subscription["status"] = "CANCELLED"
                self.canceled.append(parts[3])
                return httpx.Response(204)
        return _error(404, "NOT_FOUND", "UNKNOWN_ENDPOINT")


def _error(status: int, name: str, issue: str) -> httpx.Response:
    return httpx.Response(status, json={"name": name, "details": [{"issue": issue}], "debug_id": "f00"})
