"use strict";
// The report's only script, allowed by its sha256 hash in the Content-Security-Policy. It holds no
// data: it reads the (escaped) table cells and data- attributes, and only ever sets textContent,
// hidden and aria- attributes, or clones inert <template> content that the page already holds.
(function () {
  function sortValue(cell, numeric) {
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (!numeric) { return raw.toLowerCase(); }
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }

  function makeSortable(table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      if (!th.hasAttribute("data-sort")) { return; }
      var numeric = th.getAttribute("data-sort") === "num";
      th.querySelector("button").addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") !== "descending" &&
          (th.getAttribute("aria-sort") === "ascending" || numeric);
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortValue(a.cells[index], numeric);
          var y = sortValue(b.cells[index], numeric);
          if (x === y) { return 0; }
          if (x === null) { return 1; }
          if (y === null) { return -1; }
          return (x < y ? -1 : 1) * (descending ? -1 : 1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function makeFilterable(table, input, errorsOnly, counter) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        if (errorsOnly.checked && row.getAttribute("data-error") !== "yes") { match = false; }
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      counter.textContent = shown + " of " + rows.length;
    }
    input.addEventListener("input", apply);
    errorsOnly.addEventListener("change", apply);
  }

  function makeTimelines(table) {
    var dialog = document.getElementById("timeline-dialog");
    var body = document.getElementById("timeline-body");
    var title = document.getElementById("timeline-title");
    document.getElementById("timeline-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("click", function (event) { if (event.target === dialog) { dialog.close(); } });
    table.addEventListener("click", function (event) {
      var button = event.target.closest("button.open-timeline");
      if (!button) { return; }
      var template = document.getElementById(button.getAttribute("data-timeline"));
      if (!template) { return; }
      body.replaceChildren(template.content.cloneNode(true));
      var row = button.closest("tr");
      var latency = row.querySelector("td[data-latency]");
      title.textContent = "Request timeline: #" + row.cells[0].textContent.trim() + ", " +
        (latency ? latency.textContent.trim() : "?") + " ms";
      dialog.showModal();
    });
  }

  var table = document.getElementById("outlier-table");
  if (table) {
    makeSortable(table);
    makeFilterable(table, document.getElementById("outlier-filter"),
      document.getElementById("outlier-errors"), document.getElementById("outlier-count"));
    makeTimelines(table);
  }
  document.documentElement.setAttribute("data-ready", "yes");
})();
