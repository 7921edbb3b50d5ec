// NextAlerts dashboard: the few behaviours that need a script. Every page works without it.
(function () {
  "use strict";

  // Phone-sized screens: the sidebar opens from the Menu button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var sidebar = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = sidebar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // <div data-refresh-url="..." data-refresh-seconds="5">: replace the element's content with the HTML fragment
  // the URL returns, every few seconds, while the element asks for it (data-refresh-url stays set).
  function refresh(element) {
    var url = element.getAttribute("data-refresh-url");
    if (!url) return;
    var seconds = parseInt(element.getAttribute("data-refresh-seconds") || "5", 10);
    window.setTimeout(function () {
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (fresh) {
            element.replaceWith(fresh);
            refresh(fresh);
          }
        })
        .catch(function () { refresh(element); });
    }, seconds * 1000);
  }

  // <button data-copy="field-id" hidden>: copies that field's value. Hidden until this script runs, since the
  // field itself can always be selected and copied by hand.
  function copyField(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector('[data-copy-status="' + field.id + '"]');
    function done(ok) {
      if (status) status.textContent = ok ? "Copied: " + field.value : "Select the address and copy it.";
    }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () {
        done(document.execCommand("copy"));
      });
    } else {
      done(document.execCommand("copy"));
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copyField(button);
  });

  // <input data-select-on-focus>: the whole value is selected when the field gets focus, ready to copy. (A handler
  // here, not an onfocus attribute: the Content-Security-Policy runs no inline code.)
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh-url]").forEach(refresh);
    document.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  });

  window.NextAlerts = { refresh: refresh };
})();
