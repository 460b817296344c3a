// Hydra dashboard: swap in each section the server pushes (server-sent events), and keep the
// banner's exchange clock and each ladder's countdown running between pushes. Without this script the page still shows
// everything as of its load, and its forms still work.
"use strict";
(function () {
  const stream = new EventSource("events");
  stream.addEventListener("sections", function (event) {
    const sections = JSON.parse(event.data);
    for (const id of Object.keys(sections)) {
      const element = document.getElementById(id);
      if (element !== null) {
        element.innerHTML = sections[id];
      }
    }
    document.body.dataset.updated = String(Date.now());
  });

  // The clock as the server drew it, moved on by the time since: "2026-03-02 08:30:05 CST".
  function tick() {
    const clock = document.querySelector("#banner time");
    if (clock === null) {
      return;
    }
    if (clock.dataset.drawnAt === undefined) {
      clock.dataset.drawnAt = String(Date.now());
    }
    const moment = new Date(Date.parse(clock.dateTime) + Date.now() - Number(clock.dataset.drawnAt));
    const shown = new Intl.DateTimeFormat("sv-SE", {
      timeZone: clock.dataset.zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    }).format(moment);
    clock.textContent = shown + " " + clock.textContent.split(" ").pop();
  }

  // Each "12 s" countdown (data-left: seconds when drawn), moved on toward zero.
  function countDown() {
    for (const element of document.querySelectorAll("[data-left]")) {
      if (element.dataset.drawnAt === undefined) {
        element.dataset.drawnAt = String(Date.now());
      }
      const passed = (Date.now() - Number(element.dataset.drawnAt)) / 1000;
      element.textContent = Math.max(0, Math.round(Number(element.dataset.left) - passed)) + " s";
    }
  }
  window.setInterval(function () { tick(); countDown(); }, 1000);
})();
