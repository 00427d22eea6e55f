// The approval chain preview on a start form: as the user types, ask the server who will approve
// (POST /start/<key>/chain-preview with the form as typed) and list the steps. Text only, never markup.
(function () {
  'use strict';
  var box = document.getElementById('chain-preview');
  var form = document.getElementById('start-form');
  if (!box || !form) return;
  var list = document.getElementById('chain-steps');
  var note = document.getElementById('chain-note');
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var timer = null;
  var seq = 0;

  function show(data) {
    list.replaceChildren();
    (data.steps || []).forEach(function (s) {
      var li = document.createElement('li');
      var step = document.createElement('strong');
      step.textContent = s.step;
      li.appendChild(step);
      var who = document.createElement('span');
      var people = (s.people || []).join(', ');
      who.textContent = ' — ' + (people ? (s.group ? box.getAttribute('data-group') + ' ' : '') + people
                                       : box.getAttribute('data-nobody'));
      li.appendChild(who);
      list.appendChild(li);
    });
    note.textContent = data.note || '';
    box.setAttribute('data-state', 'ready');
    box.setAttribute('data-steps', String((data.steps || []).length));
  }

  function ask() {
    var mine = ++seq;
    var body = new FormData(form);
    body.delete('csrf_token');
    box.setAttribute('data-state', 'loading');
    fetch(box.getAttribute('data-url'), { method: 'POST', body: body, credentials: 'same-origin',
                                          headers: { 'X-CSRFToken': token } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (data) { if (mine === seq) show(data); })
      .catch(function () { if (mine === seq) box.setAttribute('data-state', 'error'); });
  }

  function later() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(ask, 350);
  }
  form.addEventListener('input', later);
  form.addEventListener('change', later);
  ask();
})();
