// Upload progress and resumable uploads for forms with data-resumable (the tus URL)
// and data-target. Files above the threshold go in pieces (tus 1.0.0) that continue
// where a cut connection stopped, also after a reload (choose the same file again);
// the form then posts their ids as upload_id. Without this script forms post as usual.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.FormData || !window.Promise || !window.TextEncoder) return;
  var T = me.dataset, LIMIT = +T.threshold, CHUNK = +T.chunk || 1048576;
  var ABORT = new Error("abort"), NET = new Error("network"), TUS = "1.0.0";
  function keep(k, v) {
    try { if (v) localStorage.setItem(k, v); else localStorage.removeItem(k); } catch (e) { /* off */ }
  }
  function kept(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }
  function b64(s) {
    var b = new TextEncoder().encode(s), t = "";
    for (var i = 0; i < b.length; i++) t += String.fromCharCode(b[i]);
    return btoa(t);
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function refused(x) {
    var e = new Error((x.responseText || "").trim().slice(0, 400) || T.failed);
    e.fatal = true;
    return e;
  }

  function Up(form, input) {
    var t = form.querySelector("input[name=csrf_token]");
    this.form = form; this.input = input; this.sent = [];
    this.target = form.dataset.target;
    this.create = new URL(form.dataset.resumable, location.href).href;
    this.h = {"Tus-Resumable": TUS, "X-CSRFToken": t ? t.value : ""};
  }
  var U = Up.prototype;
  U.lock = function (on) {
    this.form.querySelectorAll("[type=submit],[type=file]").forEach(function (b) { b.disabled = on; });
    if (on) this.form.setAttribute("aria-busy", "true"); else this.form.removeAttribute("aria-busy");
  };
  U.show = function () {
    var box = this.box = el("div", "", "upload-progress"), line = el("p"), live = el("span");
    var bar = this.bar = el("progress"), stop = el("button", T.cancel, "secondary");
    bar.max = 100; bar.value = 0; bar.setAttribute("aria-label", T.label);
    this.pct = el("strong", "0%"); this.msg = el("span", T.uploading, "muted");
    live.setAttribute("role", "status"); live.append(this.pct, " ", this.msg);
    stop.type = "button"; stop.addEventListener("click", this.cancel.bind(this));
    line.append(live, " ", stop); box.append(bar, line);
    this.form.appendChild(box); this.lock(true);
  };
  U.say = function (text, bad) { this.msg.textContent = text; this.msg.className = bad ? "error" : "muted"; };
  U.at = function (bytes) {
    var p = this.total ? Math.min(100, Math.floor(bytes * 100 / this.total)) : 100;
    if (p !== this.bar.value) { this.bar.value = p; this.pct.textContent = p + "%"; }
  };
  U.end = function (text, bad) {
    var p = el("p", text, bad ? "error" : "muted");
    p.setAttribute("role", "alert");
    this.box.replaceWith(p); this.box = p; this.lock(false);
  };
  // One request: resolves with the XHR whatever its status, rejects when it failed.
  U.send = function (method, url, headers, body, onprogress) {
    var self = this;
    return new Promise(function (ok, fail) {
      if (self.cancelled) return fail(ABORT);
      var x = self.xhr = new XMLHttpRequest();
      x.open(method, url);
      for (var k in headers) x.setRequestHeader(k, headers[k]);
      if (onprogress) x.upload.onprogress = function (e) { onprogress(e.loaded); };
      x.onload = function () { ok(x); };
      x.onerror = x.ontimeout = function () { fail(NET); };
      x.onabort = function () { fail(ABORT); };
      x.send(body || null);
    });
  };
  U.wait = function (s) {
    var self = this;
    return new Promise(function (ok, fail) {
      self.wake = function () { s = 0; };
      (function tick() {
        if (self.cancelled) return fail(ABORT);
        if (s <= 0) { self.say(T.uploading); return ok(); }
        self.say(T.retry.replace("{s}", s), true);
        s -= 1;
        self.timer = setTimeout(tick, 1000);
      })();
    });
  };

  // One file through tus; resolves with its id once every byte has arrived.
  U.tus = function (file, before) {
    var self = this, key = ["tus", this.target, file.name, file.size, file.lastModified].join("|");
    var job = {key: key, url: kept(key)}, known = !job.url, offset = 0, delay = 1, first = true;
    this.sent.push(job);
    function h(extra) { return Object.assign({}, self.h, extra); }
    function lost() { job.url = null; keep(key, null); }
    function check(x, good) {
      if (x.status === good) return true;
      if (x.status === 404 || x.status === 410) return lost();
      if (x.status >= 500 || x.status === 409 || x.status === 423) throw NET;
      throw refused(x);
    }
    var steps = {
      create: function () {
        var meta = "filename " + b64(file.name) + ",target " + b64(self.target);
        return self.send("POST", self.create, h({"Upload-Length": "" + file.size, "Upload-Metadata": meta}))
          .then(function (x) {
            if (!check(x, 201)) throw refused(x);
            job.url = new URL(x.getResponseHeader("Location"), self.create).href;
            keep(key, job.url); offset = 0; known = true;
          });
      },
      head: function () {
        return self.send("HEAD", job.url, self.h).then(function (x) {
          if (!check(x, 200)) return;
          offset = +x.getResponseHeader("Upload-Offset"); known = true;
          if (first && offset) self.say(T.resumed);
          self.at(before + offset);
        });
      },
      patch: function () {
        var piece = file.slice(offset, Math.min(offset + CHUNK, file.size));
        var extra = {"Upload-Offset": "" + offset, "Content-Type": "application/offset+octet-stream"};
        return self.send("PATCH", job.url, h(extra), piece, function (n) { self.at(before + offset + n); })
          .then(function (x) {
            if (check(x, 204)) { offset = +x.getResponseHeader("Upload-Offset"); delay = 1; }
          });
      }
    };
    function loop() {
      var step = !job.url ? "create" : !known ? "head" : offset < file.size ? "patch" : "";
      if (!step) return Promise.resolve(job.url.split("/").pop());
      return steps[step]().then(function () { first = false; return loop(); }, function (e) {
        if (e === ABORT || e.fatal) throw e;
        known = first = false;
        var s = delay; delay = Math.min(delay * 2, 30);
        return self.wait(s).then(loop);
      });
    }
    return loop();
  };

  // The form itself: its fields, the small files, and the ids of the tus uploads.
  U.post = function (data, small, ids, before) {
    var self = this, name = this.input.name;
    var action = new URL(this.form.getAttribute("action") || "", location.href).href;
    data.delete(name);
    small.forEach(function (f) { data.append(name, f, f.name); });
    ids.forEach(function (id) { data.append("upload_id", id); });
    return this.send("POST", action, {}, data, function (n) { self.at(before + n); }).then(function (x) {
      if (x.status < 400 && x.responseURL && x.responseURL !== action) {
        self.sent.forEach(function (j) { keep(j.key, null); });
        self.at(self.total); self.say(T.saving);
        return location.replace(x.responseURL);
      }
      var page = new DOMParser().parseFromString(x.responseText || "", "text/html");
      var alert = page.querySelector("main p[role=alert], main p.error, main [role=alert] p");
      self.end(alert ? alert.textContent.trim() : T.failed, true);
    });
  };
  U.run = function (event, files) {
    var self = this, ids = [], done = 0, data;
    var big = files.filter(function (f) { return f.size > LIMIT; });
    var small = files.filter(function (f) { return big.indexOf(f) < 0; });
    try { data = new FormData(this.form, event.submitter); } catch (e) { data = new FormData(this.form); }
    this.total = files.reduce(function (n, f) { return n + f.size; }, 0);
    this.show();
    big.reduce(function (p, f) {
      return p.then(function () { return self.tus(f, done); })
        .then(function (id) { ids.push(id); done += f.size; });
    }, Promise.resolve())
      .then(function () { return self.post(data, small, ids, done); })
      .catch(function (e) { if (e !== ABORT) self.end(e.fatal ? e.message : T.failed, true); });
  };
  U.cancel = function () {
    var self = this;
    this.cancelled = true;
    clearTimeout(this.timer);
    if (this.xhr) this.xhr.abort();
    this.sent.forEach(function (j) {
      if (j.url) {
        var x = new XMLHttpRequest();
        x.open("DELETE", j.url);
        for (var k in self.h) x.setRequestHeader(k, self.h[k]);
        x.send();
      }
      keep(j.key, null);
    });
    this.end(T.cancelled, false);
  };

  var ups = [];
  document.querySelectorAll("form[data-resumable]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
      if (!files.length || form.getAttribute("aria-busy")) return;
      event.preventDefault();
      if (form.up && form.up.box) form.up.box.remove();
      ups.push(form.up = new Up(form, input));
      form.up.run(event, files);
    });
  });
  window.addEventListener("online", function () {
    ups.forEach(function (u) { if (u.wake) u.wake(); });
  });
})();
