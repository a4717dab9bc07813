// Small behaviours htmx does not cover: open dialogs swapped into #portal-modal, close buttons,
// closing the password dialog once answered, and the elapsed-seconds counter on a busy card.
(function () {
  "use strict";
  // Dialogs: showModal moves focus in and Escape closes; on closing, focus goes back to what
  // opened it, or to its card's first button when the card was re-drawn meanwhile.
  var opener = null;
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target.querySelector && event.detail.target.querySelector("dialog");
    if (event.detail.target.id === "portal-modal" && dialog && !dialog.open) {
      var from = document.activeElement;
      var card = from && from.closest && from.closest(".server-card");
      opener = {elt: from, card: card ? card.id : ""};
      dialog.addEventListener("close", giveFocusBack, {once: true});
      dialog.showModal();
    }
  });
  function focusLost() {
    return !document.activeElement || document.activeElement === document.body;
  }
  function focusInCard(cardId) {
    var card = cardId && document.getElementById(cardId);
    var target = card && card.querySelector("button, a[href]");
    if (target) target.focus();
  }
  function giveFocusBack() {
    var back = opener;
    opener = null;
    if (!back) return;
    // a card re-drawn meanwhile has the same button under the same id
    var again = back.elt && back.elt.id && document.getElementById(back.elt.id);
    if (back.elt && back.elt.isConnected) back.elt.focus();
    else if (again) again.focus();
    else if (focusLost()) focusInCard(back.card);
  }
  // A card swapped while focus was in it (its button gone with the new state): focus stays in
  // the card, on its first button, instead of falling to the top of the page.
  var focusedCard = "";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var card = active && active.closest && active.closest(".server-card");
    focusedCard = card && event.detail.target.contains(card) ? card.id : "";
  });
  // Card changes are announced: the card is swapped whole, so its own status is a new element
  // that screen readers do not follow; one live region that stays on the page says it.
  var cardStates = {};
  function noteCards(root, announce) {
    if (!root.querySelectorAll) return;
    var cards = root.matches(".server-card") ? [root] : root.querySelectorAll(".server-card");
    Array.prototype.forEach.call(cards, function (card) {
      var status = card.querySelector("[role=status]");
      var before = cardStates[card.id];
      cardStates[card.id] = card.dataset.state;
      var announcer = document.getElementById("portal-announcer");
      if (announce && before && before !== card.dataset.state && status && announcer) {
        announcer.textContent = card.getAttribute("aria-label") + ": " + status.textContent.trim();
      }
      // "Server x added; it is starting." holds only while that card starts: the card says
      // the rest (running, or why it failed).
      if (card.dataset.server && card.dataset.state !== "starting") {
        document.querySelectorAll("[data-added-server]").forEach(function (notice) {
          if (notice.dataset.addedServer === card.dataset.server) notice.remove();
        });
      }
    });
  }
  noteCards(document.body, false);
  document.addEventListener("htmx:load", function (event) { noteCards(event.detail.elt, true); });
  document.addEventListener("htmx:afterSettle", function () {
    if (focusedCard && focusLost()) focusInCard(focusedCard);
    focusedCard = "";
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
  // `users-changed` names the users whose rows changed ("," when accounts or groups did): the
  // user table reloads only if it shows one of them, or orders or filters by servers' state
  // (data-live="all"); 500 open admin pages reloading on every change cost the hub more than
  // polling (docs/benchmarks.md, section 15).
  window.portalTableAffected = function (data) {
    var table = document.getElementById("user-table");
    var names = String(data || ",").split(" ");
    if (!table || table.dataset.live !== "rows" || names.indexOf(",") >= 0) { return true; }
    return names.some(function (name) {
      return table.querySelector('tr[data-user="' + CSS.escape(name) + '"]') !== null;
    });
  };
  // An address of the one long admin page of before (/hub/portal/admin#admin-audit) leads to
  // that section's own page; the sidebar lists the old ids (portal/views/admin_pages.py).
  var adminNav = document.querySelector("nav[data-old-anchors]");
  var home = adminNav && adminNav.querySelector("a");
  if (home && location.hash && location.pathname.replace(/\/$/, "") === home.pathname) {
    var slug = JSON.parse(adminNav.dataset.oldAnchors)[location.hash.slice(1)];
    if (slug) location.replace(home.pathname + "/" + slug + location.search);
  }
})();
