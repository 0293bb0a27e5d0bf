import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integerBetween, parseIsoDate, todayUtc } from '../../src/runner/option-parsers.js';

function daysInMonth(year: number, month: number): number {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('parseIsoDate', () => {
  it.each(['2022-06-03', '2024-02-29', '2000-02-29', '1999-12-31', '2022-01-01'])('accepts the calendar date %s', (raw) => {
    expect(parseIsoDate(raw)).toBe(raw);
  });

  it('trims surrounding whitespace', () => {
    expect(parseIsoDate(' 2022-06-03\n')).toBe('2022-06-03');
  });

  it.each([
    ['a day past the end of February', '2022-02-30'],
    ['February 29 in a common year', '2023-02-29'],
    ['February 29 in a century year', '1900-02-29'],
    ['month 13', '2022-13-01'],
    ['month 00', '2022-00-10'],
    ['day 00', '2022-06-00'],
    ['day 31 of a 30-day month', '2022-06-31'],
    ['unpadded month and day', '2022-6-3'],
    ['an empty string', ''],
    ['a word', 'tomorrow'],
    ['a timestamp', '2022-06-03T00:00:00Z'],
    ['a slash-separated date', '2022/06/03'],
  ])('rejects %s (%j) with an InvalidArgumentError', (_, raw) => {
    expect(() => parseIsoDate(raw)).toThrow(InvalidArgumentError);
  });

  it('says which format it expects', () => {
    expect(() => parseIsoDate('tomorrow')).toThrow('Expected a date as YYYY-MM-DD, e.g. 2022-06-03.');
    expect(() => parseIsoDate('2022-02-30')).toThrow('2022-02-30 is not a calendar date.');
  });

  it('accepts a date exactly when its day exists in its month (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day) => {
          const raw = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
          if (day <= daysInMonth(year, month)) expect(parseIsoDate(raw)).toBe(raw);
          else expect(() => parseIsoDate(raw)).toThrow(InvalidArgumentError);
        },
      ),
    );
  });

  it('either returns a trimmed YYYY-MM-DD or throws an InvalidArgumentError, for any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^\s?\d{4}-\d{2}-\d{2}\s?$/)), (raw) => {
        let parsed: string;
        try {
          parsed = parseIsoDate(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          return;
        }
        expect(parsed).toBe(raw.trim());
        expect(parsed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(new Date(`${parsed}T00:00:00Z`).toISOString().slice(0, 10)).toBe(parsed);
      }),
      { numRuns: 500 },
    );
  });
});

describe('todayUtc', () => {
  it('gives the UTC date, not the date where the clock is', () => {
    expect(todayUtc(new Date('2022-06-03T23:30:00-05:00'))).toBe('2022-06-04');
    expect(todayUtc(new Date('2022-06-04T00:30:00+02:00'))).toBe('2022-06-03');
  });

  it('gives the UTC date whatever time zone the host is in', () => {
    const hostZone = process.env.TZ;
    try {
      process.env.TZ = 'America/Chicago';
      expect(todayUtc(new Date('2022-06-03T23:30:00-05:00'))).toBe('2022-06-04');
      process.env.TZ = 'Pacific/Kiritimati';
      expect(todayUtc(new Date('2022-06-03T11:30:00Z'))).toBe('2022-06-03');
    } finally {
      if (hostZone === undefined) delete process.env.TZ;
      else process.env.TZ = hostZone;
    }
  });

  it('gives a date that parseIsoDate accepts', () => {
    const today = todayUtc();
    expect(parseIsoDate(today)).toBe(today);
  });
});

describe('integerBetween', () => {
  const oneTo100 = integerBetween(1, 100);

  it('accepts both bounds and the numbers between', () => {
    expect(oneTo100('1')).toBe(1);
    expect(oneTo100('42')).toBe(42);
    expect(oneTo100('100')).toBe(100);
  });

  it('accepts surrounding whitespace and a leading plus sign', () => {
    expect(oneTo100(' 7 ')).toBe(7);
    expect(oneTo100('+7')).toBe(7);
  });

  it('accepts 0 when the minimum is 0', () => {
    expect(integerBetween(0, 10)('0')).toBe(0);
  });

  it.each([
    ['0 when the minimum is 1', '0'],
    ['one above the maximum', '101'],
    ['a fraction', '1.5'],
    ['exponent notation', '1e3'],
    ['a blank', ' '],
    ['an empty string', ''],
    ['a word', 'abc'],
    ['a negative number', '-1'],
    ['hexadecimal', '0x10'],
    ['a number beyond the safe integers', '9007199254740993'],
  ])('rejects %s (%j) with an InvalidArgumentError naming the range', (_, raw) => {
    expect(() => oneTo100(raw)).toThrow(InvalidArgumentError);
    expect(() => oneTo100(raw)).toThrow('Expected a whole number from 1 to 100.');
  });

  it('reads every whole number within the range as that number (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const parse = integerBetween(min, max);
        const n = min + Math.floor((max - min) / 2);
        expect(parse(String(n))).toBe(n);
        if (min > 0) expect(() => parse(String(min - 1))).toThrow(InvalidArgumentError);
        expect(() => parse(String(max + 1))).toThrow(InvalidArgumentError);
      }),
    );
  });

  it('either returns a whole number within the range or throws an InvalidArgumentError, for any string (property)', () => {
    const parse = integerBetween(1, 1024);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^\s?[+-]?\d{1,5}(\.\d)?\s?$/)), (raw) => {
        let value: number;
        try {
          value = parse(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          return;
        }
        expect(Number.isInteger(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(1);
        expect(value).toBeLessThanOrEqual(1024);
        expect(value).toBe(Number(raw.trim()));
      }),
      { numRuns: 500 },
    );
  });
});
