import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { startTestService, writePlaybooks, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

// A fixed seed makes every body reproducible; FUZZ_SEED=<n> replays another run.
const seed = Number(process.env.FUZZ_SEED ?? 20_261_130);
const totalBodies = 10_000;
const warmupBodies = 1_000;
const inFlight = 16;
const bodyLimit = 1024 * 1024; // 1 MiB
// Heap used after a full GC may grow by at most this much between the end of the warm-up and the end of the run.
const heapHeadroom = 32 * 1024 * 1024; // 32 MiB
// RSS (which freed memory does not always leave) may grow to 1.5 times its warm-up level or by 64 MiB, whichever is more.
const rssFactor = 1.5;
const rssHeadroom = 64 * 1024 * 1024; // 64 MiB

/**
 * Loaded into `remediator serve` with --import: a full GC on SIGUSR2, so that heap readings compare live memory
 * rather than whatever garbage the last collection left.
 */
const gcOnSignal = `import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
process.on('SIGUSR2', () => { gc(); });
`;

const token = 'fuzz-webhook-token-4c1d';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One generated request: what it is, which status the webhook must answer, and how to make it (built when sent). */
interface FuzzRequest {
  kind: string;
  expect: number;
  make: () => { headers: Record<string, string>; body: Buffer };
}

const lazy = (kind: string, expect: number, make: FuzzRequest['make']): FuzzRequest => ({ kind, expect, make });

// ---------------------------------------------------------------------------------------------------------------
// Alertmanager v4 bodies, and the ways to break them so that no generated body is a valid webhook.

const labelSet = fc.dictionary(
  fc.oneof(
    fc.constantFrom('alertname', 'instance', 'job', 'severity', 'cluster'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  ),
  fc.string({ unit: 'binary', maxLength: 24 }),
  { maxKeys: 4 },
);
const isoDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const alert = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: labelSet,
  annotations: labelSet,
  startsAt: isoDate,
  endsAt: isoDate,
  generatorURL: fc.webUrl(),
  fingerprint: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 32 }),
});
const webhook = fc.record({
  version: fc.constant('4'),
  groupKey: fc.string({ maxLength: 40 }),
  truncatedAlerts: fc.nat(5),
  status: fc.constantFrom('firing', 'resolved'),
  receiver: fc.string({ unit: 'binary', maxLength: 20 }),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: fc.webUrl(),
  alerts: fc.array(alert, { minLength: 1, maxLength: 3 }),
});

const isPlainObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isLabelSet = (value: unknown) => isPlainObject(value) && Object.values(value).every((item) => typeof item === 'string');
const isTimestamp = (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/** A field a breaker sets to a value that field can never take (`invalid` says which values qualify). */
interface FieldBreaker {
  field: string;
  alert: boolean;
  invalid: (value: Json) => boolean;
  fallback: Json;
}

const fieldBreakers: FieldBreaker[] = [
  { field: 'status', alert: false, invalid: (value) => value !== 'firing' && value !== 'resolved', fallback: 'burning' },
  { field: 'receiver', alert: false, invalid: (value) => typeof value !== 'string', fallback: 7 },
  { field: 'alerts', alert: false, invalid: (value) => !Array.isArray(value), fallback: { 0: 'x' } },
  {
    field: 'truncatedAlerts',
    alert: false,
    invalid: (value) => !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0),
    fallback: -1,
  },
  { field: 'version', alert: false, invalid: (value) => typeof value !== 'string', fallback: 4 },
  { field: 'groupLabels', alert: false, invalid: (value) => !isLabelSet(value), fallback: { a: 1 } },
  { field: 'commonAnnotations', alert: false, invalid: (value) => !isLabelSet(value), fallback: [] },
  { field: 'status', alert: true, invalid: (value) => value !== 'firing' && value !== 'resolved', fallback: 'FIRING' },
  { field: 'labels', alert: true, invalid: (value) => !isLabelSet(value), fallback: { alertname: ['InstanceDown'] } },
  { field: 'annotations', alert: true, invalid: (value) => !isLabelSet(value), fallback: null },
  { field: 'startsAt', alert: true, invalid: (value) => !isTimestamp(value), fallback: 'yesterday' },
  { field: 'endsAt', alert: true, invalid: (value) => !isTimestamp(value), fallback: 1_700_000_000 },
  { field: 'generatorURL', alert: true, invalid: (value) => typeof value !== 'string', fallback: false },
  {
    field: 'fingerprint',
    alert: true,
    invalid: (value) => typeof value !== 'string' || value.length === 0 || value.length > 128,
    fallback: '',
  },
];

/** How one body is made invalid: a field set to a wrong value, a required field removed, or a label made non-string. */
const breaker = fc.record({
  how: fc.constantFrom('wrong-value', 'wrong-value', 'wrong-value', 'remove', 'label-value'),
  field: fc.nat(fieldBreakers.length - 1),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  index: fc.nat(),
});
type Breaker = typeof breaker extends fc.Arbitrary<infer T> ? T : never;

const requiredTop = ['status', 'receiver', 'alerts'];
const requiredAlert = ['status', 'labels', 'startsAt'];

/** Applies `broken` to `body` (mutating it); afterwards the body cannot pass the webhook schema. */
function breakBody(body: JsonObject, broken: Breaker): JsonObject {
  const alerts = Array.isArray(body.alerts) ? body.alerts : [];
  const target = alerts.length > 0 ? alerts[broken.index % alerts.length] : undefined;
  const alertObject = isPlainObject(target) ? target : undefined;
  if (broken.how === 'remove') {
    if (alertObject && broken.index % 2 === 0)
      Reflect.deleteProperty(alertObject, requiredAlert[broken.index % requiredAlert.length] ?? 'status');
    else Reflect.deleteProperty(body, requiredTop[broken.index % requiredTop.length] ?? 'status');
    return body;
  }
  if (broken.how === 'label-value' && alertObject && isPlainObject(alertObject.labels)) {
    alertObject.labels[`bad${broken.index % 7}`] = typeof broken.value === 'string' ? { nested: broken.value } : broken.value;
    return body;
  }
  const chosen = fieldBreakers[broken.field] ?? fieldBreakers[0];
  if (!chosen) return body;
  // JSON turns -0 into 0 and so on: judge the value the server will see.
  const value = JSON.parse(JSON.stringify(broken.value)) as Json;
  const wrong = chosen.invalid(value) ? value : chosen.fallback;
  if (chosen.alert && alertObject) alertObject[chosen.field] = wrong;
  else if (chosen.alert) body.status = 'burning';
  else body[chosen.field] = wrong;
  return body;
}

/** Defines `key` as an own, enumerable property, so that `__proto__` is written out by JSON.stringify like any key. */
function setOwn(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const jsonHeaders = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as JsonObject;

const marker = 'FUZZ-MARKER-5f0c';

/**
 * Puts the marker string at `where` in `body`, breaks the body, then swaps the marker for `raw` (JSON text), so raw
 * text can go anywhere. The break comes last so that it cannot be undone by the placement.
 */
function splice(body: JsonObject, where: Placement, raw: string, broken: Breaker | undefined): Buffer {
  placements[where](body);
  if (broken) breakBody(body, broken);
  return Buffer.from(JSON.stringify(body).replace(`"${marker}"`, raw));
}

const placements = {
  top: (body: JsonObject) => {
    body.extra = marker;
  },
  labelValue: (body: JsonObject) => {
    firstAlert(body).labels = { alertname: 'InstanceDown', instance: marker };
  },
  labelName: (body: JsonObject) => {
    firstAlert(body).labels = { alertname: 'InstanceDown', [marker]: 'v' };
  },
  annotationValue: (body: JsonObject) => {
    firstAlert(body).annotations = { summary: marker };
  },
  receiver: (body: JsonObject) => {
    body.receiver = marker;
  },
  alertsElement: (body: JsonObject) => {
    body.alerts = [...(Array.isArray(body.alerts) ? body.alerts : []), marker];
  },
  unknownAlertField: (body: JsonObject) => {
    firstAlert(body).somethingNew = marker;
  },
};
type Placement = keyof typeof placements;
const placementNames = Object.keys(placements) as Placement[];

function firstAlert(body: JsonObject): JsonObject {
  const first = Array.isArray(body.alerts) ? body.alerts[0] : undefined;
  if (isPlainObject(first)) return first;
  const created: JsonObject = { status: 'firing', labels: {}, startsAt: '2026-11-22T03:00:00Z' };
  body.alerts = [created];
  return created;
}

// ---------------------------------------------------------------------------------------------------------------
// The kinds of hostile request.

const wrongTypes = fc
  .record({ hook: webhook, broken: breaker })
  .map(({ hook, broken }) => lazy('wrong-type', 400, () => ({ headers: jsonHeaders, body: json(breakBody(asJson(hook), broken)) })));

const pollutingKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
const pollutingValue = fc.oneof(
  fc.constant<Json>({ polluted: 'yes' }),
  fc.constant<Json>({ prototype: { polluted: 'yes' } }),
  fc.constant(null).map((): Json => {
    const value: JsonObject = {};
    setOwn(value, '__proto__', { polluted: 'yes' });
    return value;
  }),
  fc.constant<Json>('polluted'),
  fc.constant<Json>([{ polluted: 'yes' }]),
);
const levels = ['top', 'alert', 'labels', 'annotations', 'groupLabels', 'commonLabels', 'commonAnnotations', 'nested'] as const;

/** Puts `key: value` at `level` of `body` as an own property. */
function pollute(body: JsonObject, level: (typeof levels)[number], key: string, value: Json): void {
  const alertObject = firstAlert(body);
  const at: Record<(typeof levels)[number], () => JsonObject> = {
    top: () => body,
    alert: () => alertObject,
    labels: () => (isPlainObject(alertObject.labels) ? alertObject.labels : (alertObject.labels = {})),
    annotations: () => (isPlainObject(alertObject.annotations) ? alertObject.annotations : (alertObject.annotations = {})),
    groupLabels: () => (isPlainObject(body.groupLabels) ? body.groupLabels : (body.groupLabels = {})),
    commonLabels: () => (isPlainObject(body.commonLabels) ? body.commonLabels : (body.commonLabels = {})),
    commonAnnotations: () => (isPlainObject(body.commonAnnotations) ? body.commonAnnotations : (body.commonAnnotations = {})),
    nested: () => {
      const inner: JsonObject = {};
      body.extension = { deeper: [inner] };
      return inner;
    },
  };
  setOwn(at[level](), key, value);
}

const protoKeys = fc
  .record({
    hook: webhook,
    broken: breaker,
    everywhere: fc.boolean(),
    keys: fc.array(fc.record({ level: fc.constantFrom(...levels), key: pollutingKey, value: pollutingValue }), {
      minLength: 1,
      maxLength: 8,
    }),
  })
  .map(({ hook, broken, everywhere, keys }) =>
    lazy('prototype-keys', 400, () => {
      const body = asJson(hook);
      const all = everywhere
        ? levels.flatMap((level) => ['__proto__', 'constructor', 'prototype'].map((key) => ({ level, key, value: { polluted: 'yes' } })))
        : keys;
      for (const { level, key, value } of all) pollute(body, level, key, value);
      // Broken last, so that no placement can repair what the breaker broke.
      breakBody(body, broken);
      return { headers: jsonHeaders, body: json(body) };
    }),
  );

const fillers: Record<string, string> = {
  ascii: 'abcdefghijklmnopqrstuvwxyz0123456789',
  escapedNul: '\\u0000',
  loneSurrogate: '\\ud800',
  emoji: '\u{1F525}',
  quotes: '\\"\\\\',
  controls: '\\b\\f\\n\\r\\t',
};

/** A JSON string literal of about `bytes` bytes made of `filler`. */
function hugeString(filler: string, bytes: number): string {
  return `"${filler.repeat(Math.max(1, Math.floor(bytes / Buffer.byteLength(filler))))}"`;
}

const hugeStrings = fc
  .record({
    hook: webhook,
    broken: breaker,
    bytes: fc.integer({ min: 10_000, max: 400_000 }),
    filler: fc.constantFrom(...Object.keys(fillers)),
    where: fc.constantFrom(...placementNames),
  })
  .map(({ hook, broken, bytes, filler, where }) =>
    lazy('huge-string', 400, () => ({
      headers: jsonHeaders,
      body: splice(asJson(hook), where, hugeString(fillers[filler] ?? 'x', bytes), broken),
    })),
  );

const overLimit = fc
  .record({
    hook: webhook,
    bytes: fc.integer({ min: bodyLimit + 1, max: bodyLimit + 512 * 1024 }),
    filler: fc.constantFrom(...Object.keys(fillers)),
  })
  .map(({ hook, bytes, filler }) =>
    // Valid apart from its size: a 202 would mean the limit was not enforced.
    lazy('over-limit', 413, () => ({
      headers: jsonHeaders,
      body: splice(asJson(hook), 'annotationValue', hugeString(fillers[filler] ?? 'x', bytes), undefined),
    })),
  );

const deepNesting = fc
  .record({
    hook: webhook,
    broken: breaker,
    depth: fc.oneof(
      { arbitrary: fc.integer({ min: 2, max: 2_000 }), weight: 3 },
      { arbitrary: fc.integer({ min: 10_000, max: 60_000 }), weight: 1 },
    ),
    shape: fc.constantFrom('array', 'object', 'mixed'),
    where: fc.constantFrom('whole' as const, ...placementNames),
    balanced: fc.boolean(),
  })
  .map(({ hook, broken, depth, shape, where, balanced }) =>
    lazy('deep-nesting', 400, () => {
      const opens: string[] = [];
      const closes: string[] = [];
      for (let level = 0; level < depth; level++) {
        const array = shape === 'array' || (shape === 'mixed' && level % 2 === 0);
        opens.push(array ? '[' : '{"__proto__":');
        closes.push(array ? ']' : '}');
      }
      const nested = `${opens.join('')}"bottom"${balanced ? closes.reverse().join('') : ''}`;
      if (where === 'whole') return { headers: jsonHeaders, body: Buffer.from(nested) };
      return { headers: jsonHeaders, body: splice(asJson(hook), where, nested, broken) };
    }),
  );

/** Byte sequences that are not UTF-8: a lone continuation byte, overlong forms, a surrogate, truncated sequences. */
const badUtf8 = [
  [0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xfe, 0xfe, 0xff],
  [0xc3],
];

const invalidUtf8 = fc
  .record({
    hook: webhook,
    broken: breaker,
    injections: fc.array(
      fc.record({ inString: fc.boolean(), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.constantFrom(...badUtf8) }),
      { minLength: 1, maxLength: 6 },
    ),
    charset: fc.constantFrom('', '; charset=utf-8', '; charset=UTF-8'),
  })
  .map(({ hook, broken, injections, charset }) =>
    lazy('invalid-utf8', 400, () => {
      const body = asJson(hook);
      placements.labelValue(body);
      breakBody(body, broken);
      let bytes = json(body);
      for (const injection of injections) {
        const markerAt = bytes.indexOf(marker);
        const at =
          injection.inString && markerAt >= 0
            ? markerAt + Math.floor(injection.at * marker.length)
            : Math.floor(injection.at * bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(injection.bytes), bytes.subarray(at)]);
      }
      return { headers: { ...jsonHeaders, 'content-type': `application/json${charset}` }, body: bytes };
    }),
  );

const garbage = fc
  .uint8Array({ maxLength: 4096 })
  .map((bytes) => lazy('binary-garbage', 400, () => ({ headers: jsonHeaders, body: Buffer.from(bytes) })));

/** Ways to make one alert of many invalid. */
const alertBreaks: ((alert: JsonObject) => Json)[] = [
  (alert) => ({ ...alert, status: 'burning' }),
  ({ startsAt: _dropped, ...alert }) => alert,
  (alert) => ({ ...alert, labels: { alertname: 5 } }),
  (alert) => ({ ...alert, startsAt: 'not a time' }),
  (alert) => ({ ...alert, fingerprint: '' }),
  (alert) => ({ ...alert, annotations: 'text' }),
  () => null,
];

const manyAlerts = fc
  .record({
    count: fc.integer({ min: 1_000, max: 3_000 }),
    mode: fc.constantFrom('one-bad', 'all-bad', 'first-bad', 'last-bad'),
    index: fc.nat(),
    how: fc.nat(alertBreaks.length - 1),
  })
  .map(({ count, mode, index, how }) =>
    lazy('many-alerts', 400, () => {
      const alerts: Json[] = [];
      for (let i = 0; i < count; i++) {
        alerts.push({
          status: 'firing',
          labels: { alertname: 'InstanceDown', instance: `host-${i}` },
          annotations: {},
          startsAt: '2026-11-22T03:00:00Z',
          fingerprint: `f${i.toString(16).padStart(15, '0')}`,
        });
      }
      const bad =
        mode === 'first-bad'
          ? [0]
          : mode === 'last-bad'
            ? [count - 1]
            : mode === 'one-bad'
              ? [index % count]
              : alerts.map((_alert, i) => i);
      const breakAlert = alertBreaks[how] ?? (() => null);
      for (const at of bad) alerts[at] = breakAlert(alerts[at] as JsonObject);
      return { headers: jsonHeaders, body: json({ receiver: 'remediator', status: 'firing', alerts, version: '4' }) };
    }),
  );

const truncated = fc.record({ hook: webhook, cut: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }).map(({ hook, cut }) =>
  lazy('truncated-json', 400, () => {
    // A strict prefix of an object's JSON never parses (its closing brace is missing), and may end mid-character.
    const bytes = json(hook);
    return { headers: jsonHeaders, body: bytes.subarray(0, Math.floor(cut * bytes.length)) };
  }),
);

const malformedTexts = [
  '',
  ' ',
  'null',
  'true',
  '0',
  '-0',
  '1e999',
  '"webhook"',
  '[]',
  '[{}]',
  '{}',
  '{"alerts":[]}',
  'NaN',
  '{"status":NaN}',
  "{'status':'firing'}",
  '{"status":"firing",}',
  '{"status":"firing" /* c */}',
  '\ufeff{"status":"burning"}',
  '{"status":"firing","receiver":"r","alerts":[],"status":5}',
  '{"receiver":"r","alerts":[],"status":"firing","truncatedAlerts":1e400}',
  '{"receiver":"r","alerts":[],"status":"firing","truncatedAlerts":-1}',
  '{"receiver":"r","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"2026-11-22T03:00:00Z"}],"status":"firing","truncatedAlerts":0.5}',
  '{"receiver":"r","alerts":[{"status":"firing","labels":{"a":"\\ud800"},"startsAt":"not a time"}],"status":"firing"}',
  '{"receiver":"r","status":"firing","alerts":[null]}',
  '{"receiver":"r","status":"firing","alerts":{"length":1,"0":{}}}',
  '{"a":"\\u00',
  '{"a":"\\x41"}',
  '\u0000',
];
const jsonEdges = fc.oneof(
  fc.constantFrom(...malformedTexts).map((text) => lazy('json-edge', 400, () => ({ headers: jsonHeaders, body: Buffer.from(text) }))),
  (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>)
    .filter((value) => !isPlainObject(value) || !('alerts' in value))
    .map((value) => lazy('json-value', 400, () => ({ headers: jsonHeaders, body: json(value) }))),
);

const wrongContentType = fc
  .record({
    hook: webhook,
    contentType: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
      'application/json-seq',
      'text/json',
      'none',
      'application/json; charset=latin1',
      'application/json; charset=iso-8859-1',
      'application/json; charset=us-ascii',
    ),
  })
  .map(({ hook, contentType }) =>
    lazy('wrong-content-type', 415, () => {
      // The body is a valid webhook: only the content type is wrong, so a 202 would mean the type was not checked.
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        ...(contentType === 'none' ? {} : { 'content-type': contentType }),
      };
      return { headers, body: json(hook) };
    }),
  );

const bomb = gzipSync(Buffer.alloc(3 * bodyLimit, 0x20)); // 3 MiB of spaces in a few KiB
const encodings = fc
  .record({
    hook: webhook,
    broken: breaker,
    mode: fc.constantFrom('gzip', 'deflate', 'br', 'gzip-garbage', 'gzip-bomb', 'unknown-encoding'),
  })
  .map(({ hook, broken, mode }) => {
    const plain = () => json(breakBody(asJson(hook), broken));
    const headers = (encoding: string) => ({ ...jsonHeaders, 'content-encoding': encoding });
    switch (mode) {
      case 'gzip':
        return lazy(`encoding-${mode}`, 400, () => ({ headers: headers('gzip'), body: gzipSync(plain()) }));
      case 'deflate':
        return lazy(`encoding-${mode}`, 400, () => ({ headers: headers('deflate'), body: deflateSync(plain()) }));
      case 'br':
        return lazy(`encoding-${mode}`, 400, () => ({ headers: headers('br'), body: brotliCompressSync(plain()) }));
      case 'gzip-garbage':
        return lazy(`encoding-${mode}`, 400, () => ({ headers: headers('gzip'), body: plain() }));
      case 'gzip-bomb':
        return lazy(`encoding-${mode}`, 413, () => ({ headers: headers('gzip'), body: bomb }));
      default:
        return lazy(`encoding-${mode}`, 415, () => ({ headers: headers('x-fuzz'), body: gzipSync(plain()) }));
    }
  });

const wrongAuth = fc
  .record({
    hook: webhook,
    authorization: fc.oneof(
      fc.constantFrom(
        'none',
        'Bearer wrong',
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Basic ${Buffer.from(`alertmanager:${token}x`).toString('base64')}`,
        `Basic ${Buffer.from(token).toString('base64')}`,
        `Token ${token}`,
        'Basic',
        'Bearer',
      ),
      fc
        .string({ unit: 'binary-ascii', minLength: 1, maxLength: 60 })
        .filter((text) => /^[\x21-\x7e][\x20-\x7e]*$/.test(text) && !text.includes(token)),
    ),
  })
  .map(({ hook, authorization }) =>
    lazy('wrong-auth', 401, () => {
      // A valid webhook: only the credentials are wrong, so a 202 would mean they were not checked.
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...(authorization === 'none' ? {} : { authorization }),
      };
      return { headers, body: json(hook) };
    }),
  );

const hostileRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { arbitrary: wrongTypes, weight: 50 },
  { arbitrary: protoKeys, weight: 30 },
  { arbitrary: invalidUtf8, weight: 18 },
  { arbitrary: garbage, weight: 4 },
  { arbitrary: truncated, weight: 20 },
  { arbitrary: jsonEdges, weight: 16 },
  { arbitrary: deepNesting, weight: 14 },
  { arbitrary: hugeStrings, weight: 8 },
  { arbitrary: overLimit, weight: 1 },
  { arbitrary: manyAlerts, weight: 4 },
  { arbitrary: wrongContentType, weight: 12 },
  { arbitrary: encodings, weight: 10 },
  { arbitrary: wrongAuth, weight: 10 },
);

// ---------------------------------------------------------------------------------------------------------------
// Sending.

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

function send(base: string, agent: Agent, fuzz: { headers: Record<string, string>; body: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/webhooks/alertmanager`,
      { method: 'POST', agent, headers: { ...fuzz.headers, 'content-length': String(fuzz.body.length) }, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(fuzz.body);
  });
}

/** What is wrong with an answer, or undefined when it is a JSON 4xx error with the expected status. */
function problemWith(answer: Answer, expected: number): string | undefined {
  if (answer.status !== expected) return `status ${answer.status}, expected ${expected}`;
  if (!/^application\/json\b/.test(answer.contentType)) return `content-type ${answer.contentType}`;
  try {
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return 'no {error:{code,message}} in the body';
  } catch {
    return 'the body is not JSON';
  }
  return undefined;
}

/** The value of a sample in Prometheus text (`name` with its labels, if any); 0 when absent. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** RSS and heap used of the remediator process, read after a full GC that its /metrics confirms. */
async function memory(remediator: RemediatorProcess): Promise<{ rss: number; heap: number }> {
  const scrape = async () => (await fetch(`${remediator.url}/metrics`)).text();
  const majorGcs = (text: string) => metric(text, 'remediator_nodejs_gc_duration_seconds_count{kind="major"}');
  const before = majorGcs(await scrape());
  process.kill(remediator.child.pid ?? 0, 'SIGUSR2');
  const rss = (text: string) => metric(text, 'remediator_process_resident_memory_bytes');
  const text = await waitFor(
    'a full GC in remediator',
    async () => {
      const current = await scrape();
      return majorGcs(current) > before ? current : undefined;
    },
    10_000,
    100,
  );
  assert.ok(rss(text) > 0, 'RSS in /metrics');
  // V8 hands the pages the GC freed back in the background: read once RSS stops falling.
  let last = rss(text);
  const settled = await waitFor(
    'RSS to stop falling after the GC',
    async () => {
      const current = await scrape();
      const falling = rss(current) < last;
      last = rss(current);
      return falling ? undefined : current;
    },
    10_000,
    50,
  );
  return { rss: rss(settled), heap: metric(settled, 'remediator_nodejs_heap_size_used_bytes') };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe(`webhook fuzzing with ${totalBodies} hostile bodies against remediator serve (seed ${seed})`, () => {
  let redis: TestRedis;
  let remediator: RemediatorProcess;
  let playbooks: { dir: string; remove: () => Promise<void> };
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const statuses = new Map<number, number>();
  const kinds = new Map<string, number>();
  const problems: string[] = [];
  let warm: { rss: number; heap: number } | undefined;
  let end: { rss: number; heap: number } | undefined;

  before(async () => {
    redis = await startRedis();
    playbooks = await writePlaybooks({ 'note-down.yaml': noteDownPlaybook });
    const preload = join(playbooks.dir, 'gc-on-signal.mjs');
    await writeFile(preload, gcOnSignal);
    remediator = await startRemediatorProcess({
      NODE_OPTIONS: `--import=${preload}`,
      REDIS_URL: redis.url,
      REMEDIATIONS_DIR: playbooks.dir,
      QUEUE_NAME: `test-fuzz-${randomBytes(4).toString('hex')}`,
      WEBHOOK_TOKEN: token,
      WEBHOOK_BODY_LIMIT: String(bodyLimit),
      LOG_LEVEL: 'warn',
    });
    const requests = fc.sample(hostileRequest, { seed, numRuns: totalBodies });
    let next = 0;
    let sent = 0;
    const worker = async (limit: number) => {
      while (next < limit) {
        const index = next++;
        const fuzz = requests[index];
        if (!fuzz) continue;
        kinds.set(fuzz.kind, (kinds.get(fuzz.kind) ?? 0) + 1);
        const made = fuzz.make();
        let problem: string | undefined;
        try {
          const answer = await send(remediator.url, agent, made);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          problem = problemWith(answer, fuzz.expect);
          if (problem) problem += `; body ${answer.text.slice(0, 200)}`;
        } catch (error) {
          problem = `request failed: ${(error as Error).message}`;
        }
        if (problem && problems.length < 20) {
          problems.push(
            `#${index} ${fuzz.kind}: ${problem}\n    sent ${JSON.stringify(made.headers)} ${made.body.length} bytes: ${JSON.stringify(made.body.subarray(0, 300).toString('latin1'))}`,
          );
        }
        sent++;
      }
    };
    const sendUpTo = (limit: number) => Promise.all(Array.from({ length: inFlight }, () => worker(limit)));
    await sendUpTo(warmupBodies);
    warm = await memory(remediator);
    await sendUpTo(totalBodies);
    end = await memory(remediator);
    assert.equal(sent, totalBodies);
  });

  after(async () => {
    agent.destroy();
    await remediator.stop();
    await playbooks.remove();
    await redis.stop();
  });

  test('every hostile body got the expected 4xx with a JSON error body, and none a 5xx or a dropped connection', (t) => {
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    t.diagnostic(`kinds: ${JSON.stringify(Object.fromEntries([...kinds].sort(([a], [b]) => a.localeCompare(b))))}`);
    assert.deepEqual(problems, [], `replay with FUZZ_SEED=${seed} node scripts/run-tests.mjs webhook-fuzz`);
    assert.equal(
      [...statuses.values()].reduce((sum, count) => sum + count, 0),
      totalBodies,
    );
    assert.ok(
      [...statuses.keys()].every((status) => status >= 400 && status < 500),
      `seed ${seed}`,
    );
  });

  test('the process is still up and ready, counted every request, accepted none and met no internal error', async () => {
    assert.ok(remediator.running(), remediator.output().slice(-2000));
    assert.equal((await fetch(`${remediator.url}/readyz`)).status, 200);
    const text = await (await fetch(`${remediator.url}/metrics`)).text();
    const outcomes = Object.fromEntries(
      [...text.matchAll(/^remediator_webhook_requests_total\{outcome="([a-z_]+)"\} (\d+)$/gm)].map((match) => [
        match[1] ?? '',
        Number(match[2]),
      ]),
    );
    assert.equal(
      Object.values(outcomes).reduce((sum, count) => sum + count, 0),
      totalBodies,
      JSON.stringify(outcomes),
    );
    assert.equal(outcomes.error ?? 0, 0);
    assert.equal(outcomes.accepted ?? 0, 0);
    assert.doesNotMatch(remediator.output(), /"level":"(error|fatal)"/);
  });

  test('a valid webhook is still accepted after the fuzzing', async () => {
    const response = await postWebhook(
      remediator.url,
      webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'after-fuzz' } }]),
      token,
    );
    assert.equal(response.status, 202, JSON.stringify(response.body));
  });

  test(`memory is stable: heap used after a full GC grows by under ${mib(heapHeadroom)} from the warm-up, RSS by under ${rssFactor}x or ${mib(rssHeadroom)}`, (t) => {
    assert.ok(warm && end);
    t.diagnostic(
      `after ${warmupBodies} bodies: rss ${mib(warm.rss)}, heap used ${mib(warm.heap)}; after ${totalBodies}: rss ${mib(end.rss)}, heap used ${mib(end.heap)}`,
    );
    assert.ok(end.heap <= warm.heap + heapHeadroom, `heap used grew from ${mib(warm.heap)} to ${mib(end.heap)}`);
    const rssBound = Math.max(warm.rss * rssFactor, warm.rss + rssHeadroom);
    assert.ok(end.rss <= rssBound, `rss grew from ${mib(warm.rss)} to ${mib(end.rss)} (bound ${mib(rssBound)})`);
  });
});

describe('prototype-polluting keys against an in-process remediator', () => {
  let redis: TestRedis;
  let app: TestService;
  const prototypes = { object: Object.prototype, array: Array.prototype, function: Function.prototype, string: String.prototype };
  const snapshot = () =>
    Object.fromEntries(Object.entries(prototypes).map(([name, proto]) => [name, Object.getOwnPropertyNames(proto).sort()]));
  let before0: Record<string, string[]>;

  before(async () => {
    before0 = snapshot();
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'proto.yaml': `
name: proto
match: '{alertname="Proto"}'
steps:
  - name: note
    action: log
    with: { message: 'proto={{ labels.__proto__ }} constructor={{ labels.constructor }} prototype={{ labels.prototype }}' }
`,
      },
    });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('bodies with __proto__, constructor and prototype keys at every level never reach a prototype, and such labels stay plain data', async () => {
    const hostile = fc.sample(protoKeys, { seed, numRuns: 300 });
    for (const fuzz of hostile) {
      const text = fuzz.make().body.toString('utf8');
      const response = await postWebhook(app.url, text);
      assert.equal(response.status, 400, `seed ${seed}: ${text.slice(0, 300)}`);
    }
    // Valid webhooks carrying the keys everywhere: accepted, run, and the labels come out as the strings sent.
    const jobIds: string[] = [];
    for (let index = 0; index < 5; index++) {
      const body = webhookBody([{ labels: { alertname: 'Proto' }, fingerprint: `proto${String(index).padStart(11, '0')}` }]) as JsonObject;
      for (const level of levels) {
        if (level === 'labels') continue;
        for (const key of ['__proto__', 'constructor', 'prototype'])
          pollute(
            body,
            level,
            key,
            level === 'annotations' || level.startsWith('common') || level === 'groupLabels' ? `${key}-${index}` : { polluted: 'yes' },
          );
      }
      const labels = firstAlert(body).labels as JsonObject;
      for (const key of ['__proto__', 'constructor', 'prototype']) setOwn(labels, key, `${key}-${index}`);
      const response = await postWebhook(app.url, JSON.stringify(body));
      assert.equal(response.status, 202, JSON.stringify(response.body));
      jobIds.push(...(response.body as { runs: { jobId: string }[] }).runs.map((run) => run.jobId));
    }
    assert.equal(jobIds.length, 5);
    for (const [index, jobId] of jobIds.entries()) {
      await waitFor(`run ${jobId}`, async () => (await app.service.queue.getJobState(jobId)) === 'completed', 10_000);
      const job = await app.service.queue.getJob(jobId);
      const steps = (job?.data as { steps: { output?: { message?: string } }[] }).steps;
      assert.equal(steps[0]?.output?.message, `proto=__proto__-${index} constructor=constructor-${index} prototype=prototype-${index}`);
    }
    assert.deepEqual(snapshot(), before0, 'no prototype gained or lost a property');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });
});
