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
// One-shot messages arrive as ?saved=1, ?created=1, ?notice=…: once shown, drop them from the
// address so a reload (or a bookmark) does not show them again.
(function () {
  const ONE_SHOT = ["created", "saved", "done", "uploaded", "notice", "error", "deleted", "sent"];
  const url = new URL(window.location.href);
  let changed = false;
  ONE_SHOT.forEach(function (key) {
    if (url.searchParams.has(key)) { url.searchParams.delete(key); changed = true; }
  });
  if (changed) {
    const query = url.searchParams.toString();
    window.history.replaceState(window.history.state, "", url.pathname + (query ? "?" + query : "") + url.hash);
  }
})();
// Collapsing menu on narrow screens: the toggle opens and closes the navigation.
document.addEventListener("click", function (ev) {
  const toggle = ev.target.closest("[data-menu-toggle]");
  if (toggle) {
    const menu = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) menu.classList.toggle("open", open);
    return;
  }
  // A dropdown (<details data-close-outside>) closes when one clicks elsewhere.
  document.querySelectorAll("details[data-close-outside][open]").forEach(function (d) {
    if (!d.contains(ev.target)) d.removeAttribute("open");
  });
});
document.addEventListener("keydown", function (ev) {
  if (ev.key !== "Escape") return;
  document.querySelectorAll("details[data-close-outside][open]").forEach(function (d) { d.removeAttribute("open"); });
});
// Tables become stacked cards on a phone (CSS): every cell is labelled with its column's header.
function labelTableCells(root) {
  (root || document).querySelectorAll("table").forEach(function (table) {
    const heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) return;
    table.classList.add("stackable");
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      let col = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute("data-label") && heads[col]) cell.setAttribute("data-label", heads[col]);
        col += cell.colSpan || 1;
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { labelTableCells(document); });
document.addEventListener("htmx:afterSwap", function (ev) { labelTableCells(ev.target); });
// Repeating rows (invoice items): data-add-row clones the last [data-row] of the form's [data-rows]
// with empty values and the next index in its field names; data-remove-row removes its row.
document.addEventListener("click", function (ev) {
  const add = ev.target.closest("[data-add-row]");
  if (add) {
    const box = add.closest("form").querySelector("[data-rows]");
    const rows = box.querySelectorAll("[data-row]");
    const last = rows[rows.length - 1];
    const copy = last.cloneNode(true);
    const next = rows.length;
    copy.querySelectorAll("input, select, textarea").forEach(function (field) {
      field.name = field.name.replace(/-(\d+)-/, "-" + next + "-");
      field.value = field.name.endsWith("-quantity") ? "1" : "";
      field.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    box.appendChild(copy);
    const first = copy.querySelector("input");
    if (first) first.focus();
    return;
  }
  const remove = ev.target.closest("[data-remove-row]");
  if (remove) {
    const box = remove.closest("[data-rows]");
    if (box && box.querySelectorAll("[data-row]").length > 1) remove.closest("[data-row]").remove();
  }
});
// Lookups that fill a form from one field: the CEP (address) and the CNPJ (company data).
(function () {
  // One lookup: the status element's data-loading/-found/-notfound/-down texts say how it goes,
  // the field is busy meanwhile, and a found answer goes to `fill(form, found)`.
  function lookupInto(input, statusSelector, url, fill) {
    const form = input.form;
    const status = form.querySelector(statusSelector);
    const say = function (key, cls) {
      if (!status) return;
      status.textContent = status.getAttribute("data-" + key) || "";
      status.className = "cep-status " + (cls || "");
    };
    say("loading");
    input.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 404) { say("notfound", "field-error"); return null; }
        if (!r.ok) { say("down", "field-error"); return null; }
        return r.json();
      })
      .then(function (found) {
        if (!found) return;
        say("found", "hint-ok");
        fill(form, found);
      })
      .catch(function () { say("down", "field-error"); })
      .finally(function () { input.removeAttribute("aria-busy"); });
  }

  // Address from the CEP (GET /api/v1/cep/{cep}: BrasilAPI, then ViaCEP, cached): street,
  // district, city, UF and IBGE code; the number stays to type.
  const CEP_FIELDS = { street: "address.street", district: "address.district", city: "address.city",
                       uf: "address.uf", ibge_code: "address.ibge_code" };
  let lastCep = "";
  function cepLookup(input) {
    const digits = (input.value || "").replace(/\D/g, "");
    if (digits.length !== 8 || digits === lastCep) return;
    lastCep = digits;
    input.value = digits.slice(0, 5) + "-" + digits.slice(5);
    lookupInto(input, "[data-cep-status]", "/api/v1/cep/" + digits, function (form, found) {
      Object.keys(CEP_FIELDS).forEach(function (key) {
        const field = form.querySelector('[name="' + CEP_FIELDS[key] + '"]');
        if (field && found[key]) field.value = found[key];
      });
      const number = form.querySelector('[name="address.number"]');
      if (number && !number.value) number.focus();
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-cep-lookup]")) cepLookup(ev.target);
  });
  document.addEventListener("input", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-cep-lookup]") &&
        (ev.target.value || "").replace(/\D/g, "").length === 8) cepLookup(ev.target);
  });

  // Company data from the CNPJ (GET /api/v1/cnpj/lookup/{cnpj}: the CNPJ context's cache and
  // provider chain; nothing recorded): name, kind and address. A field is filled only when it is
  // empty or was filled by an earlier lookup, so what the user typed is kept. With a CEP but no
  // IBGE code, the CEP lookup completes it.
  const CNPJ_FIELDS = { cep: "address.cep", street: "address.street", number: "address.number",
                        complement: "address.complement", district: "address.district", city: "address.city",
                        uf: "address.uf", ibge_code: "address.ibge_code" };
  let lastCnpj = "";
  function put(field, value) {
    if (!field || !value) return;
    if (field.value && !field.hasAttribute("data-autofilled")) return;
    field.value = value;
    field.setAttribute("data-autofilled", "");
  }
  function cnpjLookup(input) {
    const cnpj = (input.value || "").toUpperCase().replace(/[^0-9A-Z]/g, "");
    if (cnpj.length !== 14 || cnpj === lastCnpj) return;
    lastCnpj = cnpj;
    lookupInto(input, "[data-cnpj-status]", "/api/v1/cnpj/lookup/" + cnpj, function (form, found) {
      put(form.querySelector('[name="name"]'), found.razao_social || found.nome_fantasia);
      const company = form.querySelector('input[name="kind"][value="company"]');
      if (company) company.checked = true;
      const address = found.address || {};
      if (address.cep && address.cep.length === 8) address.cep = address.cep.slice(0, 5) + "-" + address.cep.slice(5);
      Object.keys(CNPJ_FIELDS).forEach(function (key) {
        put(form.querySelector('[name="' + CNPJ_FIELDS[key] + '"]'), address[key]);
      });
      const cep = form.querySelector("[data-cep-lookup]");
      const ibge = form.querySelector('[name="address.ibge_code"]');
      if (cep && cep.value && ibge && !ibge.value) cep.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  ["change", "input"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      if (ev.target.matches && ev.target.matches("[data-cnpj-lookup]")) cnpjLookup(ev.target);
    });
  });
})();
