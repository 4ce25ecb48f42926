/* opsdesk: live SLA countdowns, keyboard shortcuts, auto-submitting selects. No framework;
   htmx (vendored) refreshes the queue. */
(function () {
  "use strict";
  var zh = (document.body.dataset.lang || "").indexOf("zh") === 0;
  var units = zh ? { d: " 天 ", h: " 小时 ", m: " 分" } : { d: " d ", h: " h ", m: " m" };
  var words = zh ? { left: "剩余 ", over: "超时 " } : { left: " left", over: " overdue" };

  function duration(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var d = Math.floor(minutes / 1440), h = Math.floor(minutes / 60) % 24, m = minutes % 60;
    if (d) return d + units.d + h + units.h.trimEnd();
    if (h) return h + units.h + (m < 10 ? "0" : "") + m + units.m;
    return m + units.m.trimStart();
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var seconds = Math.round((due - now) / 1000);
      var text = duration(seconds);
      el.textContent = zh ? (seconds >= 0 ? words.left : words.over) + text
                          : text + (seconds >= 0 ? words.left : words.over);
      var badge = el.closest(".sla");
      if (badge && seconds < 0 && !badge.classList.contains("sla-breached")) {
        badge.classList.remove("sla-on_track", "sla-at_risk");
        badge.classList.add("sla-breached");
      }
    });
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.tickets tbody tr")); }
  var selected = -1;
  function select(i) {
    var all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r) { r.classList.remove("selected"); });
    all[selected].classList.add("selected");
    var link = all[selected].querySelector("a");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) {
      if (e.key === "Escape") t.blur();
      return;
    }
    var search = document.querySelector("[data-hotkey='/']");
    if (e.key === "/" && search) { e.preventDefault(); search.focus(); search.select(); }
    else if (e.key === "j") select(selected + 1);
    else if (e.key === "k") select(selected - 1);
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.submit();
  });
  document.addEventListener("htmx:afterSwap", function () { selected = -1; tick(); });
  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 30000);
}());
