// Live parts of the console without a framework: the inbox refreshes its tables,
// an alert page follows its delivery progress until the fan-out settles.
"use strict";

function refreshInbox(box) {
  const every = Number(box.dataset.every || 10) * 1000;
  setInterval(async () => {
    const response = await fetch(box.dataset.refresh, { credentials: "same-origin" });
    if (response.ok) box.innerHTML = await response.text();
  }, every);
}

function renderProgress(box, data) {
  const body = box.querySelector("tbody");
  const rows = [];
  for (const [channel, counties] of Object.entries(data.progress)) {
    for (const [county, statuses] of Object.entries(counties)) {
      const cells = [channel, county];
      for (const status of ["pending", "sending", "sent", "delivered", "failed"]) cells.push(statuses[status] || 0);
      cells.push((statuses.undelivered || 0) + (statuses.cancelled || 0));
      const row = document.createElement("tr");
      for (const value of cells) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      rows.push(row);
    }
  }
  body.replaceChildren(...rows);
  const state = document.getElementById("state");
  if (state) state.textContent = data.state;
}

function followProgress(box) {
  const timer = setInterval(async () => {
    const response = await fetch(box.dataset.source, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    renderProgress(box, data);
    if (data.unsettled === 0 && data.state !== "publishing") {
      clearInterval(timer);
      box.dataset.settled = "true";
    }
  }, 2000);
}

function filterCounties(search, list) {
  search.addEventListener("input", () => {
    const wanted = search.value.trim().toLowerCase();
    for (const item of list.querySelectorAll("li")) {
      item.hidden = wanted !== "" && !item.textContent.toLowerCase().includes(wanted);
    }
  });
}

function linkMap(map, list) {
  // A click on a county of the map ticks its box, and a ticked box colours its county.
  const box = (code) => list.querySelector(`input[value="${code}"]`);
  map.addEventListener("click", (event) => {
    const code = event.target.dataset && event.target.dataset.code;
    if (!code) return;
    box(code).checked = !box(code).checked;
    event.target.classList.toggle("selected", box(code).checked);
  });
  list.addEventListener("change", (event) => {
    const county = map.querySelector(`path[data-code="${event.target.value}"]`);
    if (county) county.classList.toggle("selected", event.target.checked);
  });
}

function showKind(form, banner) {
  // The kind chosen while composing is as unmistakable as on the alert page.
  form.addEventListener("change", (event) => {
    if (event.target.name !== "status") return;
    const kind = event.target.value.toLowerCase();
    banner.className = `banner ${kind}`;
    banner.textContent = banner.dataset[kind];
    banner.hidden = false;
    document.body.className = `status-${kind}`;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const compose = document.getElementById("compose-form");
  if (compose) showKind(compose, document.getElementById("kind-banner"));
  const search = document.getElementById("county-search");
  if (search) filterCounties(search, document.getElementById("county-list"));
  const map = document.getElementById("county-map");
  if (map) linkMap(map, document.getElementById("county-list"));
  const inbox = document.getElementById("inbox");
  if (inbox) refreshInbox(inbox);
  const progress = document.getElementById("progress");
  if (progress) followProgress(progress);
});
