// Earnings charts: stacked bars by source over time, and a doughnut of the
// period's sources.  Data comes from json_script blocks rendered by the server;
// Chart.js is loaded just before this module (vendor UMD build → globalThis.Chart).
const Chart = globalThis.Chart;
const COLORS = { tips: "#ff3d7f", tickets: "#ffb020", subscriptions: "#8a5cff", content: "#2ecc8f", other: "#a79fb8" };

function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function money(cents) {
  return (cents / 100).toLocaleString(undefined, { style: "currency", currency: "USD" });
}

function drawSeries(canvas, series) {
  const sources = series.sources;
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: sources.map((source) => ({
        label: series.source_labels[source],
        data: series.values[source],
        backgroundColor: COLORS[source] || COLORS.other,
        stack: "net",
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { stacked: true, ticks: { color: "#a79fb8", maxRotation: 0, autoSkip: true } },
        y: { stacked: true, ticks: { color: "#a79fb8", callback: (v) => money(v) } },
      },
      plugins: {
        legend: { labels: { color: "#f1edf7" } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${money(ctx.parsed.y)}` } },
      },
    },
  });
}

function drawSources(canvas, totals) {
  const entries = Object.entries(totals.by_source).filter(([, row]) => row.net > 0);
  return new Chart(canvas, {
    type: "doughnut",
    data: {
      labels: entries.map(([source]) => totals.source_labels[source]),
      datasets: [{ data: entries.map(([, row]) => row.net), backgroundColor: entries.map(([s]) => COLORS[s] || COLORS.other) }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { position: "bottom", labels: { color: "#f1edf7" } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.label}: ${money(ctx.parsed)}` } },
      },
    },
  });
}

function init(root = document) {
  if (!Chart) return;
  const series = readJson("earnings-series");
  const totals = readJson("earnings-totals");
  const seriesCanvas = root.querySelector("canvas[data-earnings-series]");
  const sourcesCanvas = root.querySelector("canvas[data-earnings-sources]");
  if (series && seriesCanvas) {
    Chart.getChart(seriesCanvas)?.destroy();
    drawSeries(seriesCanvas, series);
    seriesCanvas.dataset.ready = "true";
  }
  if (totals && sourcesCanvas) {
    Chart.getChart(sourcesCanvas)?.destroy();
    drawSources(sourcesCanvas, totals);
  }
}

init();
document.body.addEventListener("htmx:afterSwap", () => init());
