// The rule-set editor on top of htmx: tabs, CodeMirror on the YAML textarea, jumping to an issue's line.
(function () {
  "use strict";
  var editors = new WeakMap();
  var currentTab = null;  // kept across a save, which renders the workspace anew

  function yamlEditor() {
    var area = document.getElementById("yaml_text");
    return area ? editors.get(area) : null;
  }

  function showTab(id) {
    var tabs = document.querySelectorAll('.tabs [role="tab"]');
    if (!tabs.length) return;
    currentTab = id;
    tabs.forEach(function (tab) {
      var on = tab.getAttribute("aria-controls") === id;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    });
    var cm = yamlEditor();
    if (cm && id === "panel-yaml") {
      cm.refresh();  // drawn while hidden: measure again, then show the lines a form change rewrote
      var first = (document.getElementById("yaml_text").getAttribute("data-changed-lines") || "").split(",")[0];
      if (first) cm.scrollIntoView({line: Number(first) - 1, ch: 0}, 120);
    }
  }

  function enhance(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("textarea[data-code-editor]").forEach(function (area) {
      if (editors.has(area) || !window.CodeMirror) return;
      var cm = CodeMirror.fromTextArea(area, {
        mode: "yaml", lineNumbers: true, readOnly: area.readOnly, indentUnit: 2, tabSize: 2, lineWrapping: false,
        screenReaderLabel: "规则集 YAML", inputStyle: "contenteditable",
        extraKeys: {"Tab": false, "Shift-Tab": false, "Ctrl-]": "indentMore", "Ctrl-[": "indentLess"}
      });
      editors.set(area, cm);
      cm.on("change", function () {
        cm.save();  // the textarea is what the form and htmx send
        htmx.trigger(area, "yaml-edited");
      });
      var changed = (area.getAttribute("data-changed-lines") || "").split(",").filter(Boolean);
      changed.forEach(function (n) { cm.addLineClass(Number(n) - 1, "wrap", "cm-changed-line"); });
      if (changed.length) cm.scrollIntoView({line: Number(changed[0]) - 1, ch: 0}, 120);
    });
    var tablist = document.querySelector('.tabs[role="tablist"]');
    if (tablist && !tablist.hasAttribute("data-ready")) {
      tablist.setAttribute("data-ready", "");
      tablist.closest("form").classList.add("tabs-on");
      tablist.querySelectorAll('[role="tab"]').forEach(function (tab) {
        tab.addEventListener("click", function (event) { event.preventDefault(); showTab(tab.getAttribute("aria-controls")); });
        tab.addEventListener("keydown", function (event) {
          if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
          var all = Array.from(tablist.querySelectorAll('[role="tab"]'));
          var next = all[(all.indexOf(tab) + (event.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
          showTab(next.getAttribute("aria-controls"));
          next.focus();
        });
      });
      var selected = tablist.querySelector('[aria-selected="true"]');
      showTab(currentTab || (location.hash === "#panel-yaml" ? "panel-yaml" : selected.getAttribute("aria-controls")));
    }
    markInvalid();
  }

  function markInvalid() {
    var fields = new Set();
    document.querySelectorAll("#issues [data-field]").forEach(function (li) { fields.add(li.getAttribute("data-field")); });
    document.querySelectorAll("[data-field-input]").forEach(function (input) {
      if (fields.has(input.id)) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    var cm = yamlEditor();
    if (!cm) return;
    cm.eachLine(function (line) { cm.removeLineClass(line, "background", "cm-issue-line"); });
    document.querySelectorAll("#issues a.jump[data-line]").forEach(function (a) {
      var n = Number(a.getAttribute("data-line")) - 1;
      if (n >= 0 && n < cm.lineCount()) cm.addLineClass(n, "background", "cm-issue-line");
    });
  }

  function jumpTo(line, col) {
    showTab("panel-yaml");
    var cm = yamlEditor();
    if (cm) {
      cm.focus();
      cm.setCursor({line: line - 1, ch: Math.max(0, col - 1)});
      cm.scrollIntoView({line: line - 1, ch: 0}, 120);
      return;
    }
    var area = document.getElementById("yaml_text");
    var lines = area.value.split("\n"), at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(at + col - 1, at + (lines[line - 1] || "").length);
  }

  document.addEventListener("click", function (event) {
    var jump = event.target.closest && event.target.closest("a.jump[data-line]");
    if (jump) {
      event.preventDefault();
      jumpTo(Number(jump.getAttribute("data-line")), Number(jump.getAttribute("data-col") || 1));
      return;
    }
    var toField = event.target.closest && event.target.closest("a.to-field");
    if (toField) {
      showTab("panel-forms");
      var input = document.querySelector(toField.getAttribute("href"));
      if (input) { event.preventDefault(); input.focus(); input.scrollIntoView({block: "center"}); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    htmx.onLoad(function (elt) { enhance(elt); });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    markInvalid();
    if (event.detail.target && event.detail.target.id === "workspace") {
      var status = document.getElementById("save-status");
      if (status) status.focus();
    }
  });
})();
