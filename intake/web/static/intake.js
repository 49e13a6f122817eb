// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Move focus to the error summary so screen readers announce it (GOV.UK pattern).
  var summary = document.querySelector("[data-module='error-summary']");
  if (summary) { summary.focus(); }

  // Ignore a second click on a submit button within 2 seconds (the server is idempotent anyway).
  document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (button.dataset.clicked) { event.preventDefault(); return; }
      button.dataset.clicked = "1";
      setTimeout(function () { delete button.dataset.clicked; }, 2000);
    });
  });

  // --- Keyboard shortcuts (staff). Single keys, so they can be turned off (WCAG 2.1.4) and never
  // act while typing in a text box.
  var STORAGE_KEY = "intake-shortcuts-off";
  function shortcutsOn() {
    try { return window.localStorage.getItem(STORAGE_KEY) !== "1"; } catch (e) { return true; }
  }
  document.querySelectorAll("[data-shortcuts-toggle]").forEach(function (toggle) {
    function label() { toggle.textContent = shortcutsOn() ? "Turn shortcuts off" : "Turn shortcuts on"; }
    label();
    toggle.addEventListener("click", function () {
      try { window.localStorage.setItem(STORAGE_KEY, shortcutsOn() ? "1" : "0"); } catch (e) { /* private mode */ }
      label();
    });
  });

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) { return true; }
    if (tag === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["radio", "checkbox", "button", "submit"].indexOf(type) === -1;
    }
    return false;
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-item-row]"));
  var selected = -1;
  function select(index) {
    if (!rows.length) { return; }
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("is-selected", i === selected); });
    var link = rows[selected].querySelector("[data-item-link]");
    if (link) { link.focus(); }
  }

  var form = document.querySelector("[data-correction-form]");

  document.addEventListener("keydown", function (event) {
    if (!shortcutsOn() || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (rows.length) {
      if (key === "j") { select(selected + 1); event.preventDefault(); return; }
      if (key === "k") { select(selected - 1); event.preventDefault(); return; }
      if (key === "o" && selected >= 0) { window.location.href = rows[selected].dataset.href; return; }
      if (key === "x" && selected >= 0) {
        var tick = rows[selected].querySelector("input[type=checkbox]");
        if (tick) { tick.checked = !tick.checked; event.preventDefault(); }
        return;
      }
    }
    if (key === "/") {
      var search = document.querySelector("[data-shortcut-search]");
      if (search) { search.focus(); search.select(); event.preventDefault(); }
      return;
    }
    if (key === "u") {
      var back = document.querySelector("[data-shortcut-back]");
      if (back) { window.location.href = back.getAttribute("href"); }
      return;
    }
    if (form) {
      if (key === "s") {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        return;
      }
      var saveAndNext = form.querySelector("[data-shortcut-submit-next]");
      if (key === "n" && saveAndNext) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(saveAndNext); } else { saveAndNext.click(); }
        return;
      }
      var control = form.querySelector("[data-shortcut='" + key.replace(/'/g, "") + "']");
      if (control) {
        event.preventDefault();
        if (control.type === "radio") { control.checked = true; } else { control.checked = !control.checked; }
        control.focus();
      }
    }
  });
})();
