// The cookie banner without a page load: the same POST the plain form makes, then the banner goes away. Accepting
// analytics reloads, so the server (which alone decides) renders the analytics script.
(function () {
  document.querySelectorAll("[data-cookie-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch) return;
      event.preventDefault();
      var fallback = function () {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "choice";
        input.value = button.value;
        form.appendChild(input);
        form.submit();
      };
      var body = new FormData(form);
      body.set("choice", button.value);
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.status !== 204) { fallback(); return; }
          if (button.value === "analytics") { window.location.reload(); return; }
          var banner = form.closest("[data-cookie-banner]");
          if (banner) banner.remove();
        })
        .catch(fallback);
    });
  });
})();
