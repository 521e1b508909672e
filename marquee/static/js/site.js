// Site-wide behaviour: mobile nav, local times, live thumbnail fallbacks.
const toggle = document.querySelector("[data-nav-toggle]");
if (toggle) {
  toggle.addEventListener("click", () => {
    const nav = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

// Times are rendered in UTC by the server; show them in the viewer's zone.
const formatter = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
export function localizeTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-localtime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) el.textContent = formatter.format(when);
  }
}

function fallbackThumbs(root = document) {
  for (const img of root.querySelectorAll("img.live-thumb")) {
    img.addEventListener("error", () => {
      const fallback = img.dataset.fallback;
      if (fallback && img.src !== fallback) img.src = fallback;
      else img.replaceWith(Object.assign(document.createElement("div"), { className: "thumb-placeholder" }));
    }, { once: true });
  }
}

localizeTimes();
fallbackThumbs();
document.body.addEventListener("htmx:afterSwap", (event) => { localizeTimes(event.target); fallbackThumbs(event.target); });
