// scripts/crash-test: dialpad-record killed with SIGKILL at random moments of
// a steady burst; after each kill the archive must open, pass its integrity
// checks, have lost no more than the durability window, and still serve.
//
// Usage: scripts/crash-test [--rounds 100] [--seed S] [--rate 5000]
//          [--durability-window-ms 100] [--slack-ms 100] [--max-kill-ms 2000] [--keep DIR]
//
// One dialpad-mock (port 0, its default key dev-key, which the recorder gets
// from DIALPAD_API_KEY only) and ONE archive for the whole run: each round
// starts a new recorder on the same file, so every round after the first
// opens an archive a SIGKILL left behind (hot WAL, a session with no end) and
// adds its session to it; round R's session is the R-th. Each round:
//
//  1. POST /__admin/reset (the previous websocket and the delivery journal go),
//     start `dialpad-record --create --subscribe call:all
//     --durability-window 100ms`, wait until the mock lists its connection;
//  2. inject a steady burst through POST /__admin/events batches, every 10 ms
//     (--rate events/s, each event's text a function of its global sequence
//     number: tests/e2e/node/soak_events.mjs), and SIGKILL the recorder at a
//     moment drawn uniformly from [0, --max-kill-ms] after the burst began
//     (a seeded RNG: --seed reproduces the moments);
//  3. `dialpad-replay verify ARCHIVE` exits 0 and says "integrity ok", and
//     sqlite3's PRAGMA integrity_check says "ok";
//  4. the round's events in the archive are exactly a prefix of what the mock
//     wrote to the recorder's connection (GET /__admin/deliveries): same order,
//     no duplicates, nothing foreign, every byte as injected; the lost tail
//     must have been injected no earlier than kill - window - slack (the
//     "loss horizon", kill time minus the injection time of the oldest lost
//     event, is at most window + slack). The slack covers what is not the
//     window: the admin POST and the mock's write, the recorder's read, and
//     the commit's own duration on a shared 2-core machine;
//  5. `dialpad-replay serve ARCHIVE --session R --speed max --port 0
//     --exit-after 1` serves the session to a Node.js client
//     (tests/e2e/node/replay_consumer.mjs), which must receive as many frames
//     as the archive holds for the session, with the same SHA-256 digest.
//
// The summary gives the rounds, the kill moments' distribution, the most
// events lost and the loss horizon against the bound, and the times.
// Exit 0 when every round passed, 1 otherwise, 2 on a bad command line.
// Every process is stopped and the scratch directory removed on any exit.

import { createHash, randomInt } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { soak_event_text, soak_seq_of } from '../tests/e2e/node/soak_events.mjs';
import * as s from '../tests/e2e/node/script_support.mjs';

s.set_name('crash-test');

const options = s.parse_command_line(
    {
        rounds: { type: 'string', default: '100' },
        seed: { type: 'string' },
        rate: { type: 'string', default: '5000' },
        'durability-window-ms': { type: 'string', default: '100' },
        'slack-ms': { type: 'string', default: '100' },
        'max-kill-ms': { type: 'string', default: '2000' },
        keep: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    },
    'see --help',
);
if (options.help) {
    process.stdout.write(
        'usage: scripts/crash-test [--rounds 100] [--seed S] [--rate 5000] [--durability-window-ms 100]\n' +
            '                         [--slack-ms 100] [--max-kill-ms 2000] [--keep DIR]\n',
    );
    process.exit(0);
}
const int = (name, min) => s.number_option(options, name, min, { integer: true });
const rounds = int('rounds', 1);
const rate = int('rate', 1);
const window_ms = int('durability-window-ms', 0);
const slack_ms = int('slack-ms', 0);
const max_kill_ms = int('max-kill-ms', 1);
const seed = options.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(options.seed);
if (!Number.isInteger(seed) || seed < 0) s.usage('--seed must be a non-negative integer');
let keep = null;
if (options.keep) {
    keep = resolve(options.keep);
    try {
        mkdirSync(keep, { recursive: true });
    } catch (e) {
        s.usage(`cannot write to ${keep}: ${e.message}`);
    }
}

const bin = s.programs();
const tmp = s.make_scratch('crash-test');
const archive = join(tmp, 'crash.db');
const random = s.rng(seed);
const API_KEY = 'dev-key'; // the mock's default key: nothing on any command line
const TICK_MS = 10;

for (const tool of ['sqlite3']) {
    const r = await s.run('sh', ['-c', `command -v ${tool}`], 5000);
    if (r.code !== 0) s.die(`${tool} is not installed: run 'bash scripts/setup'`);
}

console.log(
    `crash-test: ${rounds} rounds, seed ${seed} (rerun with --seed ${seed}); ${rate} events/s in ${TICK_MS}-ms batches; ` +
        `SIGKILL uniformly in [0, ${max_kill_ms}] ms into the burst; durability window ${window_ms} ms, slack ${slack_ms} ms`,
);
const started = performance.now();

// --- The mock -------------------------------------------------------------------
const mock_err = openSync(join(tmp, 'mock.err'), 'w');
const mock = s.start(bin.mock, ['--port', '0', '--log-level', 'warn'], { stderr: mock_err });
const ready = await s.ready_line(mock, 'dialpad-mock', 10000, join(tmp, 'mock.err'));
const admin = ready.admin;
const http_base = ready.http;

// --- Helpers ----------------------------------------------------------------------
async function sqlite(sql, json = false) {
    const r = await s.run('sqlite3', json ? ['-json', archive, sql] : [archive, sql], 60000);
    if (r.code !== 0) return { error: `sqlite3 exited ${r.code ?? r.signal}: ${r.stderr.trim()}` };
    return { out: r.stdout };
}

const batch_body = (first, count) => {
    const parts = [];
    for (let seq = first; seq < first + count; seq++) parts.push(`{"type":"call","raw":${JSON.stringify(soak_event_text(seq))}}`);
    return `{"events":[${parts.join(',')}]}`;
};

let next_seq = 1; // the mock numbers the events it routes 1, 2, ... in the same order
const results = [];

async function round(r) {
    const t = { start: performance.now() };
    const problems = [];
    await s.http('POST', `${admin}/reset`, {});
    const rec_err_path = join(tmp, 'record.err');
    const rec_err = openSync(rec_err_path, 'w');
    const recorder = s.start(
        bin.record,
        [
            '--create', '--subscribe', 'call:all', '--api-base', http_base, '--out', archive,
            '--session-name', `crash-${r}`, '--durability-window', `${window_ms}ms`, '--log-level', 'info',
        ],
        { env: { DIALPAD_API_KEY: API_KEY }, stdout: 'ignore', stderr: rec_err },
    );
    closeSync(rec_err);

    // 1. Wait for its connection.
    let connection = null;
    for (const deadline = performance.now() + 10000; performance.now() < deadline; ) {
        const listing = await s.http('GET', `${admin}/connections`);
        if (listing.connections?.length) {
            connection = listing.connections[0].id;
            break;
        }
        if (recorder.exit_state) s.die(`round ${r}: dialpad-record ended before it connected (${JSON.stringify(recorder.exit_state)})${s.tail_of(rec_err_path)}`);
        await s.sleep(10);
    }
    if (connection === null) s.die(`round ${r}: dialpad-record did not connect within 10 s${s.tail_of(rec_err_path)}`);
    t.connected = performance.now();

    // 2. The burst, and the kill.
    const kill_after = random() * max_kill_ms;
    const first_seq = next_seq;
    const batches = [];
    let killed = false;
    let t_kill = 0;
    let injected_at_kill = 0;
    const t0 = performance.now();
    const kill_timer = setTimeout(() => {
        t_kill = performance.now();
        process.kill(recorder.pid, 'SIGKILL');
        killed = true;
        injected_at_kill = next_seq - first_seq;
    }, kill_after);
    while (!killed) {
        const due = Math.floor(((performance.now() - t0) * rate) / 1000);
        const count = Math.min(first_seq + due - next_seq, 5000);
        if (count > 0) {
            const body = batch_body(next_seq, count);
            const t_sent = performance.now();
            const answer = await s.http('POST', `${admin}/events`, body);
            if (answer.events !== count) s.die(`round ${r}: POST /__admin/events took ${answer.events} of ${count} events`);
            batches.push({ first: next_seq, count, t_sent, t_done: performance.now() });
            next_seq += count;
        }
        await s.sleep(TICK_MS);
    }
    clearTimeout(kill_timer);
    const exit = await s.wait_exit(recorder, 5000);
    if (!exit) s.die(`round ${r}: dialpad-record still running 5 s after SIGKILL`);
    if (exit.signal !== 'SIGKILL') problems.push(`dialpad-record ended with ${JSON.stringify(exit)} before the kill`);
    t.killed = performance.now();
    const injected = next_seq - first_seq;

    // What the mock wrote to the recorder's connection(s), in order.
    const journal = await s.http('GET', `${admin}/deliveries`, undefined, { timeout_ms: 30000 });
    const delivered = (journal.deliveries ?? []).sort((a, b) => a.seq - b.seq);
    const connections = new Set(delivered.map((d) => d.connection));
    const delivered_ids = delivered.map((d) => d.event);

    // 3. verify, and SQLite's own check.
    const verify = await s.run(bin.replay, ['verify', archive], 120000);
    const verify_ok = verify.code === 0 && /integrity ok/.test(verify.stdout + verify.stderr);
    if (!verify_ok) problems.push(`dialpad-replay verify exited ${verify.code ?? verify.signal}: ${(verify.stdout + verify.stderr).trim().slice(0, 300)}`);
    const integrity = await sqlite('PRAGMA integrity_check');
    const integrity_ok = integrity.out?.trim() === 'ok';
    if (!integrity_ok) problems.push(`PRAGMA integrity_check: ${(integrity.out ?? integrity.error).trim().slice(0, 300)}`);
    t.checked = performance.now();

    // 4. The archive against the journal.
    const session_rows = await sqlite(`select id, name from sessions order by id`, true);
    if (session_rows.error) s.die(`round ${r}: ${session_rows.error}`);
    const sessions = session_rows.out.trim() ? JSON.parse(session_rows.out) : [];
    const session = sessions.find((x) => x.name === `crash-${r}`);
    let archived = [];
    let served = [];
    if (!session) {
        problems.push(`no session crash-${r} in the archive (${sessions.length} sessions)`);
    } else {
        if (sessions.length !== r) problems.push(`${sessions.length} sessions in the archive after ${r} rounds`);
        const rows = await sqlite(`select kind, text from frames where session_id = ${session.id} and kind in ('event','control') order by id`, true);
        if (rows.error) s.die(`round ${r}: ${rows.error}`);
        served = rows.out.trim() ? JSON.parse(rows.out) : [];
        archived = served.filter((f) => f.kind === 'event').map((f) => f.text);
    }
    let prefix_ok = archived.length <= delivered_ids.length;
    for (let i = 0; i < archived.length; i++) {
        const seq = soak_seq_of(archived[i]);
        if (seq !== delivered_ids[i] || archived[i] !== soak_event_text(seq)) {
            prefix_ok = false;
            problems.push(`archived event ${i + 1} is ${archived[i].slice(0, 40)}..., the mock's delivery ${i + 1} was event ${delivered_ids[i]}`);
            break;
        }
    }
    if (archived.length > delivered_ids.length) problems.push(`the archive holds ${archived.length} events, the mock delivered ${delivered_ids.length}`);
    const lost = Math.max(0, delivered_ids.length - archived.length);
    const sent_at = (seq) => {
        for (const b of batches) if (seq >= b.first && seq < b.first + b.count) return b.t_sent;
        return Infinity;
    };
    const horizon = lost > 0 ? t_kill - sent_at(delivered_ids[archived.length]) : null;
    if (horizon !== null && horizon > window_ms + slack_ms)
        problems.push(`lost ${lost} events, the oldest injected ${horizon.toFixed(1)} ms before the kill (bound ${window_ms} + ${slack_ms} ms)`);
    // Of the lost, those injected before the kill (the rest were written to
    // the socket of a process already gone).
    let lost_before_kill = 0;
    for (let i = archived.length; i < delivered_ids.length; i++) if (sent_at(delivered_ids[i]) < t_kill) lost_before_kill += 1;
    const durable_age = archived.length > 0 ? t_kill - sent_at(soak_seq_of(archived[archived.length - 1])) : null;

    // 5. Served to a client.
    let served_frames = null;
    let served_ok = false;
    if (session) {
        const replay_err = openSync(join(tmp, 'replay.err'), 'w');
        const report = join(tmp, 'report.json');
        const replay = s.start(
            bin.replay,
            ['serve', archive, '--session', String(session.id), '--speed', 'max', '--port', '0', '--exit-after', '1', '--report', report],
            { stderr: replay_err },
        );
        closeSync(replay_err);
        const replay_ready = await s.ready_line(replay, 'dialpad-replay serve', 10000, join(tmp, 'replay.err'));
        const consumer = await s.run('node', ['--no-warnings', join(s.node_dir, 'replay_consumer.mjs'), '--url', `${replay_ready.ws}crash`, '--timeout-ms', '20000'], 25000);
        const replay_exit = await s.wait_exit(replay, 10000);
        if (consumer.code !== 0) problems.push(`the replay client exited ${consumer.code ?? consumer.signal}: ${consumer.stderr.trim().slice(0, 300)}`);
        else {
            const got = JSON.parse(consumer.stdout);
            served_frames = got.frames;
            const digest = createHash('sha256');
            for (const f of served) digest.update(createHash('sha256').update(f.text, 'utf8').digest());
            const want = digest.digest('hex');
            if (got.frames !== served.length) problems.push(`the client received ${got.frames} frames, the archive holds ${served.length} for the session`);
            if (got.sha256 !== want) problems.push(`the client's digest ${got.sha256} differs from the archive's ${want}`);
            served_ok = got.frames === served.length && got.sha256 === want;
        }
        if (!replay_exit) {
            problems.push('dialpad-replay serve still running 10 s after its client finished');
            await s.stop(replay);
        } else if (replay_exit.code !== 0) problems.push(`dialpad-replay serve exited ${replay_exit.code ?? replay_exit.signal}${s.tail_of(join(tmp, 'replay.err'), 300)}`);
    }
    t.end = performance.now();

    const result = {
        round: r,
        kill_after: t_kill - t0,
        injected,
        injected_at_kill,
        delivered: delivered_ids.length,
        connections: connections.size,
        archived: archived.length,
        lost,
        lost_before_kill,
        horizon,
        durable_age,
        verify_ok,
        integrity_ok,
        prefix_ok,
        served_frames,
        served_ok,
        problems,
        times: { connect: t.connected - t.start, burst: t.killed - t.connected, checks: t.checked - t.killed, rest: t.end - t.checked, total: t.end - t.start },
    };
    results.push(result);
    const fmt = (x) => (x === null ? '-' : `${x.toFixed(0)} ms`);
    console.log(
        `round ${String(r).padStart(3)}/${rounds}: kill at ${result.kill_after.toFixed(0).padStart(4)} ms, ` +
            `delivered ${delivered_ids.length}, archived ${archived.length}, lost ${lost} (${lost_before_kill} injected before the kill; horizon ${fmt(horizon)}), ` +
            `verify ${verify_ok ? 'ok' : 'FAILED'}, integrity ${integrity_ok ? 'ok' : 'FAILED'}, ` +
            `served ${served_frames ?? '-'}/${served.length} frames${problems.length ? ' -- FAILED' : ''} [${(result.times.total / 1000).toFixed(1)} s]`,
    );
    for (const p of problems) console.log(`  round ${r}: ${p}`);
}

for (let r = 1; r <= rounds; r++) await round(r);

// --- Summary ------------------------------------------------------------------------
const mock_exit = await s.stop(mock, 10000);
const total = (performance.now() - started) / 1000;
const failed = results.filter((x) => x.problems.length > 0);
const kills = results.map((x) => x.kill_after).sort((a, b) => a - b);
const lost_sorted = results.map((x) => x.lost).sort((a, b) => a - b);
const lost_before_sorted = results.map((x) => x.lost_before_kill).sort((a, b) => a - b);
const horizons = results.filter((x) => x.horizon !== null).map((x) => x.horizon).sort((a, b) => a - b);
const q = (list, p) => s.quantile(list, p).toFixed(0);
const buckets = new Array(Math.ceil(max_kill_ms / 250)).fill(0);
for (const k of kills) buckets[Math.min(buckets.length - 1, Math.floor(k / 250))] += 1;
const sum = (f) => results.reduce((a, x) => a + f(x), 0);
const mean = (f) => sum(f) / results.length;
const size = existsSync(archive) ? (await s.run('stat', ['-c', '%s', archive], 5000)).stdout.trim() : '?';

console.log('');
console.log(`crash-test summary (seed ${seed}):`);
console.log(`  rounds: ${results.length}, passed ${results.length - failed.length}, failed ${failed.length}${failed.length ? ` (rounds ${failed.map((x) => x.round).join(', ')})` : ''}`);
console.log(`  kill moments (ms into the burst): min ${q(kills, 0)}, p25 ${q(kills, 0.25)}, median ${q(kills, 0.5)}, p75 ${q(kills, 0.75)}, max ${q(kills, 1)}`);
console.log(`    per 250 ms: ${buckets.map((n, i) => `${i * 250}-${(i + 1) * 250}: ${n}`).join(', ')}`);
console.log(`  events: injected ${sum((x) => x.injected)}, delivered to the recorder ${sum((x) => x.delivered)}, archived ${sum((x) => x.archived)}; every archive a prefix of the deliveries: ${results.every((x) => x.prefix_ok) ? 'yes' : 'NO'}`);
console.log(
    `  lost per round: max ${lost_sorted.at(-1)}, median ${q(lost_sorted, 0.5)}, mean ${mean((x) => x.lost).toFixed(0)} events; ` +
        `of them injected before the kill: max ${lost_before_sorted.at(-1)}, median ${q(lost_before_sorted, 0.5)} ` +
        `(${window_ms} + ${slack_ms} ms of a steady ${rate} events/s: ${Math.round((rate * (window_ms + slack_ms)) / 1000)} events)`,
);
console.log(
    `  loss horizon (kill - injection of the oldest lost event): max ${horizons.length ? horizons.at(-1).toFixed(1) : '-'} ms, ` +
        `median ${horizons.length ? q(horizons, 0.5) : '-'} ms over ${horizons.length} rounds with a loss; bound ${window_ms} + ${slack_ms} ms`,
);
console.log(`  verify ok ${results.filter((x) => x.verify_ok).length}/${results.length}, integrity_check ok ${results.filter((x) => x.integrity_ok).length}/${results.length}, served = archived (count and SHA-256) ${results.filter((x) => x.served_ok).length}/${results.length}`);
console.log(
    `  time: ${total.toFixed(1)} s in all (per round: connect ${mean((x) => x.times.connect).toFixed(0)} ms, burst ${mean((x) => x.times.burst).toFixed(0)} ms, ` +
        `verify + integrity_check ${mean((x) => x.times.checks).toFixed(0)} ms, compare + serve ${mean((x) => x.times.rest).toFixed(0)} ms); archive ${(Number(size) / 1048576).toFixed(1)} MiB, ${results.length} sessions`,
);
if (mock_exit.code !== 0) console.log(`  dialpad-mock exited ${mock_exit.code ?? mock_exit.signal} on SIGTERM${s.tail_of(join(tmp, 'mock.err'), 300)}`);
if (keep) {
    for (const suffix of ['', '-wal']) if (existsSync(archive + suffix)) copyFileSync(archive + suffix, join(keep, `crash.db${suffix}`));
    console.log(`  archive kept: ${join(keep, 'crash.db')}`);
}
const ok = failed.length === 0 && mock_exit.code === 0;
console.log(`crash-test: ${ok ? 'ok' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
