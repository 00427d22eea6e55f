// Person picker on the customer page: a search box that narrows the "Transfer to" list by name or username
// as you type (progressive enhancement — without this file the plain select works on its own).
(function () {
  'use strict';
  document.querySelectorAll('input[data-filter-for]').forEach(function (box) {
    var select = document.getElementById(box.getAttribute('data-filter-for'));
    if (!select) return;
    box.addEventListener('input', function () {
      var needle = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (opt) {
        if (!opt.value) return;  // the "choose" prompt stays
        var match = !needle || opt.textContent.toLowerCase().indexOf(needle) !== -1;
        opt.hidden = !match;
        if (match && !first) first = opt;
      });
      if (needle && first) select.value = first.value;
      else if (needle) select.value = '';
    });
  });
})();
