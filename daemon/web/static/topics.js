// 主题: checks the query as it is typed (GET /topics/validate) and shows the parser's
// message with its column under the box. Only checks: saving still validates on the server.
(function () {
  "use strict";
  var box = document.getElementById("query");
  var status = document.getElementById("query-status");
  if (!box || !status) { return; }
  var timer = null;
  var asked = 0;

  function show(answer) {
    status.textContent = answer.ok ? "查询可以解析 ✓" : (answer.message || "查询有误");
    status.className = "query-status " + (answer.ok ? "ok" : "error");
  }

  function check() {
    var query = box.value.trim();
    var mine = ++asked;
    if (!query) { show({ ok: false, message: "查询不能为空" }); return; }
    fetch("/topics/validate?query=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      if (mine === asked) { show(answer); }
    }).catch(function () { /* offline for a moment: the server checks on save */ });
  }

  box.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 300);
  });
})();
