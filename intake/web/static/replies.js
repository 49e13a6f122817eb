// Replies and closing from the keyboard (docs/workspace.md). Every page works without this file.
(function () {
  "use strict";
  if (window.intakeRepliesLoaded) { return; }  // the item page and the reply page may both include it
  window.intakeRepliesLoaded = true;

  function shortcutsOn() {
    try { return window.localStorage.getItem("intake-shortcuts-off") !== "1"; } catch (e) { return true; }
  }
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

  // The reply form: the first [prompt] is selected, so typing replaces it; Ctrl+Enter sends.
  var body = document.querySelector("[data-reply-body]");
  if (body) {
    var prompt = /\[[^\[\]\n]{1,80}\]/.exec(body.value);
    body.focus();
    if (prompt) { body.setSelectionRange(prompt.index, prompt.index + prompt[0].length); }
    body.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        var form = body.form;
        var send = form.querySelector("[data-reply-send]");
        if (form.requestSubmit) { form.requestSubmit(send); } else { send.click(); }
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!shortcutsOn() || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "w") {
      var reply = document.querySelector("[data-shortcut-reply]");
      if (reply) { event.preventDefault(); window.location.href = reply.getAttribute("href"); }
    } else if (event.key === "d") {
      var outcome = document.getElementById("outcome");  // the close form's outcome: choose, Tab, Enter
      if (outcome) { event.preventDefault(); outcome.focus(); }
    }
  });
})();
