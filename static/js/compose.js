// The campaign compose form: a live count of characters and segments as you type, what the message checks found,
// the audience size as the tags change, and the "Write it for me" drafts. The count is worked out here at once (mirroring campaigns/segments.py), then replaced by the
// server's answer, which is the one that counts. Without this script the form still works.
(function () {
  "use strict";

  var SINGLE = { "GSM-7": 160, "UCS-2": 70 };
  var MULTI = { "GSM-7": 153, "UCS-2": 67 };

  function readSet(id) {
    var element = document.getElementById(id);
    return new Set(Array.from(element ? JSON.parse(element.textContent) : ""));
  }

  // Python's repr() of one character, so the reason reads the same before and after the server answers.
  function quote(char) {
    if (char === "\t") return "'\\t'";
    if (char !== " " && /[\p{C}\p{Z}]/u.test(char)) {
      var code = char.codePointAt(0);
      var hex = code.toString(16);
      if (code < 0x100) return "'\\x" + hex.padStart(2, "0") + "'";
      if (code < 0x10000) return "'\\u" + hex.padStart(4, "0") + "'";
      return "'\\U" + hex.padStart(8, "0") + "'";
    }
    return "'" + char + "'";
  }

  function pack(costs, limit) {
    var segments = 1;
    var used = 0;
    costs.forEach(function (cost) {
      if (used + cost > limit) {
        segments += 1;
        used = 0;
      }
      used += cost;
    });
    return segments;
  }

  function measure(body, hasMedia, basic, extension) {
    var chars = Array.from(body);
    var nonGsm = [];
    chars.forEach(function (char) {
      if (!basic.has(char) && !extension.has(char) && nonGsm.indexOf(char) < 0) nonGsm.push(char);
    });
    var encoding = nonGsm.length ? "UCS-2" : "GSM-7";
    var costs = chars.map(function (char) {
      if (encoding === "UCS-2") return char.codePointAt(0) > 0xffff ? 2 : 1;
      return extension.has(char) ? 2 : 1;
    });
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var segments = units <= SINGLE[encoding] ? (units ? 1 : 0) : pack(costs, MULTI[encoding]);
    var parts = [chars.length + (chars.length === 1 ? " character" : " characters")];
    if (hasMedia) {
      parts.push("MMS (picture attached)");
    } else {
      parts.push(segments + (segments === 1 ? " segment" : " segments"));
      parts.push(encoding + (nonGsm.length ? " because of " + nonGsm.map(quote).join(", ") : ""));
    }
    return parts.join(" · ");
  }

  function item(text, badge, kind) {
    var li = document.createElement("li");
    if (badge) {
      var span = document.createElement("span");
      span.className = "badge " + kind;
      span.textContent = badge;
      li.appendChild(span);
      li.appendChild(document.createTextNode(" "));
    }
    li.appendChild(document.createTextNode(text));
    return li;
  }

  // Same content as templates/dashboard/campaigns/_check.html, built from the measure endpoint's "check".
  function showCheck(element, check) {
    if (!element) return;
    element.textContent = "";
    if (!check) return;
    if (check.problems.length) {
      var head = document.createElement("p");
      head.className = "small";
      var badge = document.createElement("span");
      badge.className = "badge bad";
      badge.textContent = "Can't be sent yet";
      head.appendChild(badge);
      element.appendChild(head);
      var problems = document.createElement("ul");
      problems.className = "check-list small";
      check.problems.forEach(function (p) { problems.appendChild(item(p.message)); });
      element.appendChild(problems);
    }
    if (check.flags.length || check.notes.length) {
      var rest = document.createElement("ul");
      rest.className = "check-list small";
      check.flags.forEach(function (f) { rest.appendChild(item(f.message, "Check", "warn")); });
      check.notes.forEach(function (n) { rest.appendChild(item(n)); });
      element.appendChild(rest);
    }
  }

  function setup(form) {
    var basic = readSet("gsm-basic");
    var extension = readSet("gsm-extension");
    var body = form.querySelector("[data-compose-body]");
    var media = form.querySelector("[data-compose-media]");
    var counter = form.querySelector("[data-counter-text]");
    var note = form.querySelector("[data-counter-note]");
    var checkBox = form.querySelector("[data-check]");
    var audienceSize = document.querySelector("[data-audience-size]");
    var tags = form.querySelector("[data-compose-tags]");
    var sendAt = form.querySelector("[data-compose-send-at]");
    var launch = form.querySelector("[data-launch-button]");
    var url = form.getAttribute("data-measure-url");
    var timer = null;
    var latest = 0;

    function checked(name) {
      var input = form.querySelector("input[name='" + name + "']:checked");
      return input ? input.value : "";
    }

    function local() {
      var hasMedia = media && media.value.trim() !== "";
      counter.textContent = measure(body.value, hasMedia, basic, extension);
    }

    function ask() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var request = ++latest;
        fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) {
            if (!data || request !== latest) return;  // a newer question is on its way
            counter.textContent = data.display;
            if (note) note.textContent = data.note || "";
            showCheck(checkBox, data.check);
            if (audienceSize) audienceSize.textContent = data.audience_size;
          })
          .catch(function () { /* the local count stays; the server checks again on save */ });
      }, 400);
    }

    function layout() {
      if (tags) tags.hidden = checked("audience") !== "tags";
      var later = checked("when") === "later";
      if (sendAt) sendAt.hidden = !later;
      if (launch) launch.textContent = later ? "Schedule" : "Send now";
    }

    form.addEventListener("input", function (event) {
      if (event.target === body || event.target === media) local();
      ask();
    });
    form.addEventListener("change", function () {
      layout();
      ask();
    });
    layout();
    ask();
  }

  // "Write it for me": the panel posts its form and swaps in the answer; "Use this draft" fills the message box.
  function setupDrafts(panel, composeForm) {
    function reveal() {
      panel.querySelectorAll("[data-use-draft]").forEach(function (button) { button.hidden = false; });
    }

    panel.addEventListener("submit", function (event) {
      var draftForm = event.target.closest("[data-draft-form]");
      if (!draftForm) return;
      event.preventDefault();
      var button = draftForm.querySelector("[data-draft-submit]");
      var status = draftForm.querySelector("[data-draft-status]");
      if (button) button.disabled = true;
      if (status) status.textContent = "Writing drafts…";
      fetch(draftForm.action, {
        method: "POST",
        body: new FormData(draftForm),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var old = panel.querySelector("[data-drafts]");
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("[data-drafts]");
          if (old && fresh) old.replaceWith(fresh);
          reveal();
          var first = panel.querySelector("[data-use-draft]") || panel.querySelector("[role=alert]");
          if (first) first.focus();
        })
        .catch(function () {
          if (status) status.textContent = "That did not work; check your connection and try again.";
        })
        .finally(function () { if (button) button.disabled = false; });
    });

    panel.addEventListener("click", function (event) {
      var use = event.target.closest("[data-use-draft]");
      if (!use || !composeForm) return;
      var source = use.closest("li").querySelector("[data-draft-body]");
      var body = composeForm.querySelector("[data-compose-body]");
      if (!source || !body) return;
      body.value = source.value;
      body.dispatchEvent(new Event("input", { bubbles: true }));
      body.focus();
    });
    reveal();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-compose]").forEach(setup);
    var composeForm = document.querySelector("form[data-compose]");
    document.querySelectorAll(".write-for-me").forEach(function (panel) { setupDrafts(panel, composeForm); });
  });
})();
