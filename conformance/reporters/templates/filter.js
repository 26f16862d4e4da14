(function () {
  "use strict";
  var form = document.getElementById("filter");
  var reqs = Array.prototype.slice.call(document.querySelectorAll("details.req"));
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    for (; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  if (!form) return;
  var count = form.querySelector(".count");
  function contains(text, q) {
    return text.toLowerCase().indexOf(q) >= 0;
  }
  function apply() {
    var q = form.elements.q.value.trim().toLowerCase();
    var sev = form.elements.severity.value;
    var level = form.elements.level.value;
    var notMet = form.elements.notmet.checked;
    var narrowing = q !== "" || sev !== "";
    var shownReqs = 0, shownFindings = 0;
    reqs.forEach(function (req) {
      var show = (!level || req.dataset.level === level) && (!notMet || req.dataset.met === "0");
      var headMatch = q === "" || contains(req.querySelector("summary").textContent, q);
      var visible = 0;
      req.querySelectorAll(".code-group").forEach(function (group) {
        var groupMatch = headMatch || contains(group.dataset.code, q);
        var inGroup = 0;
        group.querySelectorAll("tr.finding").forEach(function (row) {
          var ok = (!sev || row.dataset.severity === sev) &&
            (groupMatch || contains(row.textContent, q));
          row.hidden = !ok;
          if (ok) inGroup += 1;
        });
        group.hidden = narrowing && inGroup === 0 && !(groupMatch && !sev);
        visible += inGroup;
      });
      if (show && narrowing) show = visible > 0 || (headMatch && !sev);
      req.hidden = !show;
      if (show && narrowing && visible > 0 && !req.open) {
        req.open = true;
        req.dataset.auto = "1";
      } else if (!narrowing && req.dataset.auto) {
        req.open = false;
        delete req.dataset.auto;
      }
      if (show) {
        shownReqs += 1;
        shownFindings += visible;
      }
    });
    count.textContent = "Showing " + shownReqs + " of " + reqs.length + " requirements and " +
      shownFindings + " finding examples.";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-open]");
    if (!button) return;
    var open = button.dataset.open === "1";
    reqs.forEach(function (req) {
      if (!req.hidden) req.open = open;
      delete req.dataset.auto;
    });
  });
  form.hidden = false;
  apply();
})();
