/**
 * The pages' one script, served from /console.js (the CSP allows no inline script): the
 * auto-refresh of a list page. It polls the page's own URL one request at a time (the
 * next only once the last has answered: polls never pile up, bull-board issue 348), every
 * 5 seconds, behind a visible switch that stays off once turned off (localStorage); it
 * skips a beat while the tab is hidden or someone is typing in a form. The new content is
 * parsed by DOMParser, which runs no script, from HTML the server escaped.
 */
export const CONSOLE_SCRIPT = `'use strict';
(() => {
  const main = document.querySelector('main');
  const toggle = document.getElementById('auto-refresh');
  if (!main || !toggle) return;
  const every = Number(toggle.dataset.intervalMs) || 5000;
  toggle.checked = localStorage.getItem('sweep-auto-refresh') !== 'off';
  toggle.addEventListener('change', () => localStorage.setItem('sweep-auto-refresh', toggle.checked ? 'on' : 'off'));
  const typing = () => {
    const active = document.activeElement;
    if (active && active !== toggle && ['INPUT', 'TEXTAREA', 'SELECT'].includes(active.tagName)) return true;
    return [...main.querySelectorAll('input[type=text]')].some((input) => input.value !== input.defaultValue);
  };
  const tick = async () => {
    try {
      if (toggle.checked && !document.hidden && !typing()) {
        const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin', redirect: 'manual' });
        if (response.ok && toggle.checked && !typing()) {
          const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
          if (next) main.replaceChildren(...next.childNodes);
        }
      }
    } catch (error) {
      // The next beat tries again.
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
})();
`;
