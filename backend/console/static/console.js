/* Show htmx request errors (problem+json) as Chinese messages in the page's status area. */
(function () {
  "use strict";
  function show(message) {
    var flash = document.getElementById("flash");
    if (!flash) { return; }
    var p = document.createElement("p");
    p.className = "flash error";
    p.textContent = message;
    flash.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var message = "操作未成功，请刷新页面后重试";
    try {
      var problem = JSON.parse(xhr.responseText);
      if (problem && problem.detail) { message = problem.detail; }
    } catch (e) { /* not problem+json: keep the general message */ }
    show(message);
  });
  document.addEventListener("htmx:sendError", function () {
    show("网络连接失败，请检查网络后重试");
  });
})();
