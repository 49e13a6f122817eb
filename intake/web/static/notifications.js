// Fills in the number beside "Notifications" in the staff header, and refreshes it every minute,
// so an emergency nobody has picked up is visible on whatever page an officer is on.
(function () {
  "use strict";
  var badge = document.querySelector("[data-notification-count]");
  if (!badge) { return; }
  function refresh() {
    fetch("/staff/notifications/count", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        badge.textContent = data.count ? String(data.count) : "";
        badge.hidden = !data.count;
      })
      .catch(function () { /* offline or signed out: leave the link as it is */ });
  }
  refresh();
  window.setInterval(refresh, 60000);
})();
