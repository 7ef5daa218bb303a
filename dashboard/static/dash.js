// The dashboard's only script. Pages work without it (a live page then
// reloads itself every few seconds); with it, a live part of a page
// (#live, data-src = its fragment's URL, data-kinds = the announcements
// that change it) is re-fetched when the hub announces a change by
// server-sent events, and roll-call ticks are sent without a reload.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var auto = { 'X-Dashboard-Refresh': '1' };
  var pending = null;
  var running = false;
  var again = false;

  function refresh() {
    if (running) { again = true; return; }
    running = true;
    fetch(live.dataset.src, { headers: auto, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          live.innerHTML = html;
          live.dataset.updated = String(Date.now());
        }
      })
      .catch(function () {})
      .then(function () {
        running = false;
        if (again) { again = false; refresh(); }
      });
  }

  function schedule() {
    if (pending) { return; }
    pending = window.setTimeout(function () { pending = null; refresh(); }, 50);
  }

  if (live && window.EventSource) {
    var es = new EventSource('/dashboard/events');
    (live.dataset.kinds || 'visit').split(' ').forEach(function (k) {
      es.addEventListener(k, schedule);
    });
    es.addEventListener('open', function () { live.dataset.listening = '1'; });
  }

  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (!live || !f.classList || !f.classList.contains('tick')) { return; }
    e.preventDefault();
    fetch(f.action, { method: 'POST', body: new URLSearchParams(new FormData(f)), headers: auto, credentials: 'same-origin' })
      .then(refresh, refresh);
  });

  var pb = document.getElementById('print-button');
  if (pb) { pb.addEventListener('click', function () { window.print(); }); }
})();
