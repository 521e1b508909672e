// Site-wide behaviour: mobile nav, local times, live thumbnail fallbacks.
import { localizeTimes, rememberZone } from "./timezone.js";

const toggle = document.querySelector("[data-nav-toggle]");
if (toggle) {
  toggle.addEventListener("click", () => {
    const nav = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
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

rememberZone();
localizeTimes();
fallbackThumbs();
document.body.addEventListener("htmx:afterSwap", (event) => { localizeTimes(event.target); fallbackThumbs(event.target); });
