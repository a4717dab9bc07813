// Broadcast composer: a live count of characters as a person counts them (grapheme clusters,
// like the server's check), the preview of the chosen type, and the fields each choice needs.
// Delegated from the document, so it works for a composer that htmx swaps in later.
(function () {
  "use strict";
  if (window.dshubBroadcast) return; // the section may be loaded twice
  window.dshubBroadcast = true;

  var segmenter = window.Intl && Intl.Segmenter
    ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function count(text) {
    if (!segmenter) return Array.from(text).length; // code points: a composed emoji counts as several
    return Array.from(segmenter.segment(text)).length;
  }

  function update(form) {
    var box = form.querySelector("textarea[name=message]");
    var counter = form.querySelector("[data-broadcast-count]");
    var preview = form.querySelector("[data-broadcast-preview]");
    if (!box || !counter) return;
    var text = box.value.trim(); // the server strips surrounding spaces before counting
    var max = Number(box.dataset.max || 140);
    var n = count(text);
    counter.textContent = n > max
      ? n + " / " + max + " characters: " + (n - max) + " too many"
      : n + " / " + max + " characters";
    counter.classList.toggle("over", n > max);
    box.setAttribute("aria-invalid", n > max ? "true" : "false");
    if (preview) {
      var checked = form.querySelector("input[name=type]:checked");
      var type = checked ? checked.value : "info";
      Array.from(preview.classList).forEach(function (c) {
        if (c.indexOf("toast-") === 0) preview.classList.remove(c);
      });
      preview.classList.add("toast-" + type);
      var out = preview.querySelector("[data-preview-text]");
      out.textContent = text || out.dataset.placeholder; // text, never markup
    }
    var mode = form.querySelector("input[name=recipients]:checked");
    form.querySelectorAll("[data-recipients-for]").forEach(function (el) {
      el.hidden = !mode || el.dataset.recipientsFor !== mode.value;
    });
  }

  function formOf(el) {
    return el && el.closest ? el.closest("form[data-broadcast-form]") : null;
  }

  function onChange(event) {
    var form = formOf(event.target);
    if (!form) return;
    // Typing in a seconds box or picking a user implies the matching choice.
    if (event.target.name === "auto_close_seconds") {
      form.querySelector("input[name=auto_close][value=after]").checked = true;
    }
    // A refusal shown for the previous attempt no longer applies once the form changes.
    var refusal = document.querySelector("#broadcast-result .portal-error");
    if (refusal) refusal.remove();
    if (event.target.name === "users" || event.target.name === "groups") {
      form.querySelector("input[name=recipients][value=" + event.target.name + "]").checked = true;
    }
    update(form);
  }
  document.addEventListener("input", onChange);
  document.addEventListener("change", onChange);
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("form[data-broadcast-form]").forEach(update);
  });
  // After a successful send, clear the message so it is not sent twice by accident.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = formOf(event.detail.elt);
    if (form && event.detail.successful && form === event.detail.elt) {
      form.querySelector("textarea[name=message]").value = "";
      update(form);
    }
  });
  document.querySelectorAll("form[data-broadcast-form]").forEach(update);
})();
