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
  output.textContent = "mean " + (Math.round(mean * 10) / 10).toFixed(1);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-dread]").forEach((input) => input.addEventListener("input", updateDreadMean));
  updateDreadMean();
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
