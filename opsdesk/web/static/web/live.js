/* opsdesk: pages that keep themselves up to date. Elements marked data-live poll the server
   with htmx (hx-trigger "every Ns, live-check"); the server answers 204 while nothing changed.
   Here: no polling while the tab is hidden (one check as soon as it shows again), a poller
   dropped once the server refuses it, and the ticket page refreshed in place when its marker
   says it changed, never discarding what the person typed. */
(function () {
  "use strict";

  function livePoller(el) { return el && el.closest ? el.closest("[data-live]") : null; }

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (document.hidden && livePoller(e.detail.elt)) e.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-live]").forEach(function (el) { htmx.trigger(el, "live-check"); });
  });
  // Signed out, or the ticket no longer readable: stop asking.
  document.addEventListener("htmx:responseError", function (e) {
    var el = livePoller(e.detail.elt);
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (el && (status === 401 || status === 403 || status === 404)) el.removeAttribute("hx-trigger");
    if (el && window.htmx) htmx.process(el);
  });

  // Has the person typed, ticked or chosen something in a form under root, or is she in one?
  function typing(root) {
    var active = document.activeElement;
    if (active && root.contains(active) && active.form) return true;
    return Array.prototype.some.call(root.querySelectorAll("input, textarea, select"), function (f) {
      if (f.type === "hidden" || f.type === "submit" || f.type === "button") return false;
      if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
      if (f.type === "file") return f.files && f.files.length > 0;
      if (f.tagName === "SELECT") {
        return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return f.value !== f.defaultValue;
    });
  }

  function openActions(root) {
    return Array.prototype.map.call(root.querySelectorAll("details[data-action][open]"),
      function (d) { return d.getAttribute("data-action"); });
  }

  // The parts of a ticket page that hold no form: what changes when others act.
  var READ_ONLY_PARTS = [".ticket-head", "section[aria-labelledby=tl]"];

  function refreshTicket(marker) {
    var main = document.getElementById("main");
    if (!main) return;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!fresh) return;
        if (!typing(main)) {
          var open = openActions(main);
          main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
          open.forEach(function (name) {
            var d = main.querySelector("details[data-action='" + name + "']");
            if (d) d.open = true;
          });
          htmx.process(main);
          document.dispatchEvent(new CustomEvent("opsdesk:refreshed"));
          return;
        }
        READ_ONLY_PARTS.forEach(function (selector) {
          var now = main.querySelector(selector), next = fresh.querySelector(selector);
          if (now && next) now.replaceWith(next);
        });
        var banner = marker.querySelector(".live-banner");
        if (banner) banner.hidden = false;
      })
      .catch(function () { /* the next tick asks again */ });
  }

  document.addEventListener("htmx:afterSwap", function () {
    var marker = document.querySelector("#ticket-live[data-changed]");
    if (!marker) return;
    marker.removeAttribute("data-changed");
    refreshTicket(marker);
  });
}());
