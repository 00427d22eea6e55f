// Opportunity board: drag a card to another column to change its stage (progressive enhancement —
// without this file every card has a stage select and a Move button that post the same form).
(function () {
  'use strict';
  var board = document.getElementById('board');
  if (!board) return;
  var token = document.querySelector('meta[name=csrf-token]').getAttribute('content');
  var errorBox = document.getElementById('board-error');
  var dragged = null;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  // A moved card leaves one column's count and amount total and joins another's (totals cover every
  // opportunity in the column, also those beyond the cards shown, so they are shifted, not recounted).
  var fmt = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  function shift(column, card, sign) {
    var count = column.querySelector('.column-count');
    var total = column.querySelector('.column-total');
    count.setAttribute('data-count', Number(count.getAttribute('data-count')) + sign);
    count.textContent = count.getAttribute('data-count');
    var sum = Number(total.getAttribute('data-total')) + sign * Number(card.getAttribute('data-amount'));
    total.setAttribute('data-total', sum);
    total.querySelector('.amount').textContent = fmt.format(sum);
  }

  function move(card, column) {
    var stage = column.getAttribute('data-stage');
    var from = card.parentNode;
    if (stage === card.getAttribute('data-stage')) return;
    var body = new URLSearchParams();
    body.set('stage', stage);
    if (stage === 'won' || stage === 'lost') {
      var reason = window.prompt(board.getAttribute('data-reason-prompt'), '');
      if (!reason) {
        card.querySelector('select[name=stage]').value = card.getAttribute('data-stage');
        return;
      }
      body.set('reason', reason);
    }
    column.querySelector('.cards').prepend(card);
    card.classList.add('saving');
    errorBox.hidden = true;
    fetch(card.querySelector('form.move').getAttribute('action'), {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: {'X-CSRFToken': token, 'X-Requested-With': 'fetch', 'Accept': 'application/json'}
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        card.classList.remove('saving');
        if (!resp.ok) {
          from.prepend(card);
          var detail = (data.errors && data.errors[0] && data.errors[0].message) || data.detail || '';
          showError(board.getAttribute('data-error') + ' ' + detail);
        } else {
          shift(from.closest('.column'), card, -1);
          shift(column, card, 1);
          card.setAttribute('data-stage', data.stage);
          card.querySelector('.prob').textContent = data.probability + '%';
          card.querySelector('select[name=stage]').value = data.stage;
          if (data.status !== 'open') {
            card.classList.remove('movable');
            card.removeAttribute('draggable');
            card.querySelector('form.move').remove();
          }
        }
      });
    }).catch(function () {
      card.classList.remove('saving');
      from.prepend(card);
      showError(board.getAttribute('data-error'));
    });
  }

  // With the script the card's stage select moves the card at once (keyboard users need no drag).
  board.addEventListener('change', function (ev) {
    if (!ev.target.matches('.opp-card select[name=stage]')) return;
    var card = ev.target.closest('.opp-card');
    var column = board.querySelector('.column[data-stage="' + ev.target.value + '"]');
    if (card && column) move(card, column);
  });

  board.addEventListener('dragstart', function (ev) {
    var card = ev.target.closest && ev.target.closest('.opp-card.movable');
    if (!card) return;
    dragged = card;
    ev.dataTransfer.effectAllowed = 'move';
    ev.dataTransfer.setData('text/plain', card.getAttribute('data-id'));
    card.classList.add('dragging');
  });
  board.addEventListener('dragend', function () {
    if (dragged) dragged.classList.remove('dragging');
    board.querySelectorAll('.column.over').forEach(function (c) { c.classList.remove('over'); });
    dragged = null;
  });
  board.addEventListener('dragover', function (ev) {
    var column = ev.target.closest && ev.target.closest('.column');
    if (!column || !dragged) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'move';
    board.querySelectorAll('.column.over').forEach(function (c) { if (c !== column) c.classList.remove('over'); });
    column.classList.add('over');
  });
  board.addEventListener('drop', function (ev) {
    var column = ev.target.closest && ev.target.closest('.column');
    if (!column || !dragged) return;
    ev.preventDefault();
    column.classList.remove('over');
    move(dragged, column);
  });
})();
