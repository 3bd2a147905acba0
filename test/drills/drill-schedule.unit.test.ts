import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDrillSchedule, type DrillSchedule } from '../../src/drills/drill-schedule.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function schedule(expression: string, timezone = 'UTC', windowMs = 60_000): DrillSchedule {
  const parsed = parseDrillSchedule(expression, timezone, windowMs);
  assert.ok(parsed.success, parsed.success ? '' : parsed.message);
  return parsed.schedule;
}

describe('a drill schedule', () => {
  test('the latest occurrence is the scheduled time at or before now, with its window', () => {
    const weekly = schedule('0 3 * * 2', 'UTC', 2 * 3_600_000);
    const inside = weekly.latest(at('2026-12-01T04:30:00Z'));
    assert.deepEqual([iso(inside?.at), iso(inside?.windowEnd)], ['2026-12-01T03:00:00.000Z', '2026-12-01T05:00:00.000Z']);
    assert.equal(iso(weekly.latest(at('2026-12-01T03:00:00Z'))?.at), '2026-12-01T03:00:00.000Z', 'exactly at the scheduled time counts');
    assert.equal(iso(weekly.latest(at('2026-12-01T02:59:59.999Z'))?.at), '2026-11-24T03:00:00.000Z');
  });

  test('a window longer than the gap to the next occurrence ends at the next occurrence', () => {
    const everyTenSeconds = schedule('*/10 * * * * *', 'UTC', 60_000);
    const occurrence = everyTenSeconds.latest(at('2026-12-01T00:00:05Z'));
    assert.deepEqual([iso(occurrence?.at), iso(occurrence?.windowEnd)], ['2026-12-01T00:00:00.000Z', '2026-12-01T00:00:10.000Z']);
  });

  test('six fields read the first as seconds, five start at the minute', () => {
    assert.equal(iso(schedule('*/5 * * * * *').latest(at('2026-12-01T00:00:07Z'))?.at), '2026-12-01T00:00:05.000Z');
    assert.equal(iso(schedule('*/5 * * * *').latest(at('2026-12-01T00:07:00Z'))?.at), '2026-12-01T00:05:00.000Z');
  });

  test('the schedule is read in its time zone, daylight saving time included', () => {
    const paris = schedule('0 3 * * *', 'Europe/Paris');
    assert.equal(iso(paris.latest(at('2026-12-01T12:00:00Z'))?.at), '2026-12-01T02:00:00.000Z', 'CET is UTC+1');
    assert.equal(iso(paris.latest(at('2026-07-01T12:00:00Z'))?.at), '2026-07-01T01:00:00.000Z', 'CEST is UTC+2');
  });

  test('the occurrence before one, the n-th after one, and the gaps between the next ones', () => {
    const hourly = schedule('0 * * * *');
    assert.equal(iso(hourly.before(at('2026-12-01T10:00:00Z'))?.at), '2026-12-01T09:00:00.000Z');
    assert.equal(iso(hourly.after(at('2026-12-01T10:00:00Z'), 2)), '2026-12-01T12:00:00.000Z');
    const weekdays = schedule('0 3 * * 1-5');
    // From Thursday 2026-12-03 noon: Fri, Mon (+3 days), Tue, Wed.
    assert.deepEqual(weekdays.gaps(at('2026-12-03T12:00:00Z'), 3), [3 * 86_400_000, 86_400_000, 86_400_000]);
  });

  test('an expression that is not cron, and an unknown time zone, are refused with the reason', () => {
    const bad = parseDrillSchedule('every tuesday', 'UTC', 1000);
    assert.ok(!bad.success);
    assert.match(bad.message, /^not a cron schedule: /);
    const zone = parseDrillSchedule('0 3 * * *', 'Mars/Olympus', 1000);
    assert.ok(!zone.success);
    assert.equal(zone.message, 'unknown time zone "Mars/Olympus" (an IANA name such as Europe/Paris, or UTC)');
  });
});
