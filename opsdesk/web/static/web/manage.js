/* The duty roster: drag a person onto a shift to give it to them (its pick form is submitted),
   or onto an uncovered period to plan a shift for them there (the plan form is filled and
   submitted). Picking from the lists does the same without a mouse. */
(function () {
  "use strict";
  var dragged = null;

  document.addEventListener("dragstart", function (e) {
    var person = e.target.closest && e.target.closest("[data-engineer]");
    if (!person) return;
    dragged = person.getAttribute("data-engineer");
    e.dataTransfer.setData("text/plain", dragged);
    e.dataTransfer.effectAllowed = "copy";
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
  });

  function target(e) { return e.target.closest && e.target.closest("[data-drop]"); }

  document.addEventListener("dragover", function (e) {
    var where = target(e);
    if (!where || dragged === null) return;
    e.preventDefault();
    where.classList.add("drop-here");
  });
  document.addEventListener("dragleave", function (e) {
    var where = target(e);
    if (where && !where.contains(e.relatedTarget)) where.classList.remove("drop-here");
  });
  document.addEventListener("drop", function (e) {
    var where = target(e);
    var engineer = e.dataTransfer.getData("text/plain") || dragged;
    if (!where || !engineer) return;
    e.preventDefault();
    if (where.getAttribute("data-drop") === "shift") {
      var select = where.querySelector("select[name=engineer]");
      select.value = engineer;
      select.form.submit();
      return;
    }
    var plan = document.getElementById("plan");
    plan.querySelector("[name=starts_at]").value = where.getAttribute("data-starts");
    plan.querySelector("[name=ends_at]").value = where.getAttribute("data-ends");
    plan.querySelector("[name=engineer]").value = engineer;
    plan.submit();
  });
}());
