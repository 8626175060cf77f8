// scripts/soak: dialpad-mock and dialpad-record on a scaled clock (an hour
// every 5 minutes at --time-scale 12), a steady --rate of events injected,
// 100 websocket consumers that reconnect after every hourly cut, for
// --minutes; sampled every 10 s; at the end, nothing lost or duplicated, and
// no growth of memory or file descriptors.
//
// Usage: scripts/soak [--minutes 30] [--rate 5000] [--clients 100] [--groups 20]
//          [--time-scale 12] [--sample-s 10] [--rss-bound-mib 16] [--warmup-s S]
//          [--queue-limit 50000] [--journal-every-s 60] [--keep DIR]
//
// The pieces (loopback only):
//  - dialpad-mock --clock virtual --time-scale 12 --queue-limit 50000, with
//    one API key for the recorder's company and ten for the consumers' (ten
//    apps);
//  - dialpad-record --create --subscribe call:all on the same clock flags,
//    its key in DIALPAD_API_KEY: it refreshes its URL ahead of each cut and
//    overlaps the two connections, so it must lose nothing;
//  - tests/e2e/node/soak_clients.mjs: --clients consumers, each with its own
//    websocket and call subscription for one target user; after each cut it
//    GETs /api/v2/websockets/{id} for a fresh URL and reconnects. Each event
//    targets one of --groups users, so it reaches clients/groups consumers:
//    at 5,000 events/s and --groups 20, the mock writes 5,000 frames/s to the
//    recorder and 25,000 to the consumers (each consumer 250/s). --groups 1
//    sends every event to every consumer, 500,000 frames/s, which a 2-core
//    machine cannot carry (the mock closes them as too slow); --groups 10
//    (50,000/s) holds, the mock at about 11% CPU since it writes many frames
//    per socket write (with one frame per connection per turn, a mock short
//    of CPU starved the recorder's connection, at ten times a consumer's
//    rate, until it was cut as too slow).
//  - the injector here: POST /__admin/events batches every 50 ms, paced by
//    wall time (each batch brings the total to rate x elapsed), every event's
//    text a function of its sequence number (tests/e2e/node/soak_events.mjs).
//
// Every --sample-s: RSS and open fds (/proc/PID/status, /proc/PID/fd) and CPU
// of the mock, the recorder and the consumers' process. Every
// --journal-every-s: DELETE /__admin/deliveries, 0.5 s later GET it, a sample
// of the delivery journal checked at the end against the archive and each
// consumer (the journal keeps the last 200,000 deliveries: bounded, but
// reading a full one stalls the mock about a second, so the soak reads short
// windows).
//
// At the end: the archive holds events 1..N exactly once, in order, every
// byte as injected, in one session with no gap (dialpad-replay verify passes),
// in order on each connection (across the two connections of a refresh
// overlap the archive keeps arrival order: events that arrive late on the old
// connection are reported as reordered, with how far, not as a failure);
// each consumer's losses (events of its group it did not get) all fall in the
// windows when it was reconnecting after a cut, with no duplicate and nothing
// out of order; every journal-sampled delivery was received; RSS at the end
// within --rss-bound-mib of the first sample after warm-up (default warm-up:
// the first cut + 30 s, at most half the run) taken with every consumer and
// the recorder connected, for the mock and the recorder;
// open fds at the end no more than after warm-up (+4: connections kept
// alive for a few seconds).
// Exit 0 when all holds, 1 otherwise, 2 on a bad command line. Every process
// is stopped and the scratch directory (with the archive) removed on any exit.

import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { soak_event_text, soak_seq_of } from '../tests/e2e/node/soak_events.mjs';
import * as s from '../tests/e2e/node/script_support.mjs';

s.set_name('soak');

const options = s.parse_command_line(
    {
        minutes: { type: 'string', default: '30' },
        rate: { type: 'string', default: '5000' },
        clients: { type: 'string', default: '100' },
        groups: { type: 'string', default: '20' },
        'time-scale': { type: 'string', default: '12' },
        'sample-s': { type: 'string', default: '10' },
        'rss-bound-mib': { type: 'string', default: '16' },
        'warmup-s': { type: 'string' },
        'queue-limit': { type: 'string', default: '50000' },
        'journal-every-s': { type: 'string', default: '60' },
        keep: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    },
    'see --help',
);
if (options.help) {
    process.stdout.write(
        'usage: scripts/soak [--minutes 30] [--rate 5000] [--clients 100] [--groups 20] [--time-scale 12]\n' +
            '                    [--sample-s 10] [--rss-bound-mib 16] [--warmup-s S] [--queue-limit 50000]\n' +
            '                    [--journal-every-s 60] [--keep DIR]\n',
    );
    process.exit(0);
}
const num = (name, min) => s.number_option(options, name, min);
const minutes = num('minutes', 0.5);
const rate = num('rate', 1);
const client_count = num('clients', 1);
const groups = num('groups', 1);
const time_scale = num('time-scale', 1);
const sample_s = num('sample-s', 1);
const rss_bound_mib = num('rss-bound-mib', 0);
const queue_limit = num('queue-limit', 1);
const journal_every_s = num('journal-every-s', 5);
if (!Number.isInteger(client_count) || !Number.isInteger(groups) || groups > client_count) s.usage('--clients and --groups must be integers, --groups at most --clients');
const run_ms = minutes * 60000;
const cut_every_s = 3600 / time_scale;
const warmup_s = options['warmup-s'] !== undefined ? num('warmup-s', 0) : Math.min(cut_every_s + 30, run_ms / 2000);
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
const tmp = s.make_scratch('soak');
const archive = join(tmp, 'soak.db');
const RECORDER_KEY = 'soak-recorder-key';
const app_keys = Array.from({ length: 10 }, (_, i) => `soak-app-${i}-key`);
const BATCH_MS = 50;
const JOURNAL_CAPACITY = 200000;
// Open fds at the end may exceed those after warm-up by this many: REST
// connections kept alive for a few seconds after a consumer's refresh, a
// recorder connection in its overlap. A leak per cut or per connection shows
// as tens or hundreds.
const FD_SLACK = 4;

console.log(
    `soak: ${minutes} min at ${rate} events/s, ${client_count} consumers (each event to ${client_count / groups}), ` +
        `clock x${time_scale} (a cut every ${cut_every_s.toFixed(0)} s), samples every ${sample_s} s, warm-up ${warmup_s.toFixed(0)} s, ` +
        `RSS bound +${rss_bound_mib} MiB`,
);

// --- Start: mock, recorder, consumers ---------------------------------------------
const mock_err_path = join(tmp, 'mock.err');
const mock_err = openSync(mock_err_path, 'w');
const mock = s.start(
    bin.mock,
    [
        '--port', '0', '--clock', 'virtual', '--time-scale', String(time_scale), '--queue-limit', String(queue_limit),
        '--log-level', 'warn', '--api-key', `${RECORDER_KEY}@recorder`, ...app_keys.flatMap((k, i) => ['--api-key', `${k}@app${i}`]),
    ],
    { stderr: mock_err },
);
closeSync(mock_err);
const ready = await s.ready_line(mock, 'dialpad-mock', 10000, mock_err_path);
const admin = ready.admin;

const rec_err_path = join(tmp, 'record.err');
const rec_err = openSync(rec_err_path, 'w');
const recorder = s.start(
    bin.record,
    [
        '--clock', 'virtual', '--time-scale', String(time_scale), '--create', '--subscribe', 'call:all',
        '--api-base', ready.http, '--out', archive, '--session-name', 'soak', '--log-level', 'info',
    ],
    { env: { DIALPAD_API_KEY: RECORDER_KEY }, stdout: 'ignore', stderr: rec_err },
);
closeSync(rec_err);
for (const deadline = performance.now() + 10000; ; ) {
    const listing = await s.http('GET', `${admin}/connections`);
    if (listing.connections?.some((c) => c.company === 'recorder')) break;
    if (recorder.exit_state) s.die(`dialpad-record ended before it connected${s.tail_of(rec_err_path)}`);
    if (performance.now() > deadline) s.die(`dialpad-record did not connect within 10 s${s.tail_of(rec_err_path)}`);
    await s.sleep(50);
}

const clients_err_path = join(tmp, 'clients.err');
const clients_err = openSync(clients_err_path, 'w');
const clients = s.start(
    'node',
    [
        '--no-warnings', join(s.node_dir, 'soak_clients.mjs'), '--http', ready.http, '--clients', String(client_count),
        '--groups', String(groups), '--status-ms', String(sample_s * 1000), '--timeout-ms', '30000',
    ],
    { env: { SOAK_API_KEYS: app_keys.join(',') }, stdin: 'pipe', stderr: clients_err },
);
closeSync(clients_err);
const clients_ready = await s.ready_line(clients, 'soak_clients.mjs', 40000, clients_err_path);
const client_websockets = new Map(clients_ready.websockets.map((id, i) => [String(id), i]));
let client_status = {};
let final = null;
clients.lines.on('line', (line) => {
    clients.line_queue.length = 0;
    try {
        const j = JSON.parse(line);
        if (j.status) client_status = j;
        if (j.final) final = j;
    } catch {
        // not ours
    }
});
console.log(`soak: mock ${ready.http}, recorder connected, ${client_count} consumers connected; injecting`);

// --- Inject, sample, read the journal ----------------------------------------------
const t0 = performance.now();
const elapsed_s = () => (performance.now() - t0) / 1000;
let next_seq = 1;
const batch_starts = []; // [first seq, time ms since t0] per batch
let max_post_ms = 0;
let max_behind = 0;
let injecting = true;
const failures = [];

async function injector() {
    while (injecting) {
        const now = performance.now() - t0;
        if (now >= run_ms) break;
        const due = Math.floor((now * rate) / 1000) + 1;
        const count = Math.min(due - next_seq, rate); // at most a second's worth at once
        max_behind = Math.max(max_behind, due - next_seq - count);
        if (count > 0) {
            const parts = new Array(count);
            for (let i = 0; i < count; i++) parts[i] = `{"type":"call","raw":${JSON.stringify(soak_event_text(next_seq + i, groups))}}`;
            const t_sent = performance.now();
            const answer = await s.http('POST', `${admin}/events`, `{"events":[${parts.join(',')}]}`, { timeout_ms: 30000 });
            if (answer.events !== count) s.die(`POST /__admin/events took ${answer.events} of ${count} events`);
            max_post_ms = Math.max(max_post_ms, performance.now() - t_sent);
            batch_starts.push([next_seq, t_sent - t0]);
            next_seq += count;
        }
        const wait = BATCH_MS - ((performance.now() - t0) % BATCH_MS);
        await s.sleep(wait);
    }
}

const samples = [];
// The sample RSS and fds at the end are held against: the first after
// warm-up taken with every consumer and the recorder connected. One taken
// while consumers reconnect after a cut counts fewer sockets than the end
// will, which would read as a leak.
const steady_connections = client_count + 1;
function warm_sample_of(all) {
    const after = all.filter((x) => x.t >= warmup_s && x.label === 'sample');
    return after.find((x) => x.connections !== null && x.connections >= steady_connections) ?? after[0] ?? all.at(-1);
}
const pids = { mock: mock.pid, record: recorder.pid, clients: clients.pid };
let last_cpu = null;
async function take_sample(label) {
    const t = elapsed_s();
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, s.cpu_seconds(pid)]));
    const sample = { t, label, injected: next_seq - 1 };
    for (const [name, pid] of Object.entries(pids)) {
        const st = s.proc_stats(pid);
        if (!st) {
            failures.push(`${name} (pid ${pid}) is gone at ${t.toFixed(0)} s`);
            continue;
        }
        sample[name] = { ...st, cpu: last_cpu ? (cpu[name] - last_cpu.cpu[name]) / (t - last_cpu.t) : null };
    }
    last_cpu = { t, cpu };
    const listing = await s.http('GET', `${admin}/connections`, undefined, { soft: true });
    sample.connections = listing.connections?.length ?? null;
    sample.queued_max = listing.connections ? Math.max(0, ...listing.connections.map((c) => c.queued)) : null;
    sample.dropped_by_mock = listing.connections ? listing.connections.reduce((a, c) => a + c.dropped, 0) : null;
    sample.client_frames = client_status.frames ?? null;
    sample.clients_connected = client_status.connected ?? null;
    samples.push(sample);
    const p = (x) => (x ? `${s.mib(x.rss_kib).toFixed(1)} MiB ${x.fds} fds ${x.cpu === null ? '' : `${Math.round(x.cpu * 100)}% cpu`}` : 'gone');
    console.log(
        `${label.padEnd(6)} ${t.toFixed(0).padStart(5)} s  injected ${String(sample.injected).padStart(9)}  ` +
            `mock ${p(sample.mock)} | record ${p(sample.record)} | consumers ${p(sample.clients)}, ` +
            `${sample.clients_connected ?? '?'} up, ${sample.client_frames ?? '?'} frames | ${sample.connections} conns, queued max ${sample.queued_max}`,
    );
    if (mock.exit_state) s.die(`dialpad-mock ended: ${JSON.stringify(mock.exit_state)}${s.tail_of(mock_err_path)}`);
    if (recorder.exit_state) s.die(`dialpad-record ended: ${JSON.stringify(recorder.exit_state)}${s.tail_of(rec_err_path)}`);
    if (clients.exit_state) s.die(`soak_clients.mjs ended: ${JSON.stringify(clients.exit_state)}${s.tail_of(clients_err_path)}`);
}

// Journal windows: what the mock wrote, per connection, in a short window.
const journal_windows = [];
const recorder_journal = new Map(); // event id -> deliveries to recorder connections (sampled)
const client_journal = []; // [client index, event id] pairs
let journal_unattributed = 0;
let journal_order_problems = 0;
async function read_journal_window() {
    await s.http('DELETE', `${admin}/deliveries`);
    await s.sleep(500);
    const journal = await s.http('GET', `${admin}/deliveries`, undefined, { timeout_ms: 30000 });
    const listing = await s.http('GET', `${admin}/connections`);
    const entries = journal.deliveries ?? [];
    const websocket_of = new Map(listing.connections.map((c) => [c.id, { websocket: String(c.websocket), company: c.company }]));
    const last_on_connection = new Map();
    let recorder_entries = 0;
    for (const d of entries) {
        if (d.event <= (last_on_connection.get(d.connection) ?? 0)) journal_order_problems += 1;
        last_on_connection.set(d.connection, d.event);
        const owner = websocket_of.get(d.connection);
        if (!owner) {
            journal_unattributed += 1; // a connection that closed within the window
        } else if (owner.company === 'recorder') {
            recorder_journal.set(d.event, (recorder_journal.get(d.event) ?? 0) + 1);
            recorder_entries += 1;
        } else if (client_websockets.has(owner.websocket)) {
            client_journal.push([client_websockets.get(owner.websocket), d.event]);
        } else {
            journal_unattributed += 1;
        }
        if (d.bytes !== soak_event_text(d.event, groups).length) failures.push(`journal: delivery ${d.seq} (event ${d.event}) is ${d.bytes} bytes, the event is ${soak_event_text(d.event, groups).length}`);
    }
    journal_windows.push({ t: elapsed_s(), entries: entries.length, recorder_entries, truncated: entries.length >= JOURNAL_CAPACITY });
}

const injection = injector();
let next_sample = 0;
// Half a period off the minute: away from the cuts of the usual time scales.
let next_journal = journal_every_s / 2;
while (elapsed_s() * 1000 < run_ms) {
    const t = elapsed_s();
    if (t >= next_sample) {
        await take_sample('sample');
        next_sample += sample_s;
    } else if (t >= next_journal) {
        await read_journal_window();
        next_journal += journal_every_s;
    }
    await s.sleep(Math.max(10, Math.min(next_sample, next_journal, run_ms / 1000) * 1000 - (performance.now() - t0)));
}
injecting = false;
await injection;
const injected = next_seq - 1;
const inject_seconds = elapsed_s();

// --- Drain, last sample, stop the consumers and the recorder ------------------------
for (const deadline = performance.now() + 30000; performance.now() < deadline; ) {
    const listing = await s.http('GET', `${admin}/connections`);
    if (listing.connections.every((c) => c.queued === 0)) break;
    await s.sleep(200);
}
await s.sleep(1000); // the consumers read the last frames; the recorder commits them
// Connections kept alive after the last cut's refreshes close within seconds;
// a leaked descriptor does not.
const fds_at = (x, name) => x[name]?.fds ?? 0;
const warm_sample = warm_sample_of(samples);
for (const deadline = performance.now() + 15000; performance.now() < deadline; await s.sleep(500)) {
    const now = { mock: s.proc_stats(mock.pid), record: s.proc_stats(recorder.pid) };
    if (now.mock && now.record && now.mock.fds <= fds_at(warm_sample, 'mock') && now.record.fds <= fds_at(warm_sample, 'record')) break;
}
await take_sample('end');
clients.stdin.write('stop\n');
for (const deadline = performance.now() + 30000; !final && !clients.exit_state && performance.now() < deadline; ) await s.sleep(100);
await s.sleep(100); // the 'line' event comes before the exit
if (!final) s.die(`soak_clients.mjs gave no final report${s.tail_of(clients_err_path)}`);
await s.wait_exit(clients, 10000);
const rec_exit = await s.stop(recorder, 120000);
if (rec_exit.code !== 0) failures.push(`dialpad-record exited ${rec_exit.code ?? rec_exit.signal} on SIGTERM${rec_exit.killed ? ' (killed after 120 s)' : ''}${s.tail_of(rec_err_path, 300)}`);

// --- The archive ----------------------------------------------------------------------
console.log(`soak: checking the archive (${(statSync(archive).size / 1048576).toFixed(0)} MiB)`);
const check_start = performance.now();
const verify = await s.run(bin.replay, ['verify', archive], 1800000);
const verify_ok = verify.code === 0 && /integrity ok/.test(verify.stdout + verify.stderr);
if (!verify_ok) failures.push(`dialpad-replay verify exited ${verify.code ?? verify.signal}: ${(verify.stdout + verify.stderr).trim().slice(0, 300)}`);
const meta = await s.run('sqlite3', ['-json', '-readonly', archive,
    "select (select count(*) from sessions) as sessions, (select count(*) from gaps) as gaps, " +
    "(select json_group_array(json_object('end_reason', end_reason, 'abrupt', abrupt)) from connections) as connections"], 600000);
if (meta.code !== 0) s.die(`sqlite3 failed: ${meta.stderr.trim()}`);
const archive_meta = JSON.parse(meta.stdout)[0];
const archive_connections = JSON.parse(archive_meta.connections);
const end_reasons = {};
for (const c of archive_connections) end_reasons[c.end_reason ?? 'open'] = (end_reasons[c.end_reason ?? 'open'] ?? 0) + 1;
if (archive_meta.sessions !== 1) failures.push(`the archive holds ${archive_meta.sessions} sessions, expected 1`);
if (archive_meta.gaps !== 0) failures.push(`the archive records ${archive_meta.gaps} gaps`);

// Every event frame, in archive order: 1..N exactly once, each byte as
// injected, in order on each connection. Across connections, the archive
// keeps arrival order: while the recorder overlaps two connections at a
// refresh, an old connection that lags behind the new one delivers older
// events after newer ones; those are counted (reordered), with how far.
const archive_check = { events: 0, missing: 0, duplicates: 0, out_of_order: 0, reordered: 0, max_displacement: 0, reordered_on: {}, bad_text: 0, foreign: 0, first_problem: null };
{
    const reader = s.start('sqlite3', ['-readonly', archive, "select connection_id, text from frames where kind = 'event' order by id"], { stdout: 'pipe' });
    const seen = new Uint8Array(injected + 2);
    const last_on = new Map();
    let highest = 0;
    let highest_on = null;
    const problem = (text) => {
        archive_check.first_problem ??= text;
    };
    reader.lines.removeAllListeners('line');
    const lines_done = new Promise((r) => reader.lines.once('close', r));
    reader.lines.on('line', (line) => {
        archive_check.events += 1;
        const bar = line.indexOf('|');
        const connection = line.slice(0, bar);
        const text = line.slice(bar + 1);
        const seq = soak_seq_of(text);
        if (seq < 1 || seq > injected) {
            archive_check.foreign += 1;
            problem(`frame ${archive_check.events} is not an injected event: ${text.slice(0, 60)}`);
            return;
        }
        if (text !== soak_event_text(seq, groups)) {
            archive_check.bad_text += 1;
            problem(`event ${seq} differs from what was injected`);
        }
        if (seen[seq]) {
            archive_check.duplicates += 1;
            problem(`event ${seq} is archived twice`);
        }
        seen[seq] = 1;
        if (seq <= (last_on.get(connection) ?? 0)) {
            archive_check.out_of_order += 1;
            problem(`event ${seq} comes after ${last_on.get(connection)} on connection ${connection}`);
        }
        last_on.set(connection, seq);
        if (seq < highest) {
            archive_check.reordered += 1;
            archive_check.max_displacement = Math.max(archive_check.max_displacement, highest - seq);
            const pair = `${connection} after ${highest_on}`;
            archive_check.reordered_on[pair] = (archive_check.reordered_on[pair] ?? 0) + 1;
        } else {
            highest = seq;
            highest_on = connection;
        }
    });
    const done = await s.wait_exit(reader, 1800000);
    if (!done || done.code !== 0) s.die(`sqlite3 reading the frames failed: ${JSON.stringify(done)}`);
    await lines_done;
    for (let i = 1; i <= injected; i++) if (!seen[i]) archive_check.missing += 1;
    if (archive_check.missing) problem(`${archive_check.missing} injected events are not in the archive`);
    let journal_not_archived = 0;
    for (const id of recorder_journal.keys()) if (!seen[id]) journal_not_archived += 1;
    archive_check.journal_not_archived = journal_not_archived;
}
for (const k of ['missing', 'duplicates', 'out_of_order', 'bad_text', 'foreign', 'journal_not_archived'])
    if (archive_check[k]) failures.push(`archive: ${archive_check[k]} ${k} (first: ${archive_check.first_problem})`);
const check_seconds = (performance.now() - check_start) / 1000;

const mock_exit = await s.stop(mock, 10000);
if (mock_exit.code !== 0) failures.push(`dialpad-mock exited ${mock_exit.code ?? mock_exit.signal} on SIGTERM${s.tail_of(mock_err_path, 300)}`);

// --- The consumers ---------------------------------------------------------------------
// The wall time an event was injected (its batch's POST), ms since t0.
const injected_at = (seq) => {
    let lo = 0;
    let hi = batch_starts.length - 1;
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (batch_starts[mid][0] <= seq) lo = mid;
        else hi = mid - 1;
    }
    return batch_starts[lo]?.[1] ?? NaN;
};
const per_client = final.clients.map((c) => {
    const expected = Math.floor((injected - c.group) / groups) + (c.group === 0 ? 0 : 1);
    const first_due = c.group === 0 ? groups : c.group;
    const last_due = injected - ((injected - c.group) % groups);
    const head_lost = c.first_seq > first_due ? (c.first_seq - first_due) / groups : 0;
    const tail_lost = c.last_seq < last_due ? (last_due - c.last_seq) / groups : 0;
    const received = c.frames - c.duplicates - c.out_of_order - c.bad_frames;
    const spans = c.gap_ranges.map(([a, b]) => injected_at(b) - injected_at(a) + BATCH_MS);
    return {
        ...c,
        expected,
        received,
        lost: expected - received,
        head_lost,
        tail_lost,
        max_span_ms: spans.length ? Math.max(...spans) : 0,
    };
});
const client_problems = [];
for (const c of per_client) {
    if (c.duplicates || c.out_of_order || c.bad_frames) client_problems.push(`consumer ${c.client}: ${c.duplicates} duplicates, ${c.out_of_order} out of order, ${c.bad_frames} bad frames`);
    if (c.unexpected_gaps) client_problems.push(`consumer ${c.client}: ${c.unexpected_gaps} gaps not after a reconnect`);
    if (c.head_lost) client_problems.push(`consumer ${c.client}: lost ${c.head_lost} events at the start`);
    if (c.tail_lost && !c.cut_since_last_frame) client_problems.push(`consumer ${c.client}: lost ${c.tail_lost} events at the end, with no cut after its last frame`);
    if (c.lost !== c.missing + c.head_lost + c.tail_lost) client_problems.push(`consumer ${c.client}: ${c.lost} lost, but ${c.missing} in its gaps`);
}
// Every sampled delivery to a consumer must have been received: none in its gaps.
let journal_not_received = 0;
const gap_index = per_client.map((c) => c.gap_ranges);
for (const [client, event] of client_journal) {
    if (gap_index[client].some(([a, b]) => event >= a && event <= b) || event > per_client[client].last_seq) journal_not_received += 1;
}
if (journal_not_received) client_problems.push(`${journal_not_received} journal-sampled deliveries to consumers were never received`);
if (journal_order_problems) client_problems.push(`${journal_order_problems} journal entries out of order on their connection`);
failures.push(...client_problems.slice(0, 20));
if (final.errors?.length) failures.push(...final.errors.slice(0, 5));

// --- Memory and fds ----------------------------------------------------------------------
const warm = warm_sample_of(samples);
const first = samples[0];
const end = samples.at(-1);
const memory = {};
for (const name of ['mock', 'record', 'clients']) {
    const series = samples.filter((x) => x[name]);
    const after = series.filter((x) => x.t >= warm.t);
    // Least squares slope of RSS after warm-up, MiB per hour.
    const n = after.length;
    const mx = after.reduce((a, x) => a + x.t, 0) / n;
    const my = after.reduce((a, x) => a + x[name].rss_kib, 0) / n;
    const sxy = after.reduce((a, x) => a + (x.t - mx) * (x[name].rss_kib - my), 0);
    const sxx = after.reduce((a, x) => a + (x.t - mx) ** 2, 0);
    memory[name] = {
        start: first[name]?.rss_kib,
        warm: warm[name]?.rss_kib,
        peak: Math.max(...series.map((x) => x[name].rss_kib)),
        end: end[name]?.rss_kib,
        slope_mib_per_hour: sxx > 0 ? ((sxy / sxx) * 3600) / 1024 : 0,
        fds_start: first[name]?.fds,
        fds_warm: warm[name]?.fds,
        fds_min: Math.min(...series.map((x) => x[name].fds)),
        fds_max: Math.max(...series.map((x) => x[name].fds)),
        fds_end: end[name]?.fds,
        cpu_mean: after.filter((x) => x[name].cpu !== null).reduce((a, x, _, arr) => a + x[name].cpu / arr.length, 0),
    };
    if (name !== 'clients') {
        if (memory[name].end > memory[name].warm + rss_bound_mib * 1024)
            failures.push(`${name}: RSS ${s.mib(memory[name].end)} MiB at the end, over ${s.mib(memory[name].warm)} MiB after warm-up + ${rss_bound_mib} MiB`);
        if (memory[name].fds_end > memory[name].fds_warm + FD_SLACK)
            failures.push(`${name}: ${memory[name].fds_end} open fds at the end, ${memory[name].fds_warm} after warm-up (+${FD_SLACK} allowed)`);
    }
}

// --- Summary -------------------------------------------------------------------------------
const sorted = (f) => per_client.map(f).sort((a, b) => a - b);
const lost_list = sorted((c) => c.lost);
const reconnects = sorted((c) => c.reconnects);
const spans = sorted((c) => c.max_span_ms);
const reconnect_ms = sorted((c) => c.reconnect_ms_max ?? 0);
const total_lost = lost_list.reduce((a, x) => a + x, 0);
const total_expected = per_client.reduce((a, c) => a + c.expected, 0);
const close_codes = {};
for (const c of per_client) for (const [code, n] of Object.entries(c.close_codes)) close_codes[code] = (close_codes[code] ?? 0) + n;
const m = (kib) => `${s.mib(kib).toFixed(1)}`;
const q = (list, p) => s.quantile(list, p);

console.log('');
console.log(`soak summary: ${minutes} min, ${rate} events/s, ${client_count} consumers, clock x${time_scale}`);
console.log(
    `  injected ${injected} events in ${inject_seconds.toFixed(0)} s (${(injected / inject_seconds).toFixed(0)}/s; slowest POST ${max_post_ms.toFixed(0)} ms, ` +
        `most behind ${max_behind} events)`,
);
console.log(
    `  archive: ${archive_check.events} events in 1 session, ${archive_connections.length} connections (${Object.entries(end_reasons).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
        `${archive_meta.gaps} gaps; missing ${archive_check.missing}, duplicated ${archive_check.duplicates}, out of order on a connection ${archive_check.out_of_order}, ` +
        `altered ${archive_check.bad_text}; verify ${verify_ok ? 'ok' : 'FAILED'} (checks took ${check_seconds.toFixed(0)} s)`,
);
console.log(
    `    arrival order vs injection order: ${archive_check.reordered} events archived after a newer one` +
        (archive_check.reordered
            ? ` (at refresh overlaps: connection after connection ${Object.entries(archive_check.reordered_on).map(([k, v]) => `${k} x${v}`).join(', ')}; at most ${archive_check.max_displacement} events back)`
            : ''),
);
console.log(
    `  journal: ${journal_windows.length} windows of 0.5 s, ${journal_windows.reduce((a, w) => a + w.entries, 0)} deliveries ` +
        `(${recorder_journal.size} events to the recorder, ${[...recorder_journal.values()].filter((n) => n > 1).length} of them on two connections; ` +
        `${client_journal.length} to consumers; ${journal_unattributed} on connections closed in the window); ` +
        `not archived ${archive_check.journal_not_archived}, not received ${journal_not_received}`,
);
console.log(
    `  consumers: ${final.clients.reduce((a, c) => a + c.frames, 0)} frames received of ${total_expected} due; lost ${total_lost} ` +
        `(${((100 * total_lost) / Math.max(1, total_expected)).toFixed(3)}%), per consumer min ${lost_list[0]}, median ${q(lost_list, 0.5)}, max ${lost_list.at(-1)}; ` +
        `duplicates ${per_client.reduce((a, c) => a + c.duplicates, 0)}, out of order ${per_client.reduce((a, c) => a + c.out_of_order, 0)}, ` +
        `altered ${per_client.reduce((a, c) => a + c.bad_frames, 0)}`,
);
console.log(
    `    reconnects per consumer ${reconnects[0]}..${reconnects.at(-1)} (closes: ${Object.entries(close_codes).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'}); ` +
        `every loss inside a reconnect window: ${per_client.every((c) => c.unexpected_gaps === 0 && !c.head_lost && (!c.tail_lost || c.cut_since_last_frame) && c.lost === c.missing + c.tail_lost) ? 'yes' : 'NO'}` +
        `${per_client.some((c) => c.tail_lost) ? ` (${per_client.filter((c) => c.tail_lost).length} consumers were reconnecting when the injection stopped: ${per_client.reduce((a, c) => a + c.tail_lost, 0)} of the losses)` : ''}; ` +
        `longest window of missed events ${q(spans, 1).toFixed(0)} ms (median consumer ${q(spans, 0.5).toFixed(0)} ms), ` +
        `slowest cut-to-reconnected ${q(reconnect_ms, 1)} ms`,
);
for (const name of ['mock', 'record', 'clients']) {
    const x = memory[name];
    console.log(
        `  ${name.padEnd(7)} RSS MiB start ${m(x.start)}, after warm-up ${m(x.warm)}, peak ${m(x.peak)}, end ${m(x.end)} ` +
            `(bound ${name === 'clients' ? 'n/a' : `${m(x.warm + rss_bound_mib * 1024)}`}; slope after warm-up ${x.slope_mib_per_hour.toFixed(1)} MiB/h); ` +
            `fds start ${x.fds_start}, after warm-up ${x.fds_warm}, min ${x.fds_min}, max ${x.fds_max}, end ${x.fds_end}; cpu ${Math.round(x.cpu_mean * 100)}%`,
    );
}
if (keep) {
    for (const suffix of ['', '-wal']) if (existsSync(archive + suffix)) copyFileSync(archive + suffix, join(keep, `soak.db${suffix}`));
    for (const log of ['mock.err', 'record.err', 'clients.err']) if (existsSync(join(tmp, log))) copyFileSync(join(tmp, log), join(keep, log));
    console.log(`  archive and logs kept: ${join(keep, 'soak.db')}, mock.err, record.err, clients.err`);
}
for (const f of failures) console.log(`  FAIL: ${f}`);
console.log(`soak: ${failures.length === 0 ? 'ok' : 'FAILED'}`);
process.exit(failures.length === 0 ? 0 : 1);
