// Small glue: copy buttons and HTMX CSRF for forms added after load.
document.addEventListener("click", function (ev) {
  const btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  navigator.clipboard.writeText(btn.getAttribute("data-copy")).then(function () {
    btn.textContent = "Copied";
  });
});
