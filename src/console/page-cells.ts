import type { FastifyRequest } from 'fastify';
import type { AuditEntry } from '../ledger/operator-audit.js';
import { html, queryString, type SafeHtml } from './html.js';

/** Table cells the pages share: a run's status as a person reads it, long text folded, and the per-row re-arm. */

/** Past this, or on a second line, a text shows its start, the rest a click away. */
const SHORT = 120;

/** A text in one line, the rest behind a click (<details>, no script): a 3 KB error must not fill the screen. */
export function collapsed(value: unknown): SafeHtml | unknown {
  if (typeof value !== 'string' || (value.length <= SHORT && !value.includes('\n'))) return value;
  const first = value.split('\n', 1)[0]!;
  return html`<details class="long"><summary>${first.slice(0, SHORT)}… <small>(${value.length.toLocaleString('en-US')} characters)</small></summary>${value}</details>`;
}

/** A run's status, linked to the run, coloured by outcome: a failed run looks failed. */
export function runLink(id: string, status: string): SafeHtml {
  return html`<a class="run run-${status}" href="/runs/${id}">${status}</a>`;
}

/** Statuses an operator may re-arm (as rearm.ts): never sent, never pending. */
export const REARMABLE = ['failed', 'dead', 'retry', 'superseded'];

/** The session's CSRF token when the person is an operator (who gets re-arm buttons), else undefined. */
export function rearmFor(request: FastifyRequest): { csrf: string } | undefined {
  return request.principal?.role === 'operator' ? { csrf: request.session?.csrf ?? '' } : undefined;
}

/** One delivery's re-arm: the preview of its key, then a confirmation with a reason, as for a set. */
export function rearmButton(key: string, csrf: string): SafeHtml {
  return html`<form class="inline" method="post" action="/deliveries/rearm/preview"><input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="key" value="${key}"><button type="submit" aria-label="re-arm ${key}">re-arm</button></form>`;
}

export function deliveryTable(rows: Array<{ key: string; status: string; attempts: number; last_status: number | null; last_error: string | null;
  updated_at: Date; workspace_id: string }>, rearm?: { csrf: string }): SafeHtml {
  return html`<div class="scroll"><table><thead><tr>${rearm ? html`<th>action</th>` : ''}<th>status</th><th>attempts</th><th>last</th><th>updated</th>
    <th>workspace</th><th>key</th><th>last error</th></tr></thead>
    <tbody>${rows.map((row) => html`<tr>${rearm ? html`<td>${REARMABLE.includes(row.status) ? rearmButton(row.key, rearm.csrf) : ''}</td>` : ''}
      <td class="delivery-${row.status}">${row.status}</td><td>${row.attempts}</td><td>${row.last_status ?? ''}</td><td>${row.updated_at}</td>
      <td>${row.workspace_id}</td><td><a href="/delivery${queryString({ key: row.key })}">${row.key}</a></td>
      <td class="error">${collapsed(row.last_error)}</td></tr>`)}</tbody></table></div>`;
}

/** An audit row's deliveries: how many, whether forced, and the keys it names, folded. */
export function auditedDeliveries(entry: AuditEntry): SafeHtml | number {
  if (entry.action !== 'rearm') return entry.deliveriesTouched;
  const keys = Array.isArray(entry.details.keys) ? entry.details.keys.map(String) : [];
  const unlisted = typeof entry.details.keysNotListed === 'number' ? entry.details.keysNotListed : 0;
  return html`${entry.deliveriesTouched}${entry.details.force === true ? html` <strong class="forced">forced</strong>` : ''}
    ${keys.length > 0 ? html`<details><summary>keys</summary>${keys.map((key) => html`<div>${key}</div>`)}${unlisted > 0 ? html`<div>… and ${unlisted} more</div>` : ''}</details>` : ''}`;
}
