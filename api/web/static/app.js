// oaflow web app: progressive enhancement only — every form works without this file.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // Folded filters (the approval centre's, folded on a phone) start open on a wide screen, where they fit.
  if (window.matchMedia && window.matchMedia('(min-width: 761px)').matches) {
    document.querySelectorAll('details[data-open-wide]').forEach(function (d) { d.open = true; });
  }

  // Line items: add and remove rows client-side, renumbering the field names (items/0/amount ...).
  function renumber(fieldset) {
    var path = fieldset.getAttribute('data-rows');
    fieldset.querySelectorAll('.row-list > .line').forEach(function (line, i) {
      line.setAttribute('data-index', i);
      line.querySelectorAll('[name]').forEach(function (el) {
        var name = el.getAttribute('name');
        ['v:', 'file:'].forEach(function (kind) {
          var prefix = kind + path + '/';
          if (name.indexOf(prefix) === 0) {
            var rest = name.slice(prefix.length).replace(/^(\d+|__i__)\//, '');
            el.setAttribute('name', prefix + i + '/' + rest);
            if (el.type !== 'hidden') el.id = 'f-' + path + '/' + i + '/' + rest;
          }
        });
      });
    });
  }
  document.querySelectorAll('fieldset.rows').forEach(function (fs) {
    var add = fs.querySelector('.add-row');
    var tpl = fs.querySelector('template');
    var list = fs.querySelector('.row-list');
    if (add && tpl && list) {
      add.addEventListener('click', function (ev) {
        ev.preventDefault();
        list.appendChild(tpl.content.cloneNode(true));
        renumber(fs);
        fs.dispatchEvent(new CustomEvent('rows-changed', {bubbles: true}));
      });
    }
    fs.addEventListener('click', function (ev) {
      var btn = ev.target.closest('.remove-row');
      if (!btn) return;
      ev.preventDefault();
      var line = btn.closest('.line');
      if (list.children.length > 1) { line.remove(); } else {
        line.querySelectorAll('input, select, textarea').forEach(function (el) { el.value = ''; });
      }
      renumber(fs);
      fs.dispatchEvent(new CustomEvent('rows-changed', {bubbles: true}));
    });
  });

  // Confirm destructive actions.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });

  // Show times in the viewer's own time zone (the server renders UTC).
  document.querySelectorAll('time[datetime]').forEach(function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d)) t.title = d.toLocaleString();
  });
})();
