// Uploads files one by one with XHR so each gets a real progress bar, then
// refreshes the file grid (thumbnails are made by a worker task).
import { csrfToken } from "./csrf.js";

const form = document.querySelector("form[data-upload]");

function uploadOne(file, list) {
  const row = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const status = document.createElement("span");
  status.className = "small muted";
  row.append(label, bar, status);
  list.append(row);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      const ok = xhr.status >= 200 && xhr.status < 300;
      bar.value = ok ? 100 : bar.value;
      status.textContent = ok ? " done" : ` ${xhr.response?.error?.message || "upload failed"}`;
      row.classList.add(ok ? "upload-ok" : "upload-error");
      resolve(ok);
    });
    xhr.addEventListener("error", () => {
      status.textContent = " network error";
      row.classList.add("upload-error");
      resolve(false);
    });
    const body = new FormData();
    body.append("file", file);
    xhr.send(body);
  });
}

async function refreshItems() {
  const response = await fetch(form.dataset.itemsUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
  if (response.ok) document.getElementById("set-items").innerHTML = await response.text();
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input[type=file]");
    const list = form.querySelector("[data-upload-list]");
    for (const file of input.files) await uploadOne(file, list);
    input.value = "";
    await refreshItems();
  });
}
