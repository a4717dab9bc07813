// Small behaviours htmx does not cover: open dialogs swapped into #portal-modal, close buttons,
// closing the password dialog once answered, and the elapsed-seconds counter on a busy card.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target.querySelector && event.detail.target.querySelector("dialog");
    if (event.detail.target.id === "portal-modal" && dialog && !dialog.open) dialog.showModal();
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });
  // The password dialog (sudo mode) closes once the action it sent again succeeded; a refusal
  // shows inside it (#sudo-error), a wrong password brings a fresh dialog.
  document.addEventListener("htmx:afterRequest", function (event) {
    var dialog = event.detail.elt.closest && event.detail.elt.closest("dialog[data-sudo]");
    var xhr = event.detail.xhr;
    if (dialog && dialog.open && xhr && xhr.status < 400) {
      dialog.close();
    }
  });
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".elapsed[data-since]").forEach(function (el) {
      var s = Math.max(0, Math.round(now - Number(el.dataset.since)));
      el.textContent = " (" + s + " s)";
    });
  }
  setInterval(tick, 1000);
  // Pushed updates: while the page's event stream is open, cards and tables do not poll; when
  // it drops (the extension reconnects by itself), they fall back to slow polling, quietly.
  var streamOpen = false;
  window.portalStreamDown = function () { return !streamOpen; };
  document.addEventListener("htmx:sseOpen", function () { streamOpen = true; });
  document.addEventListener("htmx:sseError", function () { streamOpen = false; });
  document.addEventListener("htmx:sseClose", function () { streamOpen = false; });
  document.addEventListener("htmx:afterSettle", tick);
  // An address of the one long admin page of before (/hub/portal/admin#admin-audit) leads to
  // that section's own page; the sidebar lists the old ids (portal/views/admin_pages.py).
  var adminNav = document.querySelector("nav[data-old-anchors]");
  var home = adminNav && adminNav.querySelector("a");
  if (home && location.hash && location.pathname.replace(/\/$/, "") === home.pathname) {
    var slug = JSON.parse(adminNav.dataset.oldAnchors)[location.hash.slice(1)];
    if (slug) location.replace(home.pathname + "/" + slug + location.search);
  }
})();
