// Makes the sessions in fixtures/ the way a user would record them: for each
// fixture a dialpad-mock on a scaled virtual clock plays seeded scenarios,
// dialpad-record records them (--redact, every subscription kind), and
// dialpad-replay exports the session as JSON Lines. Nothing is typed by hand,
// so a fixture is exactly what the tools produce.
//
//   node scripts/make_fixtures.mjs [--bin DIR] [--only NAME] [--out DIR]
//
// --bin is a build directory holding the three programs (default
// build/release); --out defaults to fixtures/. Each fixture takes its scenarios'
// virtual length divided by its clock scale (seconds, not hours).
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: options } = parseArgs({
  options: {
    bin: { type: 'string', default: join(root, 'build/release') },
    only: { type: 'string' },
    out: { type: 'string', default: join(root, 'fixtures') },
  },
});
const programs = {
  mock: join(options.bin, 'mockserver/dialpad-mock'),
  record: join(options.bin, 'recorder/dialpad-record'),
  replay: join(options.bin, 'replayer/dialpad-replay'),
};

const minute = 60_000;
// name: the file; scale: virtual seconds per real second; parts: scenarios
// started `at` ms into the session; drop_at: an abrupt cut by the service.
const fixtures = [
  { name: 'inbound_call_answered', scale: 60, parts: [{ scenario: 'inbound_call_answered', seed: 1 }] },
  { name: 'inbound_call_voicemail', scale: 30, parts: [{ scenario: 'inbound_call_voicemail', seed: 2 }] },
  { name: 'outbound_call_answered', scale: 30, parts: [{ scenario: 'outbound_call_answered', seed: 3 }] },
  { name: 'call_transfer', scale: 30, parts: [{ scenario: 'call_transfer', seed: 4 }] },
  {
    name: 'sms_in_and_out', scale: 10,
    parts: [{ scenario: 'sms_inbound', seed: 5 }, { scenario: 'sms_outbound', seed: 6, at: 20_000 },
            { scenario: 'sms_inbound', seed: 7, at: 40_000 }],
  },
  { name: 'contact_lifecycle', scale: 30, parts: [{ scenario: 'contact_lifecycle', seed: 8 }] },
  { name: 'agent_shift', scale: 600, parts: [{ scenario: 'agent_shift', seed: 9 }] },
  { name: 'changelog_actions', scale: 30, parts: [{ scenario: 'changelog_actions', seed: 10 }] },
  { name: 'busy_hour', scale: 300, parts: [{ scenario: 'busy_hour', seed: 11 }] },
  {
    name: 'long_session_hour_cut', scale: 600, drop_at: 25 * minute,
    parts: [{ scenario: 'agent_shift', seed: 12 }, { scenario: 'busy_hour', seed: 13 },
            { scenario: 'busy_hour', seed: 14, at: 55 * minute }],
  },
];

const key = 'fixture-maker-key';
const children = new Set();
process.on('exit', () => { for (const child of children) child.kill('SIGKILL'); });

function start(program, args, env = {}) {
  const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  child.finished = new Promise((done) => child.on('exit', (code) => { children.delete(child); done(code); }));
  child.stderr_text = () => Buffer.concat(stderr).toString();
  return child;
}

async function first_line(child, what) {
  const lines = createInterface({ input: child.stdout });
  const line = await Promise.race([
    new Promise((done) => lines.once('line', done)),
    child.finished.then((code) => { throw new Error(`${what} exited ${code}: ${child.stderr_text()}`); }),
  ]);
  return JSON.parse(line);
}

async function call(url, method = 'GET', body) {
  const response = await fetch(url, { method, body: body && JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

// Polls `probe` every 20 ms of real time until it returns a truthy value.
async function until(what, probe, limit_ms = 60_000) {
  const deadline = Date.now() + limit_ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

function archive_events(archive) {
  const out = execFileSync('sqlite3', [archive, "SELECT count(*) FROM frames WHERE kind = 'event'"]);
  return Number(out.toString().trim());
}

async function make(fixture, scratch) {
  const mock = start(programs.mock, ['--port', '0', '--clock', 'virtual', '--time-scale', String(fixture.scale),
                                     '--api-key', key, '--log-level', 'warn']);
  const { http, admin } = await first_line(mock, 'dialpad-mock');
  const archive = join(scratch, `${fixture.name}.db`);
  const recorder = start(programs.record, [
    '--out', archive, '--create', '--session-name', fixture.name, '--api-base', http,
    '--subscribe', 'call:all', '--subscribe', 'sms:all,status', '--subscribe', 'contact:shared',
    '--subscribe', 'agent_status', '--subscribe', 'changelog', '--redact',
    '--clock', 'virtual', '--time-scale', String(fixture.scale), '--log-level', 'warn',
  ], { DIALPAD_API_KEY: key });

  const connections = async () => (await call(`${admin}/connections`)).connections;
  await until('the recorder to connect', async () => (await connections()).length > 0);
  const clock_ms = async () => (await call(`${admin}/clock`)).now_ms;
  const start_ms = await clock_ms();

  let end_ms = 0;
  let dropped = !fixture.drop_at;
  const pending = [...fixture.parts].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  const drop_if_due = async (now) => {
    if (dropped || now - start_ms < fixture.drop_at) return;
    const live = await connections();
    for (const c of live) await call(`${admin}/connections/${c.id}/close`, 'POST', { abrupt: true });
    dropped = true;
  };
  while (pending.length) {
    const part = pending[0];
    const now = await until(`${part.scenario} to be due`, async () => {
      const t = await clock_ms();
      await drop_if_due(t);
      return t - start_ms >= (part.at ?? 0) ? t : 0;
    });
    const plan = await call(`${admin}/scenarios/${part.scenario}`, 'POST', { seed: part.seed });
    const last = Math.max(...plan.events.map((e) => e.offset_ms));
    end_ms = Math.max(end_ms, now - start_ms + last);
    pending.shift();
  }
  // A quiet minute after the last event, then everything delivered is archived.
  await until('the scenarios to finish', async () => {
    const t = await clock_ms();
    await drop_if_due(t);
    return t - start_ms >= end_ms + minute;
  }, 180_000);
  const delivered = new Set((await call(`${admin}/deliveries`)).deliveries.map((d) => d.event)).size;
  await until(`${delivered} events in the archive`, async () => archive_events(archive) >= delivered);

  recorder.kill('SIGTERM');
  const code = await recorder.finished;
  if (code !== 0) throw new Error(`dialpad-record exited ${code}: ${recorder.stderr_text()}`);
  const recorded = archive_events(archive);
  if (recorded !== delivered) throw new Error(`${fixture.name}: delivered ${delivered} events, archived ${recorded}`);
  mock.kill('SIGTERM');
  await mock.finished;

  const file = join(options.out, `${fixture.name}.jsonl`);
  execFileSync(programs.replay, ['export', archive, '-o', file]);
  console.log(`${fixture.name}: ${recorded} events -> ${file}`);
}

mkdirSync(options.out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'fixtures-'));
try {
  const chosen = fixtures.filter((f) => !options.only || f.name === options.only);
  if (!chosen.length) throw new Error(`no fixture named '${options.only}'`);
  for (const fixture of chosen) await make(fixture, scratch);
} catch (error) {
  console.error(`make_fixtures: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
