import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError, errorCodes } from '../../src/core/errors/index.js';
import { findReferences, renderString, renderValue, type TemplateContext } from '../../src/core/template/template.js';
import { unquotePromqlString } from '../../src/core/promql/unquote.js';

function context(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): TemplateContext {
  return {
    labels: { alertname: 'InstanceDown', instance: 'stream-1:9100', cluster: 'stream', ...labels },
    annotations: { summary: 'stream-1 is down', hook: 'https://hooks.example.com/restart?id=7', ...annotations },
    alert: { fingerprint: 'c3b5a2f1e0d9c8b7', status: 'firing', startsAt: '2026-11-22T03:00:00Z', generatorURL: 'http://prometheus/graph' },
    run: { id: 'stream-primary-restart-abc', playbook: 'stream-primary-restart', target: 'stream-1:9100' },
  };
}

const hostile = ['$(touch /tmp/x)', '; rm -rf /', '`id`', 'a\nb\r\nc', 'nul\u0000byte', '"}], "x": 1', "' OR 1=1 --", '$& $1 $$'];

function assertUnknownReference(render: () => unknown, pattern: RegExp): void {
  assert.throws(render, (error: unknown) => {
    assert.ok(error instanceof AppError, 'an AppError');
    assert.equal(error.code, errorCodes.TEMPLATE_UNKNOWN_REFERENCE);
    assert.equal(error.code, 'REM_TEMPLATE_UNKNOWN_REFERENCE');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('findReferences', () => {
  test('finds every reference with its root and key, with or without spaces', () => {
    const { references, problems } = findReferences(
      '{{labels.instance}} in {{ labels.cluster }} since {{  alert.startsAt  }} ({{ run.id }}, {{ annotations.summary }})',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      references.map(({ root, key }) => `${root}.${key}`),
      ['labels.instance', 'labels.cluster', 'alert.startsAt', 'run.id', 'annotations.summary'],
    );
    assert.equal(references[0]?.text, '{{labels.instance}}');
  });

  test('text without references has neither references nor problems', () => {
    assert.deepEqual(findReferences('plain { text } with braces'), { references: [], problems: [] });
  });

  test('an unknown root such as label.x is a problem that lists the valid roots', () => {
    const { references, problems } = findReferences('{{ label.x }}');
    assert.deepEqual(references, []);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /unknown reference "\{\{ label\.x \}\}".*labels\.NAME/);
  });

  test('an unknown alert or run field is a problem naming the fields there are', () => {
    const { references, problems } = findReferences('{{ alert.severity }} {{ run.owner }} {{ alert.endsAt }}');
    assert.deepEqual(
      references.map((reference) => reference.key),
      ['endsAt'],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /alert\.severity.*fingerprint, status, startsAt, endsAt, generatorURL/);
    assert.match(problems[1] ?? '', /run\.owner.*id, playbook, target/);
  });

  test('a malformed reference is a problem', () => {
    assert.equal(findReferences('{{ labels.a-b }}').problems.length, 1);
    assert.equal(findReferences('{{ labels }}').problems.length, 1);
    assert.equal(findReferences('{{}}').problems.length, 1);
  });

  test('filters follow a pipe: default takes one quoted text, host none', () => {
    const { references, problems } = findReferences(
      `{{ annotations.summary | default("no summary given") }} {{labels.instance|host}} {{ labels.x | host | default('none') }}`,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      references.map((reference) => reference.filters),
      [[{ name: 'default', text: 'no summary given' }], [{ name: 'host' }], [{ name: 'host' }, { name: 'default', text: 'none' }]],
    );
    assert.equal(references[0]?.text, '{{ annotations.summary | default("no summary given") }}');
  });

  test('a default may hold braces, pipes and escaped quotes: the reference ends at the first }} outside quotes', () => {
    const { references, problems } = findReferences(String.raw`a {{ labels.x | default("}} | {{ \"q\" \\") }} b {{ labels.y }}`);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      references.map((reference) => [reference.key, reference.filters]),
      [
        ['x', [{ name: 'default', text: '}} | {{ "q" \\' }]],
        ['y', []],
      ],
    );
  });

  test('an unknown filter, a filter written wrongly and text after a filter are problems naming the filters there are', () => {
    for (const text of [
      '{{ labels.instance | upper }}',
      '{{ labels.x | default }}',
      '{{ labels.x | default(labels.y) }}',
      '{{ labels.x | default("a", true) }}',
      '{{ labels.x | host("a") }}',
      '{{ labels.x | host() }}',
      '{{ labels.x | default("a") junk }}',
      '{{ labels.x | }}',
      '{{ labels.x host }}',
    ]) {
      const { references, problems } = findReferences(text);
      assert.deepEqual(references, [], text);
      assert.equal(problems.length, 1, text);
    }
    assert.match(findReferences('{{ labels.instance | upper }}').problems[0] ?? '', /unknown filter "upper".*default\("text"\), host/);
    assert.match(findReferences('{{ labels.x | default }}').problems[0] ?? '', /write default\("text"\)/);
  });

  test('a {{ without its closing }}, or with a quote left open, is a problem instead of literal text', () => {
    assert.match(findReferences('restart {{ labels.instance').problems[0] ?? '', /no closing \}\}/);
    assert.match(findReferences('{{ labels.x | default("oops) }} and {{ labels.y }}').problems[0] ?? '', /no closing \}\}/);
  });
});

describe('renderString', () => {
  test('substitutes labels, annotations, alert fields and run fields', () => {
    const text =
      '{{ labels.instance }}|{{ annotations.summary }}|{{ alert.fingerprint }}|{{ alert.startsAt }}|{{ alert.status }}|{{ run.playbook }}|{{ run.target }}';
    assert.equal(
      renderString(text, context()),
      'stream-1:9100|stream-1 is down|c3b5a2f1e0d9c8b7|2026-11-22T03:00:00Z|firing|stream-primary-restart|stream-1:9100',
    );
  });

  test('text without references is returned unchanged', () => {
    assert.equal(renderString('restart nginx', context()), 'restart nginx');
  });

  test('a label the alert does not have throws REM_TEMPLATE_UNKNOWN_REFERENCE', () => {
    assertUnknownReference(() => renderString('host {{ labels.role }}', context()), /labels\.role.*no value/);
  });

  test('an inherited property name is not a label', () => {
    assertUnknownReference(() => renderString('{{ labels.constructor }}', context()), /labels\.constructor/);
    assertUnknownReference(() => renderString('{{ annotations.toString }}', context()), /annotations\.toString/);
  });

  test('an alert field the alert lacks, such as endsAt while firing, throws', () => {
    assertUnknownReference(() => renderString('ended {{ alert.endsAt }}', context()), /alert\.endsAt/);
  });

  test('an unknown reference throws REM_TEMPLATE_UNKNOWN_REFERENCE before anything is rendered', () => {
    assertUnknownReference(() => renderString('{{ labels.instance }} {{ label.x }}', context()), /label\.x/);
  });

  test('an empty label value is a value, not a missing one', () => {
    assert.equal(renderString('[{{ labels.role }}]', context({ role: '' })), '[]');
  });

  test('a value that looks like a reference is not rendered again', () => {
    assert.equal(renderString('{{ labels.a }}', context({ a: '{{ labels.instance }}' })), '{{ labels.instance }}');
  });

  test('url escaping percent-encodes values embedded in a URL', () => {
    const ctx = context({ path: '../../etc/passwd', query: 'a b?c=d', frag: 'x#y&z=1' });
    assert.equal(
      renderString('https://api.example.com/hosts/{{ labels.path }}/restart', ctx, 'url'),
      'https://api.example.com/hosts/..%2F..%2Fetc%2Fpasswd/restart',
    );
    assert.equal(
      renderString('https://api.example.com/q?host={{ labels.query }}', ctx, 'url'),
      'https://api.example.com/q?host=a%20b%3Fc%3Dd',
    );
    assert.equal(renderString('https://api.example.com/{{ labels.frag }}', ctx, 'url'), 'https://api.example.com/x%23y%26z%3D1');
  });

  test('url escaping refuses a value that makes a path segment . or .., which URL parsing would resolve to another path', () => {
    for (const value of ['..', '.']) {
      assertUnknownReference(
        () => renderString('https://api.example.com/hosts/{{ labels.x }}/restart', context({ x: value }), 'url'),
        /path segment/,
      );
      assertUnknownReference(
        () => renderString('https://api.example.com/hosts/{{ labels.x }}', context({ x: value }), 'url'),
        /path segment/,
      );
    }
    // Half written in the playbook, half from the label: the segment is still `..`.
    assertUnknownReference(
      () => renderString('https://api.example.com/hosts/.{{ labels.x }}/restart', context({ x: '.' }), 'url'),
      /path segment/,
    );
    assertUnknownReference(() => renderString('{{ labels.x }}/{{ labels.y }}', context({ x: 'a', y: '..' }), 'url'), /path segment/);
  });

  test('url escaping keeps dots that cannot move the request: inside a longer segment, in the query, or written in the playbook', () => {
    const ctx = context({ dots: '...', dotted: '..a', dot: '..' });
    assert.equal(
      renderString('https://api.example.com/hosts/{{ labels.dots }}/{{ labels.dotted }}', ctx, 'url'),
      'https://api.example.com/hosts/.../..a',
    );
    assert.equal(
      renderString('https://api.example.com/hosts?name={{ labels.dot }}#{{ labels.dot }}', ctx, 'url'),
      'https://api.example.com/hosts?name=..#..',
    );
    assert.equal(renderString('https://api.example.com/a/../{{ labels.dots }}', ctx, 'url'), 'https://api.example.com/a/../...');
  });

  test('url escaping leaves a field that is exactly one reference raw', () => {
    assert.equal(renderString('{{ annotations.hook }}', context(), 'url'), 'https://hooks.example.com/restart?id=7');
  });

  test('two references in one field are both escaped, even with nothing between them', () => {
    const ctx = context({ a: 'x/y', b: 'p q' });
    assert.equal(renderString('{{ labels.a }}{{ labels.b }}', ctx, 'url'), 'x%2Fyp%20q');
  });

  test('promql escaping escapes quotes, backslashes and newlines in embedded values', () => {
    const ctx = context({ instance: 'a"} or vector(1) or up{x="\\\n' });
    const query = renderString('up{instance="{{ labels.instance }}"} == 1', ctx, 'promql');
    assert.equal(query, 'up{instance="a\\"} or vector(1) or up{x=\\"\\\\\\n"} == 1');
  });

  test('a promql value outside any string literal must be a bare number, duration or name', () => {
    assert.equal(renderString('up > {{ labels.q }}', context({ q: '0.5' }), 'promql'), 'up > 0.5');
    assert.equal(renderString('rate(x[{{ labels.q }}])', context({ q: '5m' }), 'promql'), 'rate(x[5m])');
    assert.equal(renderString('{{ labels.q }}', context({ q: 'up' }), 'promql'), 'up');
    for (const hostile of ['1 or vector(1)', 'say "hi"', '0) or (vector(1)', '1\n']) {
      assert.throws(() => renderString('up > {{ labels.q }}', context({ q: hostile }), 'promql'), {
        code: 'REM_TEMPLATE_UNKNOWN_REFERENCE',
      });
      assert.throws(() => renderString('{{ labels.q }}', context({ q: hostile }), 'promql'), { code: 'REM_TEMPLATE_UNKNOWN_REFERENCE' });
    }
  });

  test('a promql value inside a single-quoted literal is escaped for single quotes and decodes back', () => {
    for (const value of hostile) {
      const rendered = renderString("'{{ labels.v }}'", context({ v: value }), 'promql');
      assert.equal(unquotePromqlString(rendered), value);
    }
    assert.equal(renderString("up{a='{{ labels.v }}'}", context({ v: `o'brien "x"` }), 'promql'), `up{a='o\\'brien "x"'}`);
  });

  test('a promql value inside a backtick literal is inserted raw unless it contains a backtick', () => {
    assert.equal(renderString('up{a=`{{ labels.v }}`}', context({ v: 'a"b\\c' }), 'promql'), 'up{a=`a"b\\c`}');
    assert.throws(() => renderString('up{a=`{{ labels.v }}`}', context({ v: 'a`} or vector(1)' }), 'promql'), {
      code: 'REM_TEMPLATE_UNKNOWN_REFERENCE',
    });
  });

  test('the promql context is found after escaped quotes earlier in the query', () => {
    const rendered = renderString('up{a="x\\"y", b="{{ labels.v }}"}', context({ v: '"' }), 'promql');
    assert.equal(rendered, 'up{a="x\\"y", b="\\""}');
  });

  test('a promql-escaped value decodes back to the label value inside a double-quoted literal', () => {
    for (const value of hostile) {
      const rendered = renderString('"{{ labels.v }}"', context({ v: value }), 'promql');
      assert.equal(unquotePromqlString(rendered), value);
    }
  });

  test('a default replaces a missing or empty value and is used as written; a present value is kept', () => {
    const text =
      'summary: {{ annotations.missing | default("no summary given") }}; {{ labels.role | default("unknown role") }}; {{ labels.instance | default("x") }}';
    assert.equal(renderString(text, context({ role: '' })), 'summary: no summary given; unknown role; stream-1:9100');
    assert.equal(renderString('{{ alert.endsAt | default("still firing") }}', context()), 'still firing');
  });

  test('a missing value without a default says how to give one', () => {
    assertUnknownReference(
      () => renderString('{{ annotations.summary2 }}', context()),
      /has no value for this alert \(give it one with \| default/,
    );
  });

  test('a default is escaped like any value of its field', () => {
    assert.equal(
      renderString('https://x.example/q?team={{ labels.team | default("a b&c") }}', context(), 'url'),
      'https://x.example/q?team=a%20b%26c',
    );
    assert.equal(renderString('up{team="{{ labels.team | default("say \\"hi\\"") }}"}', context(), 'promql'), 'up{team="say \\"hi\\""}');
    assertUnknownReference(() => renderString('/srv/{{ labels.dir | default("..") }}', context(), 'path'), /"\.\." segment/);
  });

  test('a quote inside a default does not change the PromQL context of the references after it', () => {
    const rendered = renderString(
      'up{a="{{ labels.a | default("x\'y") }}", b="{{ labels.b }}"}',
      context({ b: '"} or vector(1)' }),
      'promql',
    );
    assert.equal(rendered, 'up{a="x\'y", b="\\"} or vector(1)"}');
  });

  test('host keeps the host of host:port, [v6]:port and [v6], and a bare host or IPv6 address as it is', () => {
    const cases: [string, string][] = [
      ['stream-a:1935', 'stream-a'],
      ['10.0.0.7:9100', '10.0.0.7'],
      ['[2001:db8::7]:9100', '2001:db8::7'],
      ['[2001:db8::7]', '2001:db8::7'],
      ['2001:db8::7', '2001:db8::7'],
      ['stream-a', 'stream-a'],
      ['stream-a:', 'stream-a'],
      ['', ''],
    ];
    for (const [instance, host] of cases) assert.equal(renderString('{{ labels.instance | host }}', context({ instance })), host, instance);
    assert.equal(renderString('{{ labels.other | host | default("none") }}', context()), 'none');
    assert.equal(renderString('{{ labels.other | default("db-1:5432") | host }}', context()), 'db-1');
  });

  test('hostile label values come out as literal data in raw mode', () => {
    for (const value of hostile) {
      assert.equal(renderString('host={{ labels.v }}!', context({ v: value })), `host=${value}!`);
      assert.equal(renderString('{{ labels.v }}', context({ v: value })), value);
    }
  });
});

describe('path escaping', () => {
  test('a value may name a directory below the one written, with dots and slashes inside names', () => {
    for (const dir of ['sub', 'a/b', '..a', 'a..', '...', '.hidden', 'a/./b']) {
      assert.equal(renderString('/srv/{{ labels.dir }}', context({ dir }), 'path'), `/srv/${dir}`, dir);
    }
    assert.equal(renderString('{{ labels.dir }}', context({ dir: 'relative/dir' }), 'path'), 'relative/dir');
  });

  test('a value that makes a .. segment is refused, even half of one or deep inside the value', () => {
    for (const dir of ['..', '../../../etc', 'a/../../etc', 'a/..', '../']) {
      assertUnknownReference(() => renderString('/srv/{{ labels.dir }}/run', context({ dir }), 'path'), /"\.\." segment/);
    }
    assertUnknownReference(() => renderString('/srv/.{{ labels.dir }}', context({ dir: '.' }), 'path'), /"\.\." segment/);
    assertUnknownReference(() => renderString('/srv/.{{ labels.dir }}.', context({ dir: '' }), 'path'), /"\.\." segment/);
  });

  test("a .. written in the playbook is the author's", () => {
    assert.equal(renderString('/srv/app/../shared/{{ labels.dir }}', context({ dir: 'x' }), 'path'), '/srv/app/../shared/x');
  });

  test('a value that makes the path absolute is refused, a whole value included', () => {
    assertUnknownReference(() => renderString('{{ labels.dir }}', context({ dir: '/etc' }), 'path'), /absolute/);
    assertUnknownReference(() => renderString('{{ labels.dir }}/conf', context({ dir: '/etc' }), 'path'), /absolute/);
    assertUnknownReference(() => renderString('{{ labels.dir }}/etc', context({ dir: '' }), 'path'), /absolute/);
    // Below a written directory a leading slash only doubles one: /srv//etc is /srv/etc.
    assert.equal(renderString('/srv/{{ labels.dir }}', context({ dir: '/etc' }), 'path'), '/srv//etc');
  });

  test('a NUL byte in a value is refused', () => {
    assertUnknownReference(() => renderString('/srv/{{ labels.dir }}', context({ dir: 'a\u0000b' }), 'path'), /NUL/);
  });
});

describe('address escaping', () => {
  test('a value of letters, digits and . _ + - fills a local part or a domain', () => {
    assert.equal(
      renderString('oncall-{{ labels.team }}@example.com', context({ team: 'db.core+page_1-x' }), 'address'),
      'oncall-db.core+page_1-x@example.com',
    );
    assert.equal(
      renderString('oncall@{{ labels.site }}.example.com', context({ site: 'eu-west-1' }), 'address'),
      'oncall@eu-west-1.example.com',
    );
    assert.equal(
      renderString('{{ annotations.owner }}', context({}, { owner: 'db.team+alerts@ops.example.com' }), 'address'),
      'db.team+alerts@ops.example.com',
    );
  });

  test('percent-hack and bang-path routing, a second @, spaces, quotes and an empty value are refused inside an address', () => {
    for (const team of ['x%evil.example', 'a!b', 'x@evil.example', 'a b', '"a"', 'a,b', '', 'é']) {
      assertUnknownReference(() => renderString('oncall-{{ labels.team }}@example.com', context({ team }), 'address'), /address/);
    }
  });

  test('a value that breaks the dot-atom or the host name rules is refused', () => {
    for (const team of ['.', 'a.', '.a', 'a..b']) {
      assertUnknownReference(() => renderString('{{ labels.team }}@example.com', context({ team }), 'address'), /local part/);
    }
    for (const site of ['-eu', 'eu-', 'eu..west', 'eu_west', 'eu+west']) {
      assertUnknownReference(() => renderString('oncall@{{ labels.site }}.example.com', context({ site }), 'address'), /domain/);
    }
  });

  test('a whole-value address must be one local@domain of the safe set', () => {
    for (const owner of [
      'x%evil.example@relay.example.com',
      'evil.example!x@relay.example.com',
      'a@b@c.example',
      'no-at-sign',
      '@example.com',
      'a@',
      'a@-x.example',
    ]) {
      assertUnknownReference(() => renderString('{{ annotations.owner }}', context({}, { owner }), 'address'), /address|domain|local part/);
    }
  });

  test("an address written entirely in the playbook is not checked here (the action's schema checks it)", () => {
    assert.equal(renderString('weird%local!part@example.com', context(), 'address'), 'weird%local!part@example.com');
    assert.equal(renderString('"q"@{{ labels.site }}.example.com', context({ site: 'eu' }), 'address'), '"q"@eu.example.com');
  });
});

describe('form and JSON escaping of string bodies', () => {
  test('a form value is form-encoded as URLSearchParams does, so it cannot add a field', () => {
    const rendered = renderString('a=1&v={{ labels.x }}&n={{ labels.n }}', context({ x: 'x?admin=1&y=2', n: 'a b+c=é' }), 'form');
    assert.equal(rendered, 'a=1&v=x%3Fadmin%3D1%26y%3D2&n=a+b%2Bc%3D%C3%A9');
    assert.deepEqual(
      [...new URLSearchParams(rendered)],
      [
        ['a', '1'],
        ['v', 'x?admin=1&y=2'],
        ['n', 'a b+c=é'],
      ],
    );
  });

  test('a whole form body from one value is encoded too: it stays one name', () => {
    assert.equal(renderString('{{ labels.x }}', context({ x: 'a=1&b=2' }), 'form'), 'a%3D1%26b%3D2');
  });

  test('a JSON value inside a string literal is JSON-escaped and decodes back', () => {
    for (const value of [...hostile, '", "admin": true, "x": "', '\u2028']) {
      const rendered = renderString('{"v": "{{ labels.v }}", "w": "b\\"{{ labels.v }}"}', context({ v: value }), 'json');
      assert.deepEqual(JSON.parse(rendered), { v: value, w: `b"${value}` }, value);
    }
  });

  test('a JSON value outside a string literal must be a number, true, false or null', () => {
    assert.equal(renderString('{"n": {{ labels.n }}}', context({ n: '-1.5e3' }), 'json'), '{"n": -1.5e3}');
    assert.equal(renderString('{"n": {{ labels.n }}}', context({ n: 'null' }), 'json'), '{"n": null}');
    for (const n of ['1, "admin": true', '"x"', '{}', '01', 'NaN', '']) {
      assertUnknownReference(() => renderString('{"n": {{ labels.n }}}', context({ n }), 'json'), /outside a JSON string literal/);
    }
    assertUnknownReference(
      () => renderString('{{ annotations.payload }}', context({}, { payload: '{"a": 1}' }), 'json'),
      /outside a JSON string literal/,
    );
  });
});

describe('renderValue', () => {
  test('renders strings inside nested objects and arrays and keeps everything else', () => {
    const value = {
      command: ['ssh', '--', '{{ labels.instance }}', 'sudo', 'systemctl', 'restart', 'nginx'],
      env: { CLUSTER: '{{ labels.cluster }}' },
      successCodes: [0, 3],
      verbose: true,
      nothing: null,
    };
    assert.deepEqual(renderValue(value, context()), {
      command: ['ssh', '--', 'stream-1:9100', 'sudo', 'systemctl', 'restart', 'nginx'],
      env: { CLUSTER: 'stream' },
      successCodes: [0, 3],
      verbose: true,
      nothing: null,
    });
  });

  test('a label value with JSON syntax stays a plain string inside the object', () => {
    const injected = '"}], "x": 1';
    const body = { alerts: [{ host: '{{ labels.instance }}', note: 'host {{ labels.instance }}' }] };
    const rendered = renderValue({ body }, context({ instance: injected }));
    assert.deepEqual(rendered, { body: { alerts: [{ host: injected, note: `host ${injected}` }] } });
    assert.equal(Object.hasOwn((rendered as { body: Record<string, unknown> }).body, 'x'), false);
  });

  test('a hostile label value is one argv element, never split or interpreted', () => {
    for (const value of hostile) {
      const rendered = renderValue({ command: ['echo', '--', '{{ labels.v }}'] }, context({ v: value }));
      assert.deepEqual(rendered, { command: ['echo', '--', value] });
    }
  });

  test('each top-level field uses its own escape, applied to strings nested below it', () => {
    const ctx = context({ path: 'a/b c' });
    const rendered = renderValue(
      { url: 'https://x.example/{{ labels.path }}', body: { path: '{{ labels.path }}' }, query: ['q="{{ labels.path }}"'] },
      ctx,
      { url: 'url', query: 'promql' },
    );
    assert.deepEqual(rendered, {
      url: 'https://x.example/a%2Fb%20c',
      body: { path: 'a/b c' },
      query: ['q="a/b c"'],
    });
  });

  test('a missing label anywhere in the structure throws REM_TEMPLATE_UNKNOWN_REFERENCE', () => {
    assertUnknownReference(() => renderValue({ body: { deep: ['{{ labels.missing }}'] } }, context()), /labels\.missing/);
  });
});

describe('values cut on intake', () => {
  test('a label cut on intake is refused even where the reference has a default, so a cut value never falls back to one', () => {
    const cut = { ...context({ instance: 'stream-1…[cut 900 bytes]' }), cut: new Set(['labels.instance']) };
    assertUnknownReference(() => renderString('{{ labels.instance }}', cut), /was cut on intake/);
    assertUnknownReference(() => renderString('{{ labels.instance | default("stream-0") }}', cut), /was cut on intake/);
    assert.equal(renderString('{{ labels.cluster | default("none") }}', cut), 'stream');
  });
});
