// Phone simulator: keep the newest text in view, as a phone does, also after the conversation refreshes.
(function () {
  "use strict";

  function scrollToNewest() {
    document.querySelectorAll("[data-conversation-screen]").forEach(function (screen) {
      screen.scrollTop = screen.scrollHeight;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollToNewest();
    var holder = document.querySelector("[data-conversation]");
    if (!holder || !holder.parentNode || !window.MutationObserver) return;
    // dashboard.js swaps the whole conversation element for a fresh one.
    new MutationObserver(scrollToNewest).observe(holder.parentNode, { childList: true });
  });
})();
