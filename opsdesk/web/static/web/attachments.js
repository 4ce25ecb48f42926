/* The new report's screenshots and files: chosen with the file input, dropped anywhere on the
   form, or pasted from the clipboard (a screenshot), all kept in the form's one file input
   (name=files) so that they go with the report; listed with their sizes, a thumbnail for
   images, a button to leave one out, and the total checked against the upload limit before the
   form is sent (the server checks again). */
(function () {
  "use strict";
  var zone = document.querySelector("[data-drop-files]");
  if (!zone || typeof DataTransfer === "undefined") return;
  var input = zone.querySelector("input[type=file]");
  var list = zone.querySelector("[data-chosen-files]");
  var problem = zone.querySelector("[data-files-error]");
  var form = input.form;
  var limit = Number(zone.dataset.maxBytes);
  var files = [];

  function size(bytes) {
    var kb = bytes / 1024;
    if (kb < 1024) return zone.dataset.kb.replace("%s", (bytes > 0 ? Math.max(kb, 0.1) : 0).toFixed(1));
    return zone.dataset.mb.replace("%s", (kb / 1024).toFixed(1));
  }

  function total() {
    return files.reduce(function (sum, file) { return sum + file.size; }, 0);
  }

  function check() {
    var over = total() > limit;
    problem.hidden = !over;
    problem.textContent = over ? zone.dataset.tooLarge.replace("{size}", size(total())) : "";
    return !over;
  }

  function thumbnail(file, item) {
    if (!/^image\/(png|jpeg|gif|webp)$/.test(file.type) || file.size > 5 * 1024 * 1024) return;
    var reader = new FileReader();
    reader.onload = function () {
      var img = document.createElement("img");
      img.alt = "";
      img.src = reader.result;  // a data: URL, which the page's policy allows for images
      item.insertBefore(img, item.firstChild);
    };
    reader.readAsDataURL(file);
  }

  function show() {
    var kept = new DataTransfer();
    files.forEach(function (file) { kept.items.add(file); });
    input.files = kept.files;
    list.replaceChildren();
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      var bytes = document.createElement("span");
      bytes.className = "hint";
      bytes.textContent = size(file.size);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = zone.dataset.remove;
      remove.addEventListener("click", function () {
        files.splice(index, 1);
        show();
      });
      item.append(name, bytes, remove);
      thumbnail(file, item);
      list.appendChild(item);
    });
    check();
  }

  function add(more) {
    Array.prototype.forEach.call(more, function (file) { files.push(file); });
    show();
  }

  function stamp() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return now.getFullYear() + two(now.getMonth() + 1) + two(now.getDate()) + "-" +
      two(now.getHours()) + two(now.getMinutes()) + two(now.getSeconds());
  }

  // A pasted screenshot is called image.png by every browser: give it a name that says when.
  function named(file, index) {
    var extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    var name = zone.dataset.pasteName + "-" + stamp() + (index ? "-" + (index + 1) : "") +
      "." + extension;
    return new File([file], name, {type: file.type, lastModified: Date.now()});
  }

  // The file dialog replaces the input's files with the new choice (a cancelled one, in some
  // browsers, with none): add them to the others, and give the input all of them again.
  input.addEventListener("change", function () { add(input.files); });

  function holds(types, type) {
    return Array.prototype.indexOf.call(types || [], type) >= 0;
  }

  function carriesFiles(event) {
    return event.dataTransfer && holds(event.dataTransfer.types, "Files");
  }
  form.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) return;  // text dragged into a field is the field's
    event.preventDefault();
    zone.classList.add("dragging");
  });
  form.addEventListener("dragleave", function (event) {
    if (!form.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  form.addEventListener("drop", function (event) {
    zone.classList.remove("dragging");
    if (!carriesFiles(event)) return;
    event.preventDefault();
    add(event.dataTransfer.files);
  });

  // A screenshot pasted anywhere on the page; text (even with a picture of it, as a
  // spreadsheet copies) is pasted as text.
  document.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (!data || !data.files.length || holds(data.types, "text/plain")) return;
    event.preventDefault();
    add(Array.prototype.map.call(data.files, function (file, index) {
      return /^image\//.test(file.type) ? named(file, index) : file;
    }));
  });

  form.addEventListener("submit", function (event) {
    if (!check()) {
      event.preventDefault();
      problem.scrollIntoView({block: "center"});
    }
  });
})();
