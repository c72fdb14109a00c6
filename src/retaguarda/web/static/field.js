// The technician's day: completion that survives a lost connection, materials rows, photos and
// the customer's signature. No inline handlers (CSP): everything is wired here.
//
// A completion is kept in localStorage with its Idempotency-Key before it is sent; when the send
// fails for lack of connection it stays queued and is sent again when the browser is back online
// (or the page is opened again). The server applies one completion per key, so a repeat is harmless.
(function () {
  "use strict";
  var QUEUE = "rg-field-outbox";
  var DRAFT = "rg-field-draft-";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }
  function text(key) {
    var t = document.querySelector("template[data-i18n]");
    return t ? t.getAttribute("data-" + key) || "" : "";
  }
  function banner(message) {
    var el = document.querySelector("[data-offline-banner]");
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function load(name, fallback) {
    try { return JSON.parse(localStorage.getItem(name) || "null") || fallback; } catch (e) { return fallback; }
  }
  function save(name, value) { localStorage.setItem(name, JSON.stringify(value)); }

  function queued() { return load(QUEUE, {}); }
  function enqueue(orderId, entry) { var q = queued(); q[orderId] = entry; save(QUEUE, q); }
  function dequeue(orderId) { var q = queued(); delete q[orderId]; save(QUEUE, q); }

  function send(orderId, entry) {
    return fetch("/field/orders/" + encodeURIComponent(orderId) + "/complete", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "x-csrftoken": csrf(), "Idempotency-Key": entry.key},
      body: JSON.stringify(entry.body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return {status: r.status, data: data}; });
    });
  }

  function flush() {
    var q = queued(), ids = Object.keys(q);
    if (!ids.length) return Promise.resolve();
    if (!navigator.onLine) { banner(text("offline")); return Promise.resolve(); }
    banner(text("sending"));
    return ids.reduce(function (chain, id) {
      return chain.then(function () {
        return send(id, q[id]).then(function (res) {
          if (res.status === 200 || res.status === 409) {
            dequeue(id);
            localStorage.removeItem(DRAFT + id);
            return true;
          }
          dequeue(id);
          var form = document.querySelector('[data-complete-form][data-order="' + id + '"]');
          showErrors(form, res.data);
          return false;
        }, function () { banner(text("offline")); throw new Error("offline"); });
      });
    }, Promise.resolve()).then(function () {
      banner("");
      window.location.reload();
    }, function () {});
  }

  function showErrors(form, data) {
    if (!form) return;
    var box = form.querySelector("[data-form-error]");
    var errors = (data && data.errors) || {};
    var lines = Object.keys(errors).map(function (k) { return errors[k]; });
    if (data && data.message) lines.push(data.message);
    box.textContent = text("failed") + " " + lines.join(" · ");
    box.hidden = false;
    banner("");
  }

  function materialRow(form, values) {
    var tpl = form.querySelector("[data-material-template]");
    var row = tpl.content.firstElementChild.cloneNode(true);
    Object.keys(values || {}).forEach(function (k) {
      var input = row.querySelector('[name="' + k + '"]');
      if (input) input.value = values[k];
    });
    form.querySelector("[data-material-rows]").appendChild(row);
    return row;
  }

  function collect(form, pad) {
    var checklist = [];
    form.querySelectorAll('input[name="check"]').forEach(function (c) {
      checklist.push({item: c.value, done: c.checked});
    });
    var materials = [];
    form.querySelectorAll("[data-material]").forEach(function (row) {
      var m = {};
      row.querySelectorAll("input").forEach(function (i) { m[i.name] = i.value.trim(); });
      if (m.sku) materials.push(m);
    });
    var body = {checklist: checklist, materials: materials, notes: form.querySelector('[name="notes"]').value};
    if (pad && !pad.isEmpty()) body.signature = pad.toDataURL("image/png");
    return body;
  }

  function keepDraft(form, pad) {
    var id = form.getAttribute("data-order");
    save(DRAFT + id, collect(form, pad));
  }

  function restore(form, pad) {
    var draft = load(DRAFT + form.getAttribute("data-order"), null);
    if (!draft) return;
    (draft.checklist || []).forEach(function (c) {
      form.querySelectorAll('input[name="check"]').forEach(function (box) {
        if (box.value === c.item) box.checked = !!c.done;
      });
    });
    (draft.materials || []).forEach(function (m) { materialRow(form, m); });
    form.querySelector('[name="notes"]').value = draft.notes || "";
    if (draft.signature && pad) pad.fromDataURL(draft.signature);
  }

  function setupPad(form) {
    var canvas = form.querySelector("[data-signature-pad]");
    if (!canvas || !window.SignaturePad) return null;
    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad && !pad.isEmpty() ? pad.toData() : null;
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      if (pad) { pad.clear(); if (data) pad.fromData(data); }
    }
    var pad = new window.SignaturePad(canvas, {backgroundColor: "rgb(255,255,255)"});
    resize();
    window.addEventListener("resize", resize);
    pad.addEventListener("endStroke", function () { keepDraft(form, pad); });
    form.querySelector("[data-clear-signature]").addEventListener("click", function () {
      pad.clear();
      keepDraft(form, pad);
    });
    return pad;
  }

  function setupPhotos(form) {
    var input = form.querySelector("[data-photo-input]");
    var status = form.querySelector("[data-photo-status]");
    if (!input) return;
    input.addEventListener("change", function () {
      if (!input.files || !input.files[0]) return;
      var data = new FormData();
      data.append("file", input.files[0]);
      fetch("/field/orders/" + encodeURIComponent(form.getAttribute("data-order")) + "/photos", {
        method: "POST", credentials: "same-origin", headers: {"x-csrftoken": csrf()}, body: data
      }).then(function (r) {
        status.textContent = r.ok ? text("photo-sent") : text("photo-failed");
        if (r.ok) input.value = "";
      }, function () { status.textContent = text("photo-failed"); });
    });
  }

  function setup(form) {
    var pad = setupPad(form);
    restore(form, pad);
    setupPhotos(form);
    form.querySelector("[data-add-material]").addEventListener("click", function () {
      materialRow(form, {}).querySelector("input").focus();
    });
    form.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-remove-material]");
      if (btn) { btn.closest("[data-material]").remove(); keepDraft(form, pad); }
    });
    form.addEventListener("input", function () { keepDraft(form, pad); });
    form.addEventListener("change", function () { keepDraft(form, pad); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var id = form.getAttribute("data-order");
      var existing = queued()[id];
      var entry = {key: existing ? existing.key : newKey(), body: collect(form, pad)};
      enqueue(id, entry);
      form.querySelector('[type="submit"]').disabled = true;
      flush().then(function () { form.querySelector('[type="submit"]').disabled = false; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-complete-form]").forEach(setup);
    if (Object.keys(queued()).length) flush();
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    if (Object.keys(queued()).length) banner(text("offline"));
  });
})();
