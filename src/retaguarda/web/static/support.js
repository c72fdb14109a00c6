// SLA badges count down to their due time (wall clock to the business-time due instant).
(function () {
  function fmt(ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    m = m % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now, out = el.querySelector(".countdown");
      if (!out) return;
      out.textContent = left >= 0 ? "due in " + fmt(left) : "overdue " + fmt(left);
      if (left < 0 && !el.classList.contains("sla-breached")) {
        el.classList.remove("sla-ok", "sla-warning");
        el.classList.add("sla-breached");
        var state = el.querySelector(".sla-state");
        if (state) state.textContent = "breached";
      }
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
