// Chunked, resumable evidence upload (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var form = document.getElementById("evidence-upload");
  if (!form) { return; }
  var status = document.getElementById("ev-status");
  var bar = document.getElementById("ev-progress");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var base = form.getAttribute("data-start");

  function say(text) { status.textContent = text; }

  function call(method, url, body, type) {
    var headers = { "X-CSRFToken": csrf };
    if (type) { headers["Content-Type"] = type; }
    return fetch(url, { method: method, body: body, headers: headers, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }); });
  }

  function send(id, file, offset, chunk, tries) {
    bar.value = file.size ? Math.floor(100 * offset / file.size) : 100;
    if (offset >= file.size) {
      return call("POST", base + id + "/finish/").then(function (r) {
        if (r.status !== 201) { throw new Error(r.json.detail || "finish failed"); }
        window.location.assign(r.json.url);
      });
    }
    var part = file.slice(offset, Math.min(offset + chunk, file.size));
    return call("PUT", base + id + "/?offset=" + offset, part, "application/octet-stream")
      .then(function (r) {
        if (r.status === 200) { return send(id, file, r.json.offset, chunk, 0); }
        if (r.status === 409 && typeof r.json.offset === "number") { return send(id, file, r.json.offset, chunk, tries); }
        throw new Error(r.json.detail || ("HTTP " + r.status));
      })
      .catch(function (err) {
        if (tries >= 5) { throw err; }
        say(form.getAttribute("data-resuming"));
        // Ask the node what it holds, and go on from there.
        return new Promise(function (ok) { setTimeout(ok, 1000 * (tries + 1)); })
          .then(function () { return call("GET", base + id + "/"); })
          .then(function (r) { return send(id, file, r.json.offset, chunk, tries + 1); });
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = form.elements.file.files[0];
    if (!file) { return; }
    bar.hidden = false;
    say(form.getAttribute("data-uploading"));
    var meta = {
      title: form.elements.title.value || file.name,
      filename: file.name,
      size: file.size,
      media_type: file.type || "application/octet-stream",
      request_id: form.elements.request_id.value,
      format: form.elements.age.checked ? "age" : "plain"
    };
    call("POST", base, JSON.stringify(meta), "application/json")
      .then(function (r) {
        if (r.status !== 201) { throw new Error(r.json.detail || "upload refused"); }
        return send(r.json.id, file, 0, r.json.chunk_size, 0);
      })
      .catch(function (err) { say(form.getAttribute("data-failed") + " " + err.message); });
  });
})();
