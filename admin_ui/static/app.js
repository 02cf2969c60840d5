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
// The intake form's check panel follows the form: a field left (change) asks for a new check, except the request's
// own text, which asks as it is typed (input). A blur of the text must not send a second check that would replace
// the 采用建议 button under the clerk's click. (htmx's event filters need eval, which the CSP forbids.)
document.addEventListener("change", function (event) {
  var form = event.target.closest && event.target.closest("#intake-form");
  if (form && event.target.id !== "f-text") {
    form.dispatchEvent(new CustomEvent("intake:changed"));
  }
});
