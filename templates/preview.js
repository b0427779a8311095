// The preview page's script (the email frames themselves run none).
// 1. Reload when the templates change: poll the version URL once a second.
// 2. Size each frame to its content and report any element wider than the frame, in
//    the frame's caption and as data attributes (read by the layout test).
(function () {
  "use strict";
  var body = document.body;

  function describe(element) {
    var name = element.tagName.toLowerCase();
    if (element.className && typeof element.className === "string") {
      name += "." + element.className.trim().split(/\s+/).join(".");
    }
    return name;
  }

  function overflowing(frame) {
    var doc = frame.contentDocument;
    if (!doc || !doc.documentElement || !doc.body) {
      return null;
    }
    // Grow the frame to its content first, so no scrollbar narrows the viewport.
    frame.style.height = Math.max(doc.documentElement.scrollHeight, 200) + "px";
    var root = doc.documentElement;
    var bounds = root.getBoundingClientRect();
    var found = [];
    if (root.scrollWidth > root.clientWidth + 1) {
      found.push("page " + root.scrollWidth + "px");
    }
    var elements = doc.body.querySelectorAll("*");
    for (var i = 0; i < elements.length; i++) {
      var box = elements[i].getBoundingClientRect();
      if (box.width > 0 && (box.right > bounds.right + 1 || box.left < bounds.left - 1)) {
        found.push(describe(elements[i]) + " " + Math.round(box.width) + "px");
      }
    }
    return found;
  }

  function check() {
    var frames = document.querySelectorAll("iframe[data-width]");
    var overall = "ok";
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      var output = document.getElementById("layout-" + frame.dataset.width);
      var found = overflowing(frame);
      if (found === null) {
        overall = "error";
        continue;
      }
      if (output) {
        output.dataset.viewport = String(frame.contentDocument.documentElement.clientWidth);
        output.dataset.overflow = found.length ? "1" : "0";
        output.textContent = found.length
          ? "overflows: " + found.slice(0, 5).join(", ")
          : "fits, nothing overflows";
      }
      if (found.length) {
        overall = "overflow";
      }
    }
    if (body.dataset.layout !== "none") {
      body.dataset.layout = overall;
    }
  }

  function poll() {
    var url = body.dataset.versionUrl;
    if (!url || !window.fetch) {
      return;
    }
    window.setInterval(function () {
      fetch(url, { cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (version) {
          version = version.trim();
          if (version && version !== body.dataset.version) {
            window.location.reload();
          }
        })
        .catch(function () {});
    }, 1000);
  }

  if (document.readyState === "complete") {
    check();
  } else {
    window.addEventListener("load", check);
  }
  poll();
})();
