// Progressive enhancement only: every page works without this file.
"use strict";

// The DREAD mean, live, next to the five factor inputs.
function updateDreadMean() {
  const inputs = Array.from(document.querySelectorAll("input[data-dread]"));
  const output = document.getElementById("dread-mean");
  if (!output || inputs.length === 0) return;
  const values = inputs.map((input) => input.value.trim()).filter((v) => v !== "").map(Number);
  if (values.length !== inputs.length || values.some((v) => Number.isNaN(v))) {
    output.textContent = "";
    return;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  output.textContent = "(mean " + (Math.round(mean * 10) / 10).toFixed(1) + ")";
}

// CVSS base metrics, v3.1 and v4.0: picking values builds the vector; the
// server still parses and scores whatever the field finally holds. The
// pickers open on the version of the vector in the field, filled from it,
// so editing a v4.0 record never offers blank v3.1 menus over its vector.
const CVSS_METRICS = {
  "3.1": [
    ["AV", "Attack vector", [["N", "Network"], ["A", "Adjacent"], ["L", "Local"], ["P", "Physical"]]],
    ["AC", "Attack complexity", [["L", "Low"], ["H", "High"]]],
    ["PR", "Privileges required", [["N", "None"], ["L", "Low"], ["H", "High"]]],
    ["UI", "User interaction", [["N", "None"], ["R", "Required"]]],
    ["S", "Scope", [["U", "Unchanged"], ["C", "Changed"]]],
    ["C", "Confidentiality", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["I", "Integrity", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["A", "Availability", [["H", "High"], ["L", "Low"], ["N", "None"]]],
  ],
  "4.0": [
    ["AV", "Attack vector", [["N", "Network"], ["A", "Adjacent"], ["L", "Local"], ["P", "Physical"]]],
    ["AC", "Attack complexity", [["L", "Low"], ["H", "High"]]],
    ["AT", "Attack requirements", [["N", "None"], ["P", "Present"]]],
    ["PR", "Privileges required", [["N", "None"], ["L", "Low"], ["H", "High"]]],
    ["UI", "User interaction", [["N", "None"], ["P", "Passive"], ["A", "Active"]]],
    ["VC", "Vulnerable system confidentiality", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["VI", "Vulnerable system integrity", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["VA", "Vulnerable system availability", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["SC", "Subsequent system confidentiality", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["SI", "Subsequent system integrity", [["H", "High"], ["L", "Low"], ["N", "None"]]],
    ["SA", "Subsequent system availability", [["H", "High"], ["L", "Low"], ["N", "None"]]],
  ],
};

function parseVector(text) {
  const parts = text.trim().split("/");
  const prefix = parts.shift() || "";
  const version = prefix === "CVSS:4.0" ? "4.0" : prefix.startsWith("CVSS:3.") ? "3.1" : null;
  const metrics = [];
  parts.forEach((part) => {
    const [metric, value] = part.split(":");
    if (metric && value) metrics.push([metric, value]);
  });
  return { version, metrics };
}

function setUpCvssBuilder() {
  const builder = document.getElementById("cvss-builder");
  const field = document.getElementById("cvss_vector");
  if (!builder || !field) return;
  const parsed = parseVector(field.value);
  let version = parsed.version || "3.1";
  const chooser = document.createElement("fieldset");
  chooser.className = "cvss-version";
  const legend = document.createElement("legend");
  legend.textContent = "Build the vector: CVSS version";
  chooser.appendChild(legend);
  const menus = document.createElement("div");
  menus.className = "cvss-builder";
  const render = () => {
    menus.textContent = "";
    const current = parseVector(field.value);
    const values = current.version === version ? Object.fromEntries(current.metrics) : {};
    const base = CVSS_METRICS[version].map(([metric]) => metric);
    // Threat, environmental and supplemental metrics are kept as typed.
    const extra = current.version === version ? current.metrics.filter(([m]) => !base.includes(m)) : [];
    const selects = [];
    const build = () => {
      if (selects.some((s) => s.value === "")) return;
      const picked = selects.map((s) => s.dataset.metric + ":" + s.value);
      const rest = extra.map(([m, v]) => m + ":" + v);
      field.value = ["CVSS:" + version].concat(picked, rest).join("/");
    };
    CVSS_METRICS[version].forEach(([metric, name, options]) => {
      const label = document.createElement("label");
      label.textContent = name + " ";
      const select = document.createElement("select");
      select.dataset.metric = metric;
      select.id = "cvss-" + metric;
      const blank = document.createElement("option");
      blank.value = "";
      blank.textContent = "—";
      select.appendChild(blank);
      options.forEach(([code, text]) => {
        const option = document.createElement("option");
        option.value = code;
        option.textContent = text;
        option.selected = values[metric] === code;
        select.appendChild(option);
      });
      select.addEventListener("change", build);
      label.appendChild(select);
      menus.appendChild(label);
      selects.push(select);
    });
  };
  ["3.1", "4.0"].forEach((v) => {
    const label = document.createElement("label");
    label.className = "check";
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "cvss-version";
    radio.value = v;
    radio.checked = v === version;
    radio.addEventListener("change", () => {
      version = v;
      render();
    });
    label.appendChild(radio);
    label.appendChild(document.createTextNode(" " + v));
    chooser.appendChild(label);
  });
  builder.appendChild(chooser);
  builder.appendChild(menus);
  field.addEventListener("change", () => {
    const typed = parseVector(field.value);
    if (typed.version && typed.version !== version) {
      version = typed.version;
      chooser.querySelectorAll("input").forEach((r) => { r.checked = r.value === version; });
    }
    render();
  });
  render();
  builder.hidden = false;
}

// A slider beside each DREAD number: dragging fills the number (which stays
// empty, "not rated", until touched) and the live mean follows.
function setUpDreadSliders() {
  document.querySelectorAll("input[data-dread]").forEach((number) => {
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "10";
    slider.step = "1";
    slider.value = number.value === "" ? "0" : number.value;
    slider.setAttribute("aria-label", (number.labels[0] ? number.labels[0].textContent : "DREAD factor") + " slider");
    slider.addEventListener("input", () => {
      number.value = slider.value;
      updateDreadMean();
    });
    number.addEventListener("input", () => {
      if (number.value !== "") slider.value = number.value;
    });
    number.insertAdjacentElement("afterend", slider);
  });
}

// On a phone the menu folds behind its button; without this script it
// simply stays open.
function setUpMenuToggle() {
  const toggle = document.querySelector(".menu-toggle");
  const menu = document.getElementById("site-menu");
  if (!toggle || !menu) return;
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = menu.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

// The list: a header checkbox that selects every row on the page, and a
// live count of the selection beside the bulk change.
function setUpSelection() {
  const table = document.getElementById("vuln-table");
  const all = document.getElementById("select-all");
  const count = document.getElementById("selected-count");
  if (!table || !all) return;
  const boxes = Array.from(table.querySelectorAll("tbody input[name='ids']"));
  const refresh = () => {
    const chosen = boxes.filter((box) => box.checked).length;
    all.checked = chosen === boxes.length && chosen > 0;
    all.indeterminate = chosen > 0 && chosen < boxes.length;
    if (count) count.textContent = chosen === 0 ? "" : "(" + chosen + " of " + boxes.length + " selected)";
    boxes.forEach((box) => box.closest("tr").classList.toggle("selected", box.checked));
  };
  all.hidden = false;
  all.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
    refresh();
  });
  boxes.forEach((box) => box.addEventListener("change", refresh));
  refresh();
  // A bulk change names how many records it is about to change.
  const bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", (event) => {
      const chosen = boxes.filter((box) => box.checked).length;
      if (chosen === 0) return;
      const noun = chosen === 1 ? "record" : "records";
      if (!window.confirm("Apply this change to " + chosen + " " + noun + "?")) event.preventDefault();
    });
  }
}

// The triage queue's keys: j/k move between records, a assigns the current
// one to me, s goes to its status, r to its resolution (Enter in either
// applies it), Enter on the record opens it. Typing in a field is left alone.
function setUpTriage() {
  const queue = document.getElementById("triage-queue");
  if (!queue) return;
  const rows = Array.from(queue.querySelectorAll("li[data-row]"));
  const help = document.querySelector(".triage-keys");
  if (help) help.hidden = false;
  let current = -1;
  const focusRow = (index) => {
    if (rows.length === 0) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("current", i === current));
    const link = rows[current].querySelector("a.triage-title");
    if (link) {
      link.focus();
      link.scrollIntoView({ block: "nearest" });
    }
  };
  queue.querySelectorAll("select[data-status], select[data-resolution]").forEach((select) => {
    select.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        select.form.requestSubmit();
      }
    });
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement && target.closest("input, textarea, select");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const row = rows[current];
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "a": if (row) row.querySelector("button[data-assign]")?.click(); else return; break;
      case "s": if (row) row.querySelector("select[data-status]")?.focus(); else return; break;
      case "r":
        if (!row) return;
        row.querySelector("select[data-status]").value = "RESOLVED";
        row.querySelector("select[data-resolution]")?.focus();
        break;
      case "Enter": {
        // A focused link or button does its own thing.
        if (!row || (target instanceof HTMLElement && target.closest("a, button"))) return;
        const link = row.querySelector("a.triage-title");
        if (link) window.location.assign(link.href);
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
}

// Keyboard shortcuts of the list: / search, j/k move, x select, ? help.
function setUpShortcuts() {
  const dialog = document.getElementById("shortcuts");
  if (!dialog) return;
  const opener = document.querySelector(".shortcuts-open");
  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", () => dialog.showModal());
  }
  const rows = Array.from(document.querySelectorAll("#vuln-table tbody tr[data-row]"));
  let current = -1;
  const focusRow = (index) => {
    if (rows.length === 0) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("current", i === current));
    const link = rows[current].querySelector("a");
    if (link) link.focus();
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (dialog.open) return;
    const search = document.getElementById("q");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "?") {
      event.preventDefault();
      dialog.showModal();
    } else if (event.key === "j") {
      focusRow(current + 1);
    } else if (event.key === "k") {
      focusRow(current - 1);
    } else if (event.key === "x" && current >= 0) {
      const box = rows[current].querySelector("input[name='ids']");
      if (box) {
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change"));
      }
    }
  });
}

// Times the server wrote in UTC because the user chose no zone: shown in
// the browser's own zone instead (the exact time of a relative one is its
// hover title). The account page names the zone the browser reports.
function showLocalTimes() {
  const pad = (n) => String(n).padStart(2, "0");
  const zoneName = (at) => {
    const parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(at);
    const part = parts.find((p) => p.type === "timeZoneName");
    return part ? " " + part.value : "";
  };
  document.querySelectorAll("time[data-local]").forEach((element) => {
    const at = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) return;
    const relative = element.hasAttribute("title");
    const written = relative ? element.getAttribute("title") : element.textContent;
    const seconds = /\d\d:\d\d:\d\d/.test(written) ? ":" + pad(at.getSeconds()) : "";
    const text = at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) + " " +
      pad(at.getHours()) + ":" + pad(at.getMinutes()) + seconds + zoneName(at);
    if (relative) element.setAttribute("title", text);
    else element.textContent = text;
  });
  const select = document.querySelector("select[data-browser-zone]");
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (select && browserZone) {
    select.options[0].textContent = "As my browser is set (" + browserZone.replace(/_/g, " ") + ")";
  }
}

// A form that comes back with errors: the summary takes focus, so a
// screen reader reads what to fix.
function focusErrorSummary() {
  const summary = document.getElementById("form-errors");
  if (summary) summary.focus();
}

// The create form's CVE field: as a full CVE id is typed, the catalogue's
// record fills the fields still empty (the "Fill from CVE" button does the
// same without JavaScript).
function setUpCveLookup() {
  const input = document.getElementById("cve_id");
  const status = document.getElementById("cve-status");
  if (!input || !status || !document.querySelector(".fill-from-cve")) return;
  let asked = "";
  let timer = null;
  const lookUp = async () => {
    const id = input.value.trim().toUpperCase();
    if (!/^CVE-\d{4}-\d{4,}$/.test(id) || id === asked) return;
    asked = id;
    let response;
    try {
      response = await fetch(`/vulnerabilities/new/cve?cve_id=${encodeURIComponent(id)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (_) {
      return;
    }
    if (input.value.trim().toUpperCase() !== id) return;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.textContent = body.reason || `${id} is not in the CVE catalogue.`;
      return;
    }
    const filled = [];
    const fill = (name, value) => {
      const field = document.getElementById(name);
      if (field && value && !field.value.trim()) {
        field.value = value;
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
        filled.push(name.replace("_", " "));
      }
    };
    fill("title", body.title);
    fill("description", body.description);
    fill("cvss_vector", body.cvss_vector);
    fill("references", (body.references || []).join("\n"));
    fill("remediation", body.remediation);
    status.textContent = filled.length
      ? `Filled from ${id}: ${filled.join(", ")}. Check them, then save.`
      : `${id}: every field it could fill already has a value.`;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 300);
  });
  input.addEventListener("change", lookUp);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpMenuToggle();
  setUpSelection();
  setUpShortcuts();
  setUpTriage();
  showLocalTimes();
  focusErrorSummary();
  setUpCvssBuilder();
  setUpDreadSliders();
  setUpCveLookup();
  document.querySelectorAll("input[data-dread]").forEach((input) => input.addEventListener("input", updateDreadMean));
  updateDreadMean();
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
