// Renders BPMN diagrams with bpmn-js (NavigatedViewer) and marks done / active / problem / changed elements.
(function () {
  'use strict';

  function parse(el, name, fallback) {
    try { return JSON.parse(el.getAttribute(name) || ''); } catch (e) { return fallback; }
  }

  function fail(el, message) {
    el.replaceChildren();
    var p = document.createElement('p');
    p.className = 'diagram-error';
    p.textContent = message;
    el.appendChild(p);
    el.setAttribute('data-state', 'error');
  }

  function mark(viewer, el) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    function add(ids, marker) {
      (ids || []).forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, marker); });
    }
    add(parse(el, 'data-done', []), 'done');
    add(parse(el, 'data-done-flows', []), 'done');
    add(parse(el, 'data-active', []), 'active');
    add(parse(el, 'data-error', []), 'problem');
    var changed = parse(el, 'data-changed', {});
    Object.keys(changed).forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'changed-' + changed[id]); });
    var marked = 0;
    parse(el, 'data-problems', []).forEach(function (p) {
      if (!p.element_id || !registry.get(p.element_id)) return;
      canvas.addMarker(p.element_id, 'problem');
      var note = document.createElement('div');
      note.className = 'problem-note';
      note.setAttribute('data-element', p.element_id);
      note.textContent = p.message;
      overlays.add(p.element_id, 'problem', { position: { bottom: -6, left: 0 }, html: note });
      marked += 1;
    });
    el.setAttribute('data-marked-problems', String(marked));
    canvas.zoom('fit-viewport', 'auto');
    wireZoom(canvas, el);
    el.setAttribute('data-state', 'ready');
  }

  // optional zoom buttons (a .zoom-bar with data-for="<diagram id>"): in, out, fit — usable on a phone
  function wireZoom(canvas, el) {
    var bar = el.id && document.querySelector('.zoom-bar[data-for="' + el.id + '"]');
    if (!bar) return;
    bar.addEventListener('click', function (e) {
      var how = e.target && e.target.getAttribute('data-zoom');
      if (how === 'fit') canvas.zoom('fit-viewport', 'auto');
      else if (how === 'in') canvas.zoom(canvas.zoom() * 1.25);
      else if (how === 'out') canvas.zoom(canvas.zoom() / 1.25);
      if (how) el.setAttribute('data-zoom', String(Math.round(canvas.zoom() * 100) / 100));
    });
  }

  function render(el, xml) {
    el.replaceChildren();
    var viewer = new window.BpmnJS({ container: el });
    viewer.importXML(xml).then(function () { mark(viewer, el); })
      .catch(function (err) {
        var detail = String(err && err.message || err);
        // the page gives the words in the reader's language; a file drawn without a diagram says so plainly
        if (/no diagram to display/.test(detail) && el.getAttribute('data-no-diagram')) {
          fail(el, el.getAttribute('data-no-diagram'));
        } else {
          fail(el, (el.getAttribute('data-fail-text') || 'The diagram could not be drawn:') + ' ' + detail);
        }
      });
  }

  document.querySelectorAll('.diagram').forEach(function (el) {
    if (!window.BpmnJS) { fail(el, 'bpmn-js is not installed (run npm ci).'); return; }
    var inline = el.getAttribute('data-inline-xml');
    if (inline) { render(el, inline); return; }
    var url = el.getAttribute('data-xml-url');
    // the web app's own diagram URLs: the session cookie says who asks (and in which language)
    fetch(url, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (xml) { render(el, xml); })
      .catch(function (err) { fail(el, 'The diagram could not be loaded: ' + err.message); });
  });
})();
