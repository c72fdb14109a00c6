// Small glue (no inline handlers: our CSP allows scripts from 'self' only).
// Copy buttons: data-copy="text" or data-copy-from="id of an input/element"; data-copied-text says so.
document.addEventListener("click", function (ev) {
  const btn = ev.target.closest("[data-copy], [data-copy-from]");
  if (!btn) return;
  let text = btn.getAttribute("data-copy");
  if (text === null) {
    const src = document.getElementById(btn.getAttribute("data-copy-from"));
    text = src ? (src.value !== undefined && src.value !== "" ? src.value : src.textContent) : "";
  }
  const done = function () {
    const old = btn.textContent;
    btn.textContent = btn.getAttribute("data-copied-text") || "Copied";
    setTimeout(function () { btn.textContent = old; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () {});
  } else {
    const area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* nothing to copy to */ }
    area.remove();
  }
});
// A control marked data-autosubmit submits its form when it changes (a real submit event, so an
// hx-post form goes through HTMX and a plain one navigates).
document.addEventListener("change", function (ev) {
  const control = ev.target.closest("[data-autosubmit]");
  if (control && control.form) control.form.requestSubmit();
});
