// Cash import wizard: upload progress for big files, and a busy state while a confirm runs.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-progress]");
    if (form && window.XMLHttpRequest && window.FormData) {
      form.addEventListener("submit", function (ev) {
        var bar = form.querySelector("progress");
        if (!bar) { return; }
        ev.preventDefault();
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action"));
        xhr.setRequestHeader("x-csrftoken", csrf());
        bar.hidden = false;
        form.querySelector("button[type=submit]").disabled = true;
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
        });
        xhr.addEventListener("load", function () {
          if (xhr.responseURL && xhr.responseURL.indexOf("/cash/imports/") !== -1 && xhr.status < 400) {
            window.location.assign(xhr.responseURL);
          } else {
            // Let the browser show the page that names the problem (same request, no script).
            form.removeAttribute("data-progress");
            HTMLFormElement.prototype.submit.call(form);
          }
        });
        xhr.addEventListener("error", function () { form.submit(); });
        xhr.send(new FormData(form));
      });
    }
    var busy = document.querySelector("form[data-busy]");
    if (busy) {
      busy.addEventListener("submit", function () {
        var b = busy.querySelector("button[type=submit]");
        var s = busy.querySelector(".busy");
        if (b) { b.setAttribute("aria-busy", "true"); b.disabled = true; }
        if (s) { s.hidden = false; }
      });
    }
  });
})();
