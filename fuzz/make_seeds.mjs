// Builds the fuzz targets' starting corpora from the clone's fixtures and
// README, at run time (scripts/fuzz), so they follow both as they change:
//   node fuzz/make_seeds.mjs REPO_DIR OUT_DIR   -> OUT_DIR/<target>/<seed>
// Signed seeds use the secret and P-256 key of fuzz/fuzz_support.hpp, so
// the targets' verifiers accept them.
import { createHmac, createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [repo, out] = process.argv.slice(2);
if (!repo || !out) {
  console.error('usage: node fuzz/make_seeds.mjs REPO_DIR OUT_DIR');
  process.exit(2);
}

const support = readFileSync(join(repo, 'fuzz/fuzz_support.hpp'), 'utf8');
const secret = support.match(/k_hs256_secret = "([^"]*)"/)[1];
const pem = support.match(/-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/)[0];
const es256_key = createPrivateKey(pem);

let written = 0;
function seed(target, name, bytes) {
  const dir = join(out, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), bytes);
  written += 1;
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
function hs256(payload, header = '{"alg":"HS256","typ":"JWT"}', key = secret) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
function es256(payload, header = '{"alg":"ES256","typ":"vnd.dialpad.websocket+jwt"}') {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: es256_key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

// --- the fixtures: sessions, and the events in them -----------------------
const fixture_dir = join(repo, 'fixtures');
const fixtures = readdirSync(fixture_dir).filter((f) => f.endsWith('.jsonl')).sort();
const events = [];  // { family, text }
for (const file of fixtures) {
  const lines = readFileSync(join(fixture_dir, file), 'utf8').split('\n').filter((l) => l.length > 0);
  const stem = file.replace(/\.jsonl$/, '');
  // Short sessions mutate faster than whole ones: the header and a few frames.
  seed('fuzz_jsonl_import', `${stem}-3.jsonl`, lines.slice(0, 4).join('\n') + '\n');
  seed('fuzz_jsonl_import', `${stem}-20.jsonl`, lines.slice(0, 21).join('\n') + '\n');
  for (const line of lines.slice(1)) {
    const frame = JSON.parse(line);
    if (frame.kind === 'event' && typeof frame.text === 'string') events.push(frame.text);
  }
}

// Distinct shapes first: one event per family and state, then the rest.
const seen = new Set();
const shapes = [];
for (const text of events) {
  const e = JSON.parse(text);
  const key = Object.keys(e).sort().join(',') + '|' + (e.state ?? e.message_status ?? e.event ?? e.on_duty_status ?? e.action);
  if (!seen.has(key)) {
    seen.add(key);
    shapes.push(text);
  }
}
shapes.forEach((text, i) => {
  seed('fuzz_event_index', `event-${i}.json`, text);
  if (i % 3 === 0) seed('fuzz_event_index', `event-${i}.jwt`, hs256(text));
  if (i % 4 === 0) seed('fuzz_jwt', `hs256-${i}.jwt`, hs256(text));
  if (i % 6 === 0) seed('fuzz_jwt', `es256-${i}.jwt`, es256(text));
});
const claims = '{"iss":"https://dialpad.com","sub":"endpoint:5700000000000001:*","iat":1767225600,"exp":1767229200}';
seed('fuzz_jwt', 'token-es256.jwt', es256(claims));
seed('fuzz_jwt', 'token-hs256.jwt', hs256(claims, '{"alg":"HS256","typ":"vnd.dialpad.websocket+jwt"}'));
seed('fuzz_jwt', 'alg-none.jwt', `${b64url('{"alg":"none"}')}.${b64url(claims)}.`);
seed('fuzz_jwt', 'wrong-secret.jwt', hs256(claims, undefined, 'not-the-secret'));

// --- HTTP: the README's curl lines and admin calls --------------------------
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
function request(method, target, headers, body = '') {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1:8088', ...headers];
  if (body.length > 0 || method === 'POST' || method === 'PATCH') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}
const curls = readme.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => /^\s*curl /.test(l));
curls.forEach((line, i) => {
  const method = (line.match(/-X (\w+)/) ?? [, 'GET'])[1];
  const url = new URL(line.match(/(https?:\/\/\S+)/)[1]);
  const headers = [...line.matchAll(/-H '([^']*)'/g)].map((m) => m[1]);
  const body = (line.match(/-d '([^']*)'/) ?? [, ''])[1].replace('<id from above>', '5700000000000001');
  if (body) headers.push('Content-Type: application/json');
  seed('fuzz_http_request', `curl-${i}.http`, request(method, url.pathname + url.search, headers, body));
});
// Admin table rows: `METHOD /__admin/...` with the row's JSON example as body.
const rows = readme.split('\n').filter((l) => l.startsWith('| `') && l.includes('/__admin'));
rows.forEach((row, i) => {
  const body = (row.match(/`(\{.*?\})`/) ?? [, ''])[1];
  for (const [, method, target] of row.matchAll(/`(GET|POST|DELETE|PATCH) (\/__admin\/[^`\s]*)`/g)) {
    const path = target.replace('{name}', 'busy_hour').replace('{id}', '1');
    const b = method === 'POST' ? body : '';
    seed('fuzz_http_request', `admin-${i}-${method}.http`,
         request(method, path, b ? ['Content-Type: application/json'] : [], b));
  }
});
// Recorded events injected as the admin API takes them, one and a batch.
const family = (e) => ('call_id' in e && 'state' in e ? 'call' : 'from_number' in e || 'to_number' in e ? 'sms'
  : 'contact' in e && 'event' in e ? 'contact' : 'on_duty_status' in e ? 'agent_status' : 'changelog');
shapes.slice(0, 12).forEach((text, i) => {
  const body = JSON.stringify({ type: family(JSON.parse(text)), raw: text });
  seed('fuzz_http_request', `event-${i}.http`, request('POST', '/__admin/events', ['Content-Type: application/json'], body));
});
const batch = JSON.stringify({ events: shapes.slice(0, 6).map((text) => ({ type: family(JSON.parse(text)), payload: JSON.parse(text) })) });
seed('fuzz_http_request', 'event-batch.http', request('POST', '/__admin/events', ['Content-Type: application/json'], batch));

// --- command lines and filters from the README ------------------------------
const commands = readme.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter((l) => /^build\/release\/\w+\/dialpad-(record|replay|mock)\b/.test(l));
commands.forEach((line, i) => {
  const [program, ...args] = line.split(/\s+/);
  seed('fuzz_cli', `readme-${i}.args`, [program.split('/').pop(), ...args].join('\n') + '\n');
});
const call_ids = [...new Set(events.map((t) => JSON.parse(t).call_id).filter((id) => id))].slice(0, 4);
const filters = ['family=call,sms', 'state=hangup,missed', 'from=90s\nto=10m', 'family=contact\nfrom=250ms',
  ...call_ids.map((id) => `call=${id}`), ...call_ids.map((id) => `call-graph=${id}\nstate=ringing`)];
filters.forEach((f, i) => seed('fuzz_filter', `filter-${i}.txt`, f + '\n'));

console.log(`make_seeds: ${written} seeds in ${out}`);
