// Small behaviours on top of htmx: tree items expand and collapse (aria-expanded follows).
document.addEventListener("htmx:beforeRequest", function (event) {
  var toggle = event.detail.elt;
  if (!toggle.hasAttribute || !toggle.hasAttribute("data-toggle-children")) return;
  if (toggle.getAttribute("aria-expanded") === "true") {
    event.preventDefault(); // already open: close it without asking the server
    document.getElementById(toggle.getAttribute("aria-controls")).replaceChildren();
    toggle.setAttribute("aria-expanded", "false");
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var toggle = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (toggle && toggle.hasAttribute && toggle.hasAttribute("data-toggle-children")) {
    toggle.setAttribute("aria-expanded", "true");
  }
});
