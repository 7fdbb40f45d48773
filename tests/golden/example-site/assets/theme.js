/* sitegen default theme: apply a stored light/dark choice before first paint.
   Loaded from <head> (no inline code is allowed by the CSP); site.js does the rest. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = window.localStorage.getItem("sitegen-theme");
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
    }
  } catch (e) {
    /* storage unavailable (privacy mode, sandboxed file://): follow the system setting */
  }
})();
