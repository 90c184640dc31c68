// The incident id `<workflow id>@<opening time>`: built by the workflow and parsed back by the Slack and
// PagerDuty routes with the same pair of functions.
import fc from 'fast-check';
import { incidentIdOf, parseIncidentId } from '../../src/playbook/contract/incident-id';

const OPENED = Date.UTC(2026, 10, 27, 9, 53, 17, 123);
const YEAR_0 = new Date(0).setUTCFullYear(0, 0, 1);
const YEAR_9999_END = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

test('the id is the workflow id, `@`, and the opening time in ISO 8601 without `-` and `:`', () => {
  expect(incidentIdOf('incident-db-3f2a', OPENED)).toBe('incident-db-3f2a@20261127T095317.123Z');
  expect(parseIncidentId('incident-db-3f2a@20261127T095317.123Z')).toEqual({
    workflowId: 'incident-db-3f2a',
    openedAt: OPENED,
  });
});

test('any workflow id and opening time round-trip, `@` and odd characters included', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, unit: 'binary' }),
      fc.integer({ min: YEAR_0, max: YEAR_9999_END }),
      (workflowId, openedAt) => {
        expect(parseIncidentId(incidentIdOf(workflowId, openedAt))).toEqual({ workflowId, openedAt });
      },
    ),
  );
});

test.each([
  ['a@b', 'a@b@20261127T095317.123Z'],
  ['user@example.com', 'user@example.com@20261127T095317.123Z'],
  ['@', '@@20261127T095317.123Z'],
  ['@leading', '@leading@20261127T095317.123Z'],
  ['trailing@', 'trailing@@20261127T095317.123Z'],
  ['x@20261127T095317.123Z', 'x@20261127T095317.123Z@20261127T095317.123Z'],
  [' spaced ', ' spaced @20261127T095317.123Z'],
  ['line\nbreak', 'line\nbreak@20261127T095317.123Z'],
])('a workflow id with `@` or odd characters (%j): the time is what follows the last `@`', (wid, id) => {
  expect(incidentIdOf(wid, OPENED)).toBe(id);
  expect(parseIncidentId(id)).toEqual({ workflowId: wid, openedAt: OPENED });
});

test('the first and last writable years', () => {
  expect(incidentIdOf('w', YEAR_0)).toBe('w@00000101T000000.000Z');
  expect(incidentIdOf('w', YEAR_9999_END)).toBe('w@99991231T235959.999Z');
  expect(parseIncidentId('w@00000101T000000.000Z')).toEqual({ workflowId: 'w', openedAt: YEAR_0 });
  expect(parseIncidentId('w@99991231T235959.999Z')).toEqual({ workflowId: 'w', openedAt: YEAR_9999_END });
});

test.each([
  ['an empty string', ''],
  ['a bare workflow id', 'incident-db-3f2a'],
  ['no workflow id', '@20261127T095317.123Z'],
  ['no time', 'incident-db-3f2a@'],
  ['the time with `-` and `:`', 'w@2026-11-27T09:53:17.123Z'],
  ['no milliseconds', 'w@20261127T095317Z'],
  ['no Z', 'w@20261127T095317.123'],
  ['a lower-case t', 'w@20261127t095317.123Z'],
  ['a time zone offset', 'w@20261127T095317.123+0500'],
  ['month 13', 'w@20261327T095317.123Z'],
  ['month 0', 'w@20260027T095317.123Z'],
  ['February 30', 'w@20260230T095317.123Z'],
  ['February 29 of a common year', 'w@20270229T095317.123Z'],
  ['hour 24', 'w@20261127T240000.000Z'],
  ['minute 60', 'w@20261127T096017.123Z'],
  ['second 60 (no leap seconds)', 'w@20261127T095360.123Z'],
  ['an hour past the last writable year', 'w@99991231T990000.000Z'],
  ['a trailing space', 'w@20261127T095317.123Z '],
  ['a trailing tab', 'w@20261127T095317.123Z\t'],
  ['a trailing newline', 'w@20261127T095317.123Z\n'],
  ['a six-digit year', 'w@+0100000101T000000.000Z'],
  ['full-width digits', 'w@２０２６1127T095317.123Z'],
])('not an incident id: %s', (_what, text) => {
  expect(parseIncidentId(text)).toBeNull();
});

test('no text at all is not an incident id', () => {
  expect(parseIncidentId(null)).toBeNull();
  expect(parseIncidentId(undefined)).toBeNull();
  expect(parseIncidentId(42 as unknown as string)).toBeNull();
});

test('a leading space belongs to the workflow id (the ingress trims what people paste)', () => {
  expect(parseIncidentId(' w@20261127T095317.123Z')).toEqual({ workflowId: ' w', openedAt: OPENED });
});

test('February 29 of a leap year is an opening time', () => {
  expect(parseIncidentId('w@20280229T000000.000Z')).toEqual({
    workflowId: 'w',
    openedAt: Date.UTC(2028, 1, 29),
  });
});

test.each([
  ['an empty workflow id', '', OPENED, /needs a workflow id/],
  ['a fractional millisecond', 'w', OPENED + 0.5, /whole milliseconds/],
  ['NaN', 'w', Number.NaN, /got NaN/],
  ['Infinity', 'w', Number.POSITIVE_INFINITY, /got Infinity/],
  ['year 10000', 'w', YEAR_9999_END + 1, /years 0000-9999/],
  ['a year before 0', 'w', YEAR_0 - 1, /years 0000-9999/],
])('an id is never built from %s: a clear error', (_what, wid, openedAt, message) => {
  expect(() => incidentIdOf(wid, openedAt)).toThrow(message);
});
