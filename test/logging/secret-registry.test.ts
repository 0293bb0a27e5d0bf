import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets, registerSecret } from '../../src/logging/secret-registry.js';

/** The registry is process-wide: every test registers values of its own. */
const unique = (prefix = 's') => `${prefix}-${randomBytes(8).toString('hex')}`;

describe('redactSecrets', () => {
  it('removes a registered value wherever it stands, inside a word or not', () => {
    const secret = unique();
    registerSecret(secret);

    expect(redactSecrets(`token ${secret} refused`)).toBe('token [redacted] refused');
    expect(redactSecrets(`x${secret}y and "${secret}"`)).toBe('x[redacted]y and "[redacted]"');
  });

  it('leaves text without a registered value as it is', () => {
    registerSecret(unique());
    expect(redactSecrets('nothing to see: 1234 abcd')).toBe('nothing to see: 1234 abcd');
  });

  it('removes several values, overlapping ones as one', () => {
    const a = unique('aaaa');
    const b = `${a.slice(-6)}-tail-${unique()}`;
    registerSecret(a);
    registerSecret(b);

    expect(redactSecrets(`${a}${b.slice(6)} and ${b}`)).toBe('[redacted] and [redacted]');
  });

  it('removes the form a value takes inside a JSON string', () => {
    const secret = `${unique()}"\\quoted`;
    registerSecret(secret);
    const line = JSON.stringify({ reason: `got ${secret}` });

    expect(redactSecrets(line)).toBe('{"reason":"got [redacted]"}');
  });

  it('keeps values shorter than 4 characters out: they would take every log line apart', () => {
    registerSecret('ab');
    expect(redactSecrets('about a tab')).toBe('about a tab');
  });

  it('keeps the configured secrets however many issued tokens come and go', () => {
    const configured = unique('configured');
    registerSecret(configured);
    for (let i = 0; i < 25_000; i += 1) registerSecret(`tok-${i}-${configured.slice(-8)}`, { issued: true });

    expect(redactSecrets(`a ${configured} b`)).toBe('a [redacted] b');
    expect(redactSecrets(`tok-24999-${configured.slice(-8)}`)).toBe('[redacted]');
  });

  it('never lets a registered value through, whatever surrounds it (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 40 }), fc.string(), fc.string(), (value, before, after) => {
        registerSecret(value);
        expect(redactSecrets(`${before}${value}${after}`)).not.toContain(value);
      }),
    );
  });
});
