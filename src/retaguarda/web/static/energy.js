// Energy pages: the SMS code countdown (data-countdown, data-seconds, data-expired-text).
(function () {
  function tick(el) {
    let left = parseInt(el.getAttribute("data-seconds") || "0", 10);
    const show = function () {
      if (left <= 0) { el.textContent = el.getAttribute("data-expired-text") || "0:00"; return false; }
      el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      return true;
    };
    show();
    const timer = setInterval(function () { left -= 1; if (!show()) { clearInterval(timer); } }, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-countdown]").forEach(tick);
  });
})();
