/* hod-core pages: progressive enhancement only. Every page works without
   this file; with it:
   - [data-seconds-left]: a live countdown to an offer's expiry (the seconds
     come from the server's clock, so the browser's clock does not matter);
   - [data-password-rules]: the R3 rules ticked as the password is typed,
     the same checks as hod_core/server/accounts/passwords.py (the server checks again);
   - form[data-progress]: an import shows a progress bar while it uploads;
   - [data-toggle-target]: a checkbox that enables or disables a field
     (No End Date disables the To Date/Time). */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function countdowns() {
    var nodes = document.querySelectorAll("[data-seconds-left]");
    if (!nodes.length) return;
    var started = Date.now();
    function tick() {
      var elapsed = Math.floor((Date.now() - started) / 1000);
      nodes.forEach(function (node) {
        var left = Math.max(0, parseInt(node.getAttribute("data-seconds-left"), 10) - elapsed);
        var template = left > 0 ? node.getAttribute("data-template") : node.getAttribute("data-expired");
        node.textContent = template
          .replace("{minutes}", Math.floor(left / 60))
          .replace("{seconds}", pad(left % 60));
        if (left === 0) {
          var card = node.closest("[data-offer]");
          if (card) {
            card.querySelectorAll("button[data-expires-with-offer]").forEach(function (b) { b.disabled = true; });
          }
        }
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  /* R3, as the server checks it: 8-20 characters, no spaces, a digit, a lower
     and an upper case letter, a special character, no run of more than three
     identical characters, no run of more than three sequential ones. */
  function hasRun(text, step) {
    var run = 1;
    for (var i = 1; i < text.length; i++) {
      run = step(text.charAt(i - 1), text.charAt(i)) ? run + 1 : 1;
      if (run > 3) return true;
    }
    return false;
  }
  function kind(ch) { return /[a-z]/.test(ch) ? "letter" : /[0-9]/.test(ch) ? "digit" : null; }
  function up(a, b) { return kind(a) !== null && kind(a) === kind(b) && b.charCodeAt(0) === a.charCodeAt(0) + 1; }
  var RULES = {
    no_spaces: function (p) { return !/\s/.test(p); },
    length: function (p) { return p.length >= 8 && p.length <= 20; },
    digit: function (p) { return /\p{Nd}/u.test(p); },
    lower: function (p) { return /\p{Ll}/u.test(p); },
    upper: function (p) { return /\p{Lu}/u.test(p); },
    special: function (p) { return /[\p{P}\p{S}]/u.test(p); },
    repeats: function (p) { return !hasRun(p, function (a, b) { return a === b; }); },
    sequence: function (p) {
      var folded = p.toLowerCase();
      return !hasRun(folded, up) && !hasRun(folded, function (a, b) { return up(b, a); });
    }
  };

  function passwordRules() {
    document.querySelectorAll("[data-password-rules]").forEach(function (list) {
      var input = document.getElementById(list.getAttribute("data-password-rules"));
      if (!input) return;
      function update() {
        var value = input.value;
        list.querySelectorAll("li[data-rule]").forEach(function (item) {
          var check = RULES[item.getAttribute("data-rule")];
          var met = value.length > 0 && (check ? check(value) : false);
          item.classList.toggle("met", met);
          item.classList.toggle("unmet", !met && value.length > 0);
          var state = item.querySelector(".visually-hidden");
          if (state) state.textContent = " (" + list.getAttribute(met ? "data-met" : "data-not-met") + ")";
        });
      }
      input.addEventListener("input", update);
      if (input.value) update();  // an empty field keeps the server's marks of the last try
    });
  }

  function uploads() {
    document.querySelectorAll("form[data-progress]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.XMLHttpRequest || !window.FormData) return;
        event.preventDefault();
        var bar = document.getElementById(form.getAttribute("data-progress"));
        if (bar) { bar.hidden = false; bar.value = 0; }
        var request = new XMLHttpRequest();
        request.open("POST", form.action);
        request.upload.addEventListener("progress", function (e) {
          if (bar && e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
        });
        request.addEventListener("load", function () {
          if (bar) bar.value = 100;
          document.open();
          document.write(request.responseText);
          document.close();
          if (request.responseURL) window.history.replaceState(null, "", request.responseURL);
        });
        request.send(new FormData(form));
      });
    });
  }

  function toggles() {
    document.querySelectorAll("[data-toggle-target]").forEach(function (box) {
      var target = document.getElementById(box.getAttribute("data-toggle-target"));
      if (!target) return;
      function update() { target.disabled = box.checked; }
      box.addEventListener("change", update);
      update();
    });
  }

  function start() { countdowns(); passwordRules(); uploads(); toggles(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
