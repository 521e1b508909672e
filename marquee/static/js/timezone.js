// The viewer's time zone: the server renders every time in the zone it knows
// (<html data-tz>); this tells it the browser's zone once, so the next page is
// right, and rewrites this page's times meanwhile.
import { csrfToken } from "./csrf.js";

const root = document.documentElement;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const COOKIE = "tz";

export function rememberZone() {
  if (!browserZone || browserZone === root.dataset.tz) return false;
  document.cookie = `${COOKIE}=${encodeURIComponent(browserZone)}; path=/; max-age=31536000; samesite=lax`;
  // Signed-in users whose zone was never chosen (still UTC) get it stored on the account.
  const saveUrl = root.dataset.tzSave;
  if (saveUrl && root.dataset.tz === "UTC") {
    const body = new URLSearchParams({ timezone: browserZone, auto: "1" });
    fetch(saveUrl, { method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } }).catch(() => {});
  }
  return true;
}

const formatter = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit", timeZoneName: "short",
});

// Only when the server rendered another zone than the browser's (first visit).
export function localizeTimes(scope = document) {
  if (!browserZone || browserZone === root.dataset.tz) return;
  for (const el of scope.querySelectorAll("time[data-localtime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) el.textContent = formatter.format(when);
  }
}
