/* Hanoi 24/7 — "Add another" for the repeated rows of a request form (progressive
   enhancement: without JavaScript the form already has two empty rows, and saving the
   draft brings two more). A new row is a copy of the last one, emptied and renumbered. */
(function () {
  "use strict";

  // Every name and id in a row holds "<key>-<row number>-" once, nested rows' numbers after it.
  function renumber(row, key, index) {
    var from = new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "-\\d+-");
    var to = key + "-" + index + "-";
    [row].concat(Array.prototype.slice.call(row.querySelectorAll("*"))).forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.split(" ").map(function (token) { return token.replace(from, to); }).join(" "));
        }
      });
    });
  }

  function empty(row) {
    row.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else { el.value = ""; }
      el.removeAttribute("aria-invalid");
    });
    row.querySelectorAll("ul.error").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
    row.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var ids = el.getAttribute("aria-describedby").split(/\s+/).filter(function (id) {
        return id && row.querySelector("[id='" + id + "']");
      });
      if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); } else { el.removeAttribute("aria-describedby"); }
    });
  }

  function enhance(set) {
    var key = set.getAttribute("data-rows");
    var list = set.querySelector(".rows-list");
    if (!key || !list) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add-row";
    button.textContent = set.getAttribute("data-add-label") || "Add another";
    button.addEventListener("click", function () {
      var rows = list.querySelectorAll(":scope > .row");
      var last = rows[rows.length - 1];
      if (!last) { return; }
      var index = Number(last.getAttribute("data-row")) + 1;
      var row = last.cloneNode(true);
      row.setAttribute("data-row", String(index));
      renumber(row, key, index);
      var number = row.querySelector("[data-row-number]");
      if (number) { number.textContent = String(index + 1); }
      empty(row);
      list.appendChild(row);
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    });
    list.insertAdjacentElement("afterend", button);
    var note = set.querySelector(".rows-note");
    if (note) { note.hidden = true; }
  }

  function start() {
    document.querySelectorAll("fieldset[data-rows]").forEach(enhance);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
