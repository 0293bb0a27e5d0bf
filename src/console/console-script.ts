/**
 * The pages' one script, served from /console.js (the CSP allows no inline script): the
 * auto-refresh of a list page. It polls the page's own URL one request at a time (the
 * next only once the last has answered: polls never pile up, bull-board issue 348), every
 * 5 seconds, behind a visible switch that stays off once turned off (localStorage); it
 * skips a beat while the tab is hidden or someone is typing in a form. The new content is
 * parsed by DOMParser, which runs no script, from HTML the server escaped. A refresh that
 * fails (the console unreachable, an error, a session gone) says so above the page, with
 * since when its figures are stale, until one succeeds.
 */
export const CONSOLE_SCRIPT = `'use strict';
(() => {
  const main = document.querySelector('main');
  const toggle = document.getElementById('auto-refresh');
  if (!main || !toggle) return;
  const every = Number(toggle.dataset.intervalMs) || 5000;
  const stale = document.getElementById('stale');
  let freshAt = new Date();
  const two = (n) => String(n).padStart(2, '0');
  const clock = (date) => two(date.getHours()) + ':' + two(date.getMinutes()) + ':' + two(date.getSeconds());
  const failed = (why) => {
    if (!stale) return;
    const seconds = Math.round((Date.now() - freshAt.getTime()) / 1000);
    stale.textContent = 'Stale: these figures are as of ' + clock(freshAt) + ' (' + seconds + ' s ago); the refresh failed: ' + why + '.';
    stale.hidden = false;
  };
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
        if (!response.ok) {
          failed(response.type === 'opaqueredirect' ? 'the session ended, sign in again' : 'the console answered ' + response.status);
        } else if (toggle.checked && !typing()) {
          const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
          if (next) main.replaceChildren(...next.childNodes);
          freshAt = new Date();
          if (stale) stale.hidden = true;
        }
      }
    } catch (error) {
      // The next beat tries again; meanwhile the page says it is stale.
      failed('the console does not answer');
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
})();
`;
