// "Turn on push for this device": register the service worker, subscribe
// with the site's VAPID key and send the subscription to the API.
import { csrfToken } from "./csrf.js";

const button = document.querySelector("[data-push-enable]");
const status = document.querySelector("[data-push-status]");

function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function enablePush() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = "This browser cannot receive push alerts.";
    return;
  }
  const { public_key: publicKey } = await (await fetch("/api/v1/push/key/")).json();
  if (!publicKey) {
    status.textContent = "Push alerts are not set up on this site.";
    return;
  }
  if ((await Notification.requestPermission()) !== "granted") {
    status.textContent = "Notifications are blocked for this site in your browser.";
    return;
  }
  const registration = await navigator.serviceWorker.register("/push-sw.js");
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(publicKey),
  });
  const body = { ...subscription.toJSON(), show_names: document.getElementById("push-show-names").checked };
  const response = await fetch("/api/v1/me/push-subscriptions/", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  status.textContent = response.ok ? "Push is on for this device." : "Could not turn push on; try again.";
}

if (button) {
  button.addEventListener("click", () => {
    enablePush().catch(() => {
      status.textContent = "Could not turn push on; try again.";
    });
  });
}
