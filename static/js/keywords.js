// Live checklists for texts a business writes itself (a keyword's confirmation, the HELP reply): tick off the
// required parts while the text is typed. The server sends the list (data-requirements) and checks the text again on
// save; this only helps the writer see what is missing.
(function () {
  "use strict";

  function met(requirement, text) {
    if (requirement.max) return text.length <= requirement.max;
    if (requirement.text) return text.toLowerCase().indexOf(requirement.text.toLowerCase()) !== -1;
    try {
      return new RegExp(requirement.pattern, requirement.flags || "").test(text);
    } catch (error) {
      return true; // a pattern this browser cannot read is left to the server
    }
  }

  function setUp(box) {
    var field = document.getElementById(box.getAttribute("data-target"));
    var list = box.querySelector("ul");
    var blankNote = box.querySelector("[data-blank-note]");
    var requirements;
    try {
      requirements = JSON.parse(box.getAttribute("data-requirements") || "[]");
    } catch (error) {
      return;
    }
    if (!field || !list) return;
    var items = requirements.map(function (requirement) {
      var item = document.createElement("li");
      list.appendChild(item);
      return { requirement: requirement, element: item };
    });

    function update() {
      var text = field.value.trim();
      if (blankNote) blankNote.hidden = text !== "";
      items.forEach(function (entry) {
        // Blank means the standard text, which has everything unless the server says it lacks this part.
        var ok = text === "" ? !entry.requirement.blank_missing : met(entry.requirement, text);
        entry.element.className = ok ? "present" : "missing";
        entry.element.textContent = (ok ? "\u2713 " : "\u2717 Missing: ") + entry.requirement.label;
      });
    }

    box.hidden = false;
    field.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-confirmation-check], [data-text-check]").forEach(setUp);
  });
})();
