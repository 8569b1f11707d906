// Live updates for a run page: the run's event stream (Server-Sent Events), or, where the
// stream is not available (API Gateway buffers a Lambda's answer), a poll of its version.
// When the run moves on, the page reloads unless someone is typing in a form; then a notice
// asks them to reload. No inline script: the page's Content-Security-Policy forbids it.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.live !== "true") { return; }
  var id = root.dataset.runId;
  var version = Number(root.dataset.version);
  var editing = false;
  document.addEventListener("input", function () { editing = true; });
  function moved(v) {
    if (v <= version) { return; }
    if (editing) {
      document.getElementById("changed").hidden = false;
    } else {
      window.location.reload();
    }
  }
  function poll() {
    setInterval(function () {
      fetch("/console/runs/" + id + "/version", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) { moved(j.version); } })
        .catch(function () {});
    }, 3000);
  }
  if (!window.EventSource) { poll(); return; }
  var events = new EventSource("/console/runs/" + id + "/events");
  var heard = false;
  ["checkpoint", "gate", "end"].forEach(function (name) {
    events.addEventListener(name, function (e) {
      heard = true;
      try { var d = JSON.parse(e.data); if (d.version) { moved(d.version); } } catch (_) {}
      if (name === "end") { events.close(); }
    });
  });
  events.onerror = function () {
    if (!heard) { events.close(); poll(); }
  };
})();
