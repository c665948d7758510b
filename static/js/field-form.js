/* Field forms (forms marked data-field-form): one pass over a slow or dropped link.
 *
 * - Chosen photos are kept here, not in the file input, so a server error never loses them.
 * - Photos are shrunk before sending (longest side <= 1600 px, JPEG 0.8); the original's EXIF block
 *   (time and GPS: the evidence) is spliced back into the small JPEG with Orientation set to upright.
 *   Documents go as they are. Sizes are checked against the server's limits before sending.
 * - The form is sent by XHR with Accept: application/json, with a progress bar per file and the total.
 *   Answers (fieldforms/answers.py): 200 {ok, redirect, message}; 400 {errors}; 409 {conflict, theirs}.
 * - A network failure hands the same fields (same idempotency_key and csrf_token) to
 *   window.CampaignOutbox.enqueue({url, label, fields}) when the offline outbox is there.
 * Without JavaScript the form posts as a plain multipart form.
 */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.8;
  var KEEP_AS_IS_BYTES = 400 * 1024;
  var TIMEOUT_MS = 5 * 60 * 1000;

  var messages = {};

  function text(name, values) {
    var template = messages[name] || name;
    Object.keys(values || {}).forEach(function (key) {
      template = template.split("{" + key + "}").join(values[key]);
    });
    return template;
  }

  function formatBytes(bytes) {
    if (bytes < 1024 * 1024) { return Math.max(1, Math.round(bytes / 1024)) + " KB"; }
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* --- EXIF: find the original's APP1 "Exif" segment and put it into the shrunk JPEG --- */

  function exifSegment(buffer) {
    var view = new DataView(buffer);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) { return null; }
    var offset = 2;
    while (offset + 4 <= view.byteLength) {
      var marker = view.getUint16(offset);
      if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) { return null; }
      var length = view.getUint16(offset + 2);
      if (marker === 0xFFE1 && offset + 10 <= view.byteLength && view.getUint32(offset + 4) === 0x45786966) {
        if (offset + 2 + length > view.byteLength) { return null; }
        return new Uint8Array(buffer.slice(offset, offset + 2 + length));
      }
      offset += 2 + length;
    }
    return null;
  }

  function setUpright(segment) {
    /* The canvas drew the photo upright already: Orientation (0x0112) in IFD0 becomes 1. */
    var view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    var tiff = 10;
    var little = view.getUint16(tiff) === 0x4949;
    var ifd = tiff + view.getUint32(tiff + 4, little);
    var count = view.getUint16(ifd, little);
    for (var i = 0; i < count; i++) {
      var entry = ifd + 2 + i * 12;
      if (entry + 12 > view.byteLength) { break; }
      if (view.getUint16(entry, little) === 0x0112) { view.setUint16(entry + 8, 1, little); }
    }
  }

  function withExif(jpeg, segment) {
    return jpeg.arrayBuffer().then(function (buffer) {
      var view = new DataView(buffer);
      var rest = 2;
      if (view.getUint16(2) === 0xFFE0) { rest = 4 + view.getUint16(4); }  /* drop the canvas's JFIF header */
      return new Blob([new Uint8Array(buffer, 0, 2), segment, new Uint8Array(buffer, rest)], {type: "image/jpeg"});
    });
  }

  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    var exif = file.type === "image/jpeg"
      ? file.slice(0, 256 * 1024).arrayBuffer().then(exifSegment).catch(function () { return null; })
      : Promise.resolve(null);
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size <= KEEP_AS_IS_BYTES) { bitmap.close(); return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); })
        .then(function (jpeg) {
          if (!jpeg) { return file; }
          return exif.then(function (segment) {
            if (!segment) { return jpeg; }
            try { setUpright(segment); } catch (error) { return jpeg; }
            return withExif(jpeg, segment);
          });
        });
    }).then(function (blob) {
      if (blob === file) { return file; }
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return new File([blob], name, {type: "image/jpeg", lastModified: file.lastModified});
    }).catch(function () { return file; });
  }

  /* --- one form --- */

  function FieldForm(form) {
    this.form = form;
    try { messages = JSON.parse(form.dataset.messages || "{}"); } catch (error) { messages = {}; }
    this.maxFile = parseInt(form.dataset.maxFileBytes || "0", 10);
    this.maxRequest = parseInt(form.dataset.maxRequestBytes || "0", 10);
    this.files = [];  /* {input, file, item, bar} */
    this.pending = 0;
    this.sending = false;
    this.status = document.createElement("div");
    this.status.className = "field-form-status";
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    var actions = form.querySelector(".actions") || form.lastElementChild;
    form.insertBefore(this.status, actions);
    this.queue = document.createElement("ul");
    this.queue.className = "file-queue";
    form.insertBefore(this.queue, this.status);
    this.total = document.createElement("p");
    this.total.className = "file-total muted";
    form.insertBefore(this.total, this.status);
    var self = this;
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      input.addEventListener("change", function () { self.choose(input); });
    });
    form.addEventListener("submit", function (event) { self.submit(event); });
  }

  FieldForm.prototype.choose = function (input) {
    var self = this;
    var chosen = Array.prototype.slice.call(input.files);
    input.value = "";  /* the files live here now; the input stays free for more */
    chosen.forEach(function (original) {
      var entry = {input: input, file: null, original: original};
      entry.item = document.createElement("li");
      entry.label = document.createElement("span");
      entry.label.className = "file-name";
      entry.label.textContent = original.name + " · " + text("preparing");
      entry.bar = document.createElement("progress");
      entry.bar.max = 1;
      entry.bar.value = 0;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link remove-file";
      remove.textContent = text("remove");
      remove.addEventListener("click", function () {
        self.files.splice(self.files.indexOf(entry), 1);
        entry.item.remove();
        self.showTotal();
      });
      entry.item.append(entry.label, entry.bar, remove);
      self.queue.append(entry.item);
      self.files.push(entry);
      self.pending += 1;
      var ready = input.accept && /image/.test(original.type) ? shrink(original) : Promise.resolve(original);
      ready.then(function (file) {
        entry.file = file;
        entry.label.textContent = original.name + " · " + formatBytes(file.size);
        if (self.maxFile && file.size > self.maxFile) {
          entry.item.classList.add("too-large");
          entry.label.textContent = text("file_too_large", {name: original.name});
        }
      }).finally(function () {
        self.pending -= 1;
        self.showTotal();
        if (!self.pending && self.afterPreparing) {
          var submitter = self.afterPreparing.submitter;
          self.afterPreparing = null;
          self.submit({preventDefault: function () {}, submitter: submitter});
        }
      });
    });
    this.showTotal();
  };

  FieldForm.prototype.bytesToSend = function () {
    return this.files.reduce(function (sum, entry) { return sum + (entry.file ? entry.file.size : 0); }, 0);
  };

  FieldForm.prototype.showTotal = function () {
    this.total.textContent = this.files.length ? text("total", {size: formatBytes(this.bytesToSend())}) : "";
  };

  FieldForm.prototype.say = function (message, kind) {
    this.status.textContent = message || "";
    this.status.className = "field-form-status" + (kind ? " flash flash-" + kind : "");
  };

  FieldForm.prototype.fields = function (submitter) {
    var fields = [];
    var data = new FormData(this.form);
    data.forEach(function (value, name) {
      if (typeof value === "string") { fields.push([name, value]); }
    });
    if (submitter && submitter.name) { fields.push([submitter.name, submitter.value]); }
    this.files.forEach(function (entry) { fields.push([entry.input.name, entry.file, entry.file.name]); });
    return fields;
  };

  FieldForm.prototype.clearErrors = function () {
    Array.prototype.forEach.call(this.form.querySelectorAll(".field-form-error"), function (node) { node.remove(); });
  };

  FieldForm.prototype.showErrors = function (errors) {
    var form = this.form;
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      var anchor = input ? (input.closest(".field") || input) : form.querySelector(".file-queue");
      (errors[name] || []).forEach(function (message) {
        var note = document.createElement("small");
        note.className = "error field-form-error";
        note.textContent = message;
        anchor.append(note);
      });
    });
  };

  FieldForm.prototype.showConflict = function (answer) {
    var theirs = answer.theirs || {};
    var version = this.form.querySelector("[name=version]");
    if (version && theirs.version !== undefined) { version.value = theirs.version; }
    var panel = document.createElement("div");
    panel.className = "conflict field-form-error";
    var heading = document.createElement("strong");
    heading.textContent = answer.message;
    var note = document.createElement("p");
    note.className = "prewrap";
    note.textContent = text("their_note") + " " + (theirs.note || "—");
    var hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = text("kept");
    panel.append(heading, note, hint);
    this.status.before(panel);
  };

  /* What went to the outbox is no longer the form's: empty it, and a new sending gets a new key. */
  FieldForm.prototype.clear = function () {
    this.files.forEach(function (entry) { entry.item.remove(); });
    this.files = [];
    this.form.reset();
    this.renewKey();
    this.showTotal();
  };

  FieldForm.prototype.renewKey = function () {
    var key = this.form.querySelector("[name=idempotency_key]");
    if (key) { key.value = newKey(); }
  };

  FieldForm.prototype.submit = function (event) {
    event.preventDefault();
    if (this.sending) { return; }
    if (this.pending) {  /* photos still being shrunk: send by itself as soon as they are ready */
      this.afterPreparing = {submitter: event.submitter || null};
      this.say(text("preparing"), "info");
      return;
    }
    this.clearErrors();
    var large = this.files.filter(function (entry) { return this.maxFile && entry.file.size > this.maxFile; }, this);
    if (large.length) { this.say(text("file_too_large", {name: large[0].original.name}), "error"); return; }
    if (this.maxRequest && this.bytesToSend() > this.maxRequest) { this.say(text("total_too_large"), "error"); return; }
    this.send(this.fields(event.submitter), event.submitter);
  };

  FieldForm.prototype.progress = function (loaded) {
    /* Files travel in order after the short text fields: fill each bar by the bytes sent so far. */
    var before = 0;
    this.files.forEach(function (entry) {
      entry.bar.value = Math.max(0, Math.min(1, (loaded - before) / Math.max(entry.file.size, 1)));
      before += entry.file.size;
    });
  };

  FieldForm.prototype.outbox = function () {
    var outbox = window.CampaignOutbox;
    return outbox && typeof outbox.enqueue === "function" ? outbox : null;
  };

  /* Hand the fields, as they are, to the offline outbox; the form is then empty and has a new key. */
  FieldForm.prototype.keep = function (url, fields) {
    var self = this;
    var label = this.form.dataset.label || document.title;
    return Promise.resolve(this.outbox().enqueue({url: url, label: label, fields: fields}))
      .then(function () { self.clear(); self.say(text("queued"), "info"); },
            function () { self.say(text("network_failed"), "error"); });
  };

  FieldForm.prototype.send = function (fields, submitter) {
    var self = this;
    var url = this.form.action;
    if (navigator.onLine === false && this.outbox()) {  /* no signal: nothing to try, straight to the outbox */
      this.keep(url, fields);
      return;
    }
    var data = new FormData();
    fields.forEach(function (field) {
      if (field.length === 3) { data.append(field[0], field[1], field[2]); } else { data.append(field[0], field[1]); }
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.timeout = TIMEOUT_MS;
    xhr.upload.onprogress = function (event) { self.progress(event.loaded); };
    this.sending = true;
    this.form.classList.add("sending");
    this.say(text("sending"), "info");
    function finished() { self.sending = false; self.form.classList.remove("sending"); }
    function networkFailed() {
      finished();
      self.progress(0);
      if (self.outbox()) {
        self.keep(url, fields);
      } else {
        self.say(text("network_failed"), "error");
      }
    }
    xhr.onerror = networkFailed;
    xhr.ontimeout = networkFailed;
    xhr.onload = function () {
      if (xhr.status === 0) { networkFailed(); return; }
      finished();
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (error) { answer = null; }
      if (xhr.status === 200 && answer && answer.ok) {
        self.say(answer.message, "success");
        window.location.assign(answer.redirect || window.location.href);
        return;
      }
      self.renewKey();  /* the server answered: nothing of this sending was kept */
      self.progress(0);
      if (answer && answer.conflict) {
        self.showConflict(answer);
      } else if (answer && answer.errors) {
        self.showErrors(answer.errors);
      }
      self.say(answer && answer.message ? answer.message : text("server_error", {status: xhr.status}), "error");
      if (submitter) { submitter.focus(); }
    };
    xhr.send(data);
  };

  Array.prototype.forEach.call(document.querySelectorAll("form[data-field-form]"), function (form) {
    form.fieldForm = new FieldForm(form);
  });
}());
