// Live parts of the console without a framework: the inbox refreshes its tables,
// an alert page follows its delivery progress until the fan-out settles.
"use strict";

function signedOut(response) {
  // The session ended (idle): polling was sent to the sign-in page, so the page goes there too.
  if (!response.redirected) return false;
  window.location.assign(response.url);
  return true;
}

function refreshInbox(box) {
  const every = Number(box.dataset.every || 10) * 1000;
  setInterval(async () => {
    const response = await fetch(box.dataset.refresh, { credentials: "same-origin" });
    if (signedOut(response)) return;
    if (response.ok) box.innerHTML = await response.text();
  }, every);
}

function renderProgress(box, data) {
  // The server orders and names the rows (console.progress_rows), as on the page it drew.
  const body = box.querySelector("tbody");
  // Labels are shown, codes kept in data- attributes.
  const rows = data.rows.map(({ channel, label, county, name, cells }) => {
    const row = document.createElement("tr");
    row.dataset.county = county;
    row.dataset.channel = channel;
    for (const value of [label, name, ...cells]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.appendChild(cell);
    }
    return row;
  });
  body.replaceChildren(...rows);
  const operators = box.querySelector("#cbc-progress tbody");
  if (operators && data.operators) {
    // One row per operator's CBC (console.operator_rows): cells come with its status callbacks.
    operators.replaceChildren(...data.operators.map(({ code, name, accepted, state, state_label, cells, failed_cells }) => {
      const row = document.createElement("tr");
      row.dataset.operator = code;
      row.dataset.state = state;
      for (const value of [name, accepted, state_label, cells, failed_cells]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      return row;
    }));
  }
  const state = document.getElementById("state");
  if (state) {
    state.textContent = data.state_label;
    state.dataset.state = data.state;
  }
}

function followProgress(box) {
  const timer = setInterval(async () => {
    const response = await fetch(box.dataset.source, { credentials: "same-origin" });
    if (signedOut(response)) return clearInterval(timer);
    if (!response.ok) return;
    const data = await response.json();
    renderProgress(box, data);
    const cancel = document.getElementById("cancel-form");
    if (cancel && data.reached) cancel.dataset.reached = JSON.stringify(data.reached);
    if (data.unsettled === 0 && data.state !== "publishing") {
      clearInterval(timer);
      box.dataset.settled = "true";
    }
  }, 2000);
}

function searchKey(text) {
  // "Kāng dìng" and "kangding" alike: Latin tone marks, spaces and apostrophes dropped
  // (only U+0300-036F: Tibetan vowel signs are marks too and must stay).
  return text.normalize("NFD").replace(/[\u0300-\u036f\s'’]/g, "").toLowerCase();
}

function filterCounties(search, list) {
  search.addEventListener("input", () => {
    const wanted = searchKey(search.value);
    for (const item of list.querySelectorAll("li")) {
      item.hidden = wanted !== "" && !searchKey(item.textContent).includes(wanted);
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

function linkNamedAreas(map, list) {
  // A ticked named area is filled on the map; its outline is drawn there from the start.
  list.addEventListener("change", (event) => {
    const outline = map.querySelector(`path[data-area="${event.target.value}"]`);
    if (outline) outline.classList.toggle("selected", event.target.checked);
  });
}

function nameOnMap(map) {
  // The county under the pointer is named on the map itself, at a point inside it, anchored so the
  // name stays within the map; its <title> (the browser's own tooltip) says the same, later.
  const name = map.querySelector("#county-map-name");
  const width = map.viewBox.baseVal.width;
  map.addEventListener("mouseover", (event) => {
    const county = event.target.closest("path[data-code]");
    if (!county) return;
    const x = Number(county.dataset.labelX);
    name.textContent = county.querySelector("title").textContent;
    name.setAttribute("x", x);
    name.setAttribute("y", county.dataset.labelY);
    name.setAttribute("text-anchor", x < width / 3 ? "start" : x > (2 * width) / 3 ? "end" : "middle");
    name.classList.add("shown");
  });
  map.addEventListener("mouseleave", () => name.classList.remove("shown"));
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

function showParameters(hazard, fieldset) {
  // Only the chosen hazard's parameters (hazards.toml). Without JavaScript every field shows,
  // labelled with its hazards, and the server keeps only the chosen hazard's.
  const update = () => {
    let shown = 0;
    for (const label of fieldset.querySelectorAll("label.parameter")) {
      label.hidden = !label.dataset.hazards.split(" ").includes(hazard.value);
      if (!label.hidden) shown += 1;
    }
    fieldset.hidden = shown === 0;
  };
  hazard.addEventListener("change", update);
  update();
}

function showActions(hazard, level, fieldset) {
  // Only the protective actions the chosen hazard offers at the chosen level (hazards.toml `choices`).
  // Without JavaScript every action shows, and intake refuses one the hazard does not offer.
  const update = () => {
    const key = `${hazard.value}:${level.value || "default"}`;
    let shown = 0;
    for (const label of fieldset.querySelectorAll("label.action")) {
      label.hidden = !label.dataset.offered.split(" ").includes(key);
      if (label.hidden) label.querySelector("input").checked = false;
      if (!label.hidden) shown += 1;
    }
    fieldset.hidden = shown === 0;
  };
  hazard.addEventListener("change", update);
  level.addEventListener("change", update);
  update();
}

function confirmCancel(form) {
  // One question, in a dialog, naming the alert, its counties and its reach as of the latest poll;
  // accepting ticks the box the server requires (without JavaScript the officer ticks it on the page).
  const box = form.querySelector("input[name=confirm_cancel]");
  box.closest("label").hidden = true;
  form.addEventListener("submit", (event) => {
    const reached = JSON.parse(form.dataset.reached);
    const question = form.dataset.confirm.replace("{delivered}", reached.delivered).replace("{sent}", reached.sent);
    box.checked = window.confirm(question);
    if (!box.checked) event.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const compose = document.getElementById("compose-form");
  if (compose) showKind(compose, document.getElementById("kind-banner"));
  const parameters = document.getElementById("parameters");
  if (parameters) showParameters(document.querySelector("select[name=hazard]"), parameters);
  const actions = document.getElementById("actions");
  if (actions) {
    showActions(document.querySelector("select[name=hazard]"), document.querySelector("select[name=level]"), actions);
  }
  const search = document.getElementById("county-search");
  if (search) filterCounties(search, document.getElementById("county-list"));
  const map = document.getElementById("county-map");
  if (map) {
    linkMap(map, document.getElementById("county-list"));
    const areas = document.getElementById("named-area-list");
    if (areas) linkNamedAreas(map, areas);
    nameOnMap(map);
  }
  const inbox = document.getElementById("inbox");
  if (inbox) refreshInbox(inbox);
  const progress = document.getElementById("progress");
  if (progress) followProgress(progress);
  const cancel = document.getElementById("cancel-form");
  if (cancel) confirmCancel(cancel);
});
