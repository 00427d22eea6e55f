// oaflow web forms: pickers, computed values and the reject confirmation — progressive enhancement only.
// Without this file every form still works: ids and user names can be typed, the server computes and checks.
// Data from the server is only ever put into the page with textContent (never as HTML).
(function () {
  'use strict';
  var lang = document.documentElement.lang || undefined;
  var money = new Intl.NumberFormat(lang, {minimumFractionDigits: 2, maximumFractionDigits: 2});

  function debounce(fn, ms) {
    var t = null;
    return function () {
      var args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json',
                                                             'X-Requested-With': 'fetch'}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); });
  }

  // A search box with a result list; `label(item)` is the text shown, `pick(item)` stores the choice.
  function searchBox(box, url, label, pick) {
    var wrap = document.createElement('span');
    wrap.className = 'picker';
    box.parentNode.insertBefore(wrap, box);
    wrap.appendChild(box);
    var list = document.createElement('ul');
    list.className = 'picker-results';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    wrap.appendChild(list);
    // typing searches; focusing an empty box lists the first ten, so people see what there is to pick
    var search = debounce(function (ev) {
      var text = box.value.trim();
      if (!text && !(ev && ev.type === 'focus')) { list.hidden = true; return; }
      getJSON(url + (url.indexOf('?') < 0 ? '?' : '&') + 'q=' + encodeURIComponent(text.slice(0, 100)))
        .then(function (res) {
          list.textContent = '';
          (res.ok && Array.isArray(res.body) ? res.body : []).slice(0, text ? 20 : 10).forEach(function (item) {
            var li = document.createElement('li');
            var btn = document.createElement('button');
            btn.type = 'button';
            btn.className = 'picker-option';
            btn.setAttribute('role', 'option');
            btn.textContent = label(item);
            btn.addEventListener('click', function () {
              pick(item);
              list.hidden = true;
            });
            li.appendChild(btn);
            list.appendChild(li);
          });
          list.hidden = !list.children.length;
        });
    }, 200);
    box.addEventListener('input', search);
    box.addEventListener('focus', function (ev) { if (!box.value.trim()) search(ev); });
    box.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape') list.hidden = true;
    });
    return list;
  }

  function personLabel(p) { return p.name + ' (' + p.username + ')' + (p.department ? ' · ' + p.department : ''); }

  // Person pickers (the task page's actions, the admin user and group forms): the visible box searches, a hidden
  // input carries the user name. A typed user name that was not picked from the list is sent as typed.
  document.querySelectorAll('.person-picker').forEach(function (holder) {
    var box = holder.querySelector('input.person-value');
    if (!box) return;
    var url = holder.getAttribute('data-people-url');
    if (holder.getAttribute('data-multiple')) {
      // CC: one search box picks several people, shown as a list with a remove button each; the plain
      // comma-separated box (the no-JS fallback) is hidden and carries the user names
      var field = document.createElement('input');
      field.type = 'search';
      field.className = 'person-search';
      field.setAttribute('aria-label', box.getAttribute('aria-label') || '');
      field.placeholder = holder.getAttribute('data-search-text') || '';
      holder.insertBefore(field, box);
      var chosen = document.createElement('ul');
      chosen.className = 'picked-people';
      holder.appendChild(chosen);
      box.type = 'hidden';
      box.required = false;
      var names = box.value.split(/[,，\s]+/).filter(Boolean);
      var shown = {};
      function render() {
        box.value = names.join(', ');
        chosen.textContent = '';
        names.forEach(function (name) {
          var li = document.createElement('li');
          li.textContent = shown[name] || name;
          var remove = document.createElement('button');
          remove.type = 'button';
          remove.className = 'remove-person';
          remove.textContent = '×';
          remove.setAttribute('aria-label', (holder.getAttribute('data-remove-text') || 'Remove') + ' ' + li.textContent);
          remove.addEventListener('click', function () {
            names = names.filter(function (n) { return n !== name; });
            render();
          });
          li.appendChild(remove);
          chosen.appendChild(li);
        });
      }
      var most = parseInt(holder.getAttribute('data-max') || '50', 10);
      searchBox(field, url, personLabel, function (p) {
        if (names.indexOf(p.username) < 0 && names.length < most) names.push(p.username);
        shown[p.username] = p.name;
        field.value = '';
        render();
      });
      render();
      return;
    }
    var hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = box.name;
    hidden.value = box.value;
    if (box.getAttribute('form')) hidden.setAttribute('form', box.getAttribute('form'));
    box.removeAttribute('name');
    box.type = 'search';
    box.classList.add('person-search');
    holder.appendChild(hidden);
    box.addEventListener('input', function () { hidden.value = box.value.trim(); });
    searchBox(box, url, personLabel, function (p) {
      hidden.value = p.username;
      box.value = personLabel(p);
    });
    if (box.value) {  // a user name chosen before (an edit form): show who it is
      getJSON(url + '?q=' + encodeURIComponent(box.value.slice(0, 100))).then(function (res) {
        var found = (res.ok && Array.isArray(res.body) ? res.body : []).filter(function (p) {
          return p.username === hidden.value;
        })[0];
        if (found && box.value === hidden.value) box.value = personLabel(found);
      });
    }
  });

  // Record pickers in schema forms (x-oaflow-ref): search by name, keep the id in the original input.
  document.querySelectorAll('input[data-pick-url]').forEach(function (idInput) {
    var url = idInput.getAttribute('data-pick-url');
    var isPerson = idInput.getAttribute('data-picker') === 'oa.user';
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'record-search';
    box.id = idInput.id;
    idInput.id = idInput.id + '-value';
    box.placeholder = idInput.getAttribute('data-search-text') || '';
    box.required = idInput.required;
    idInput.required = false;
    idInput.type = 'hidden';
    idInput.parentNode.insertBefore(box, idInput);
    var label = isPerson ? personLabel : function (r) { return r.name + (r.detail ? ' · ' + r.detail : ''); };
    box.addEventListener('input', function () {
      idInput.value = /^\d{1,10}$/.test(box.value.trim()) || isPerson ? box.value.trim() : '';
    });
    searchBox(box, url, label, function (item) {
      idInput.value = isPerson ? item.username : item.id;
      box.value = label(item);
    });
    if (idInput.value && !isPerson) {  // show the name of an id chosen before (a form shown again)
      getJSON(url + '?id=' + encodeURIComponent(idInput.value)).then(function (res) {
        if (res.ok && res.body.length) box.value = label(res.body[0]);
      });
    } else if (idInput.value) {
      box.value = idInput.value;
    }
  });

  // Computed while typing: the total of a line-item list's amount column.
  document.querySelectorAll('fieldset.rows').forEach(function (fs) {
    var out = fs.querySelector('output[data-sum]');
    if (!out) return;
    var column = out.getAttribute('data-sum');
    var path = fs.getAttribute('data-rows');
    var pattern = new RegExp('^v:' + path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/\\d+/' + column + '$');
    function update() {
      var sum = 0;
      fs.querySelectorAll('.row-list input').forEach(function (el) {
        if (pattern.test(el.name)) {
          var n = parseFloat(el.value);
          if (isFinite(n)) sum += Math.round(n * 100);
        }
      });
      out.textContent = money.format(sum / 100);
    }
    fs.addEventListener('input', update);
    fs.addEventListener('rows-changed', update);
    update();
  });

  // Computed while typing: a leave's working days, by the server's calendar (public holidays count).
  var days = document.getElementById('leave-days');
  if (days) {
    var form = days.closest('form');
    var names = ['start_date', 'end_date', 'start_half', 'end_half'];
    var refresh = debounce(function () {
      var q = [];
      names.forEach(function (n) {
        var el = form.querySelector('[name="v:' + n + '"]');
        if (el && el.value) q.push(n + '=' + encodeURIComponent(el.value));
      });
      if (q.join('&').indexOf('start_date=') < 0 || q.join('&').indexOf('end_date=') < 0) {
        days.textContent = '—';
        return;
      }
      getJSON(days.getAttribute('data-url') + '?' + q.join('&')).then(function (res) {
        if (res.ok) { days.textContent = String(res.body.days); return; }
        var errs = (res.body && res.body.errors) || [];
        days.textContent = errs.length ? errs[0].message : '—';
      });
    }, 250);
    form.addEventListener('change', refresh);
    form.addEventListener('input', refresh);
    refresh();
  }

  // Reject: a reason is required, then a confirmation.
  document.querySelectorAll('button.reject[data-confirm]').forEach(function (btn) {
    var form = btn.form;
    btn.addEventListener('click', function (ev) {
      var flag = form.querySelector('.confirm-flag');
      var reason = form.querySelector('[name="v:comment"], [name="comment_text"]');
      if (reason && !reason.value.trim()) {
        ev.preventDefault();
        reason.setCustomValidity(btn.getAttribute('data-reason-required'));
        reason.reportValidity();
        reason.addEventListener('input', function () { reason.setCustomValidity(''); }, {once: true});
        return;
      }
      if (!window.confirm(btn.getAttribute('data-confirm'))) {
        ev.preventDefault();
        return;
      }
      if (flag) flag.value = 'reject';
    });
  });
})();
