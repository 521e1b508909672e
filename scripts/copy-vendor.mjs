// Copies the pinned npm packages' browser builds into marquee/static/vendor.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "marquee", "static", "vendor");
mkdirSync(out, { recursive: true });

const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "hls.js/dist/hls.min.js": "hls.min.js",
  "hls.js/dist/hls.min.mjs": "hls.min.mjs",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  // Accessibility checks: injected by the browser tests only, never by a page.
  "axe-core/axe.min.js": "axe.min.js",
};
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
}
console.log(`vendor assets copied to ${out}`);
