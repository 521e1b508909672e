// The CSRF token for every fetch() that writes: the one base.html puts in
// <body hx-headers> for htmx (so pages, htmx and modules send the same token).
export function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}
