// Hydra dashboard: swap in each section the server pushes (server-sent events). Without this
// script the page still shows everything as of its load, and its forms still work.
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
})();
