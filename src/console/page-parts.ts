import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LedgerOwed, LedgerStatus } from '../ledger/due-deliveries.js';
import { html, queryString, type SafeHtml } from './html.js';

/** The pieces the console's pages are made of: their layout, forms, pager and tables; every value escaped by html``. */

export function actionForm(job: string, action: 'pause' | 'resume', csrf: string | undefined): SafeHtml {
  return html`<form class="inline" method="post" action="/jobs/${encodeURIComponent(job)}/${action}">
    <input type="hidden" name="_csrf" value="${csrf ?? ''}">
    <input type="text" name="reason" required placeholder="why (recorded)" aria-label="reason to ${action} ${job}">
    <button type="submit">${action}</button></form>`;
}

/** Runs the job now in the console's process (embedded database only); disabled while a run is under way. */
export function runForm(job: string, csrf: string | undefined, busy: boolean): SafeHtml {
  return html`<form class="inline" method="post" action="/jobs/${encodeURIComponent(job)}/run">
    <input type="hidden" name="_csrf" value="${csrf ?? ''}"><button type="submit"${busy ? html` disabled` : ''}>run now</button></form>`;
}

/**
 * Keyset paging for a list page: a link to the page after this one (its cursor), and one
 * back to the first, with the filters kept; never OFFSET, so page 1,000 costs what page 1 does.
 */
export function pager(path: string, filters: Record<string, string | undefined>, cursor: string | undefined, next: string | undefined,
  nextLabel: string): SafeHtml {
  const kept = Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined && value !== ''));
  return html`<nav class="pager">${cursor ? html`<a href="${path}${queryString(kept)}">First page</a>` : ''}
    ${next ? html`<a rel="next" href="${path}${queryString({ ...kept, cursor: next })}">${nextLabel} →</a>` : html`<span>The end of the list.</span>`}</nav>`;
}

export function filterForm(action: string, fields: Record<string, string>): SafeHtml {
  return html`<form class="filters" method="get" action="${action}">
    ${Object.entries(fields).map(([name, value]) => html`<label>${name} <input type="text" name="${name}" value="${value}"></label>`)}
    <button type="submit">filter</button></form>`;
}

/** Pages that list what changes by itself; they get the auto-refresh switch. */
const REFRESHED = new Set(['/jobs', '/runs', '/deliveries', '/audit']);

export function sendPage(reply: FastifyReply, title: string, request: FastifyRequest | undefined, body: SafeHtml) {
  const principal = request?.principal;
  const refreshed = request?.method === 'GET' && REFRESHED.has(request.routeOptions.url ?? '');
  const page = html`<!doctype html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · sweep console</title>
    <link rel="stylesheet" href="/console.css">${refreshed ? html`<script src="/console.js" defer></script>` : ''}</head><body>
    <header><strong>sweep console</strong>${principal ? html`<a href="/jobs">Jobs</a><a href="/runs">Runs</a>
      <a href="/deliveries?status=dead,failed">Dead letters</a><a href="/audit">Audit</a><a href="/api/docs">API</a>
      ${refreshed ? html`<label class="refresh"><input type="checkbox" id="auto-refresh" data-interval-ms="5000"> auto-refresh</label>` : ''}
      <span class="who">${principal.name} (${principal.role})</span>
      <form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${request?.session?.csrf ?? ''}">
      <button type="submit">sign out</button></form>` : ''}</header>
    ${refreshed ? html`<p id="stale" class="stale" role="status" hidden></p>` : ''}
    <main><h1>${title}</h1>${body}</main></body></html>`;
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page.value);
}

/** A ledger count as a person reads it: "100,000+" where counting stopped at the cap. */
export function counted(ledger: Omit<LedgerOwed, 'oldestOwedItemDate'>, ...statuses: LedgerStatus[]): string {
  const total = statuses.reduce((sum, status) => sum + ledger[status], 0);
  return `${total.toLocaleString('en-US')}${statuses.some((status) => ledger.atLeast.includes(status)) ? '+' : ''}`;
}

export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
