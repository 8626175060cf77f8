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
//    (50,000/s) holds on an idle machine, but when the mock is short of CPU
//    its writers, one frame per connection per turn, starve the recorder's
//    connection (ten times a consumer's rate) until it is cut as too slow.
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
// the first cut + 30 s, at most half the run) for the mock and the recorder;
// open fds at the end no more than after warm-up (+4: connections kept
// alive for a few seconds).
// Exit 0 when all holds, 1 otherwise, 2 on a bad command line. Every process
// is stopped and the scratch directory (with the archive) removed on any exit.

import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { soakEventText, soakSeqOf } from '../tests/e2e/node/soak_events.mjs';
import * as s from '../tests/e2e/node/script_support.mjs';

s.setName('soak');

let options;
try {
    ({ values: options } = parseArgs({
        options: {
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
        strict: true,
        allowPositionals: false,
    }));
} catch (e) {
    s.usage(`${e.message} (see --help)`);
}
if (options.help) {
    process.stdout.write(
        'usage: scripts/soak [--minutes 30] [--rate 5000] [--clients 100] [--groups 20] [--time-scale 12]\n' +
            '                    [--sample-s 10] [--rss-bound-mib 16] [--warmup-s S] [--queue-limit 50000]\n' +
            '                    [--journal-every-s 60] [--keep DIR]\n',
    );
    process.exit(0);
}
const num = (name, min) => {
    const v = Number(options[name]);
    if (!Number.isFinite(v) || v < min) s.usage(`--${name} must be a number >= ${min}`);
    return v;
};
const minutes = num('minutes', 0.5);
const rate = num('rate', 1);
const clientCount = num('clients', 1);
const groups = num('groups', 1);
const timeScale = num('time-scale', 1);
const sampleS = num('sample-s', 1);
const rssBoundMiB = num('rss-bound-mib', 0);
const queueLimit = num('queue-limit', 1);
const journalEveryS = num('journal-every-s', 5);
if (!Number.isInteger(clientCount) || !Number.isInteger(groups) || groups > clientCount) s.usage('--clients and --groups must be integers, --groups at most --clients');
const runMs = minutes * 60000;
const cutEveryS = 3600 / timeScale;
const warmupS = options['warmup-s'] !== undefined ? num('warmup-s', 0) : Math.min(cutEveryS + 30, runMs / 2000);
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
const tmp = s.makeScratch('soak');
const archive = join(tmp, 'soak.db');
const RECORDER_KEY = 'soak-recorder-key';
const appKeys = Array.from({ length: 10 }, (_, i) => `soak-app-${i}-key`);
const BATCH_MS = 50;
const JOURNAL_CAPACITY = 200000;
// Open fds at the end may exceed those after warm-up by this many: REST
// connections kept alive for a few seconds after a consumer's refresh, a
// recorder connection in its overlap. A leak per cut or per connection shows
// as tens or hundreds.
const FD_SLACK = 4;

console.log(
    `soak: ${minutes} min at ${rate} events/s, ${clientCount} consumers (each event to ${clientCount / groups}), ` +
        `clock x${timeScale} (a cut every ${cutEveryS.toFixed(0)} s), samples every ${sampleS} s, warm-up ${warmupS.toFixed(0)} s, ` +
        `RSS bound +${rssBoundMiB} MiB`,
);

// --- Start: mock, recorder, consumers ---------------------------------------------
const mockErrPath = join(tmp, 'mock.err');
const mockErr = openSync(mockErrPath, 'w');
const mock = s.start(
    bin.mock,
    [
        '--port', '0', '--clock', 'virtual', '--time-scale', String(timeScale), '--queue-limit', String(queueLimit),
        '--log-level', 'warn', '--api-key', `${RECORDER_KEY}@recorder`, ...appKeys.flatMap((k, i) => ['--api-key', `${k}@app${i}`]),
    ],
    { stderr: mockErr },
);
closeSync(mockErr);
const ready = await s.readyLine(mock, 'dialpad-mock', 10000, mockErrPath);
const admin = ready.admin;

const recErrPath = join(tmp, 'record.err');
const recErr = openSync(recErrPath, 'w');
const recorder = s.start(
    bin.record,
    [
        '--clock', 'virtual', '--time-scale', String(timeScale), '--create', '--subscribe', 'call:all',
        '--api-base', ready.http, '--out', archive, '--session-name', 'soak', '--log-level', 'info',
    ],
    { env: { DIALPAD_API_KEY: RECORDER_KEY }, stdout: 'ignore', stderr: recErr },
);
closeSync(recErr);
for (const deadline = performance.now() + 10000; ; ) {
    const listing = await s.http('GET', `${admin}/connections`);
    if (listing.connections?.some((c) => c.company === 'recorder')) break;
    if (recorder.exitState) s.die(`dialpad-record ended before it connected${s.tailOf(recErrPath)}`);
    if (performance.now() > deadline) s.die(`dialpad-record did not connect within 10 s${s.tailOf(recErrPath)}`);
    await s.sleep(50);
}

const clientsErrPath = join(tmp, 'clients.err');
const clientsErr = openSync(clientsErrPath, 'w');
const clients = s.start(
    'node',
    [
        '--no-warnings', join(s.nodeDir, 'soak_clients.mjs'), '--http', ready.http, '--clients', String(clientCount),
        '--groups', String(groups), '--status-ms', String(sampleS * 1000), '--timeout-ms', '30000',
    ],
    { env: { SOAK_API_KEYS: appKeys.join(',') }, stdin: 'pipe', stderr: clientsErr },
);
closeSync(clientsErr);
const clientsReady = await s.readyLine(clients, 'soak_clients.mjs', 40000, clientsErrPath);
const clientWebsockets = new Map(clientsReady.websockets.map((id, i) => [String(id), i]));
let clientStatus = {};
let final = null;
clients.lines.on('line', (line) => {
    clients.lineQueue.length = 0;
    try {
        const j = JSON.parse(line);
        if (j.status) clientStatus = j;
        if (j.final) final = j;
    } catch {
        // not ours
    }
});
console.log(`soak: mock ${ready.http}, recorder connected, ${clientCount} consumers connected; injecting`);

// --- Inject, sample, read the journal ----------------------------------------------
const t0 = performance.now();
const elapsedS = () => (performance.now() - t0) / 1000;
let nextSeq = 1;
const batchStarts = []; // [firstSeq, time ms since t0] per batch
let maxPostMs = 0;
let maxBehind = 0;
let injecting = true;
const failures = [];

async function injector() {
    while (injecting) {
        const now = performance.now() - t0;
        if (now >= runMs) break;
        const due = Math.floor((now * rate) / 1000) + 1;
        const count = Math.min(due - nextSeq, rate); // at most a second's worth at once
        maxBehind = Math.max(maxBehind, due - nextSeq - count);
        if (count > 0) {
            const parts = new Array(count);
            for (let i = 0; i < count; i++) parts[i] = `{"type":"call","raw":${JSON.stringify(soakEventText(nextSeq + i, groups))}}`;
            const tSent = performance.now();
            const answer = await s.http('POST', `${admin}/events`, `{"events":[${parts.join(',')}]}`, { timeoutMs: 30000 });
            if (answer.events !== count) s.die(`POST /__admin/events took ${answer.events} of ${count} events`);
            maxPostMs = Math.max(maxPostMs, performance.now() - tSent);
            batchStarts.push([nextSeq, tSent - t0]);
            nextSeq += count;
        }
        const wait = BATCH_MS - ((performance.now() - t0) % BATCH_MS);
        await s.sleep(wait);
    }
}

const samples = [];
const pids = { mock: mock.pid, record: recorder.pid, clients: clients.pid };
let lastCpu = null;
async function takeSample(label) {
    const t = elapsedS();
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, s.cpuSeconds(pid)]));
    const sample = { t, label, injected: nextSeq - 1 };
    for (const [name, pid] of Object.entries(pids)) {
        const st = s.procStats(pid);
        if (!st) {
            failures.push(`${name} (pid ${pid}) is gone at ${t.toFixed(0)} s`);
            continue;
        }
        sample[name] = { ...st, cpu: lastCpu ? (cpu[name] - lastCpu.cpu[name]) / (t - lastCpu.t) : null };
    }
    lastCpu = { t, cpu };
    const listing = await s.http('GET', `${admin}/connections`, undefined, { soft: true });
    sample.connections = listing.connections?.length ?? null;
    sample.queuedMax = listing.connections ? Math.max(0, ...listing.connections.map((c) => c.queued)) : null;
    sample.droppedByMock = listing.connections ? listing.connections.reduce((a, c) => a + c.dropped, 0) : null;
    sample.clientFrames = clientStatus.frames ?? null;
    sample.clientsConnected = clientStatus.connected ?? null;
    samples.push(sample);
    const p = (x) => (x ? `${s.mib(x.rssKiB).toFixed(1)} MiB ${x.fds} fds ${x.cpu === null ? '' : `${Math.round(x.cpu * 100)}% cpu`}` : 'gone');
    console.log(
        `${label.padEnd(6)} ${t.toFixed(0).padStart(5)} s  injected ${String(sample.injected).padStart(9)}  ` +
            `mock ${p(sample.mock)} | record ${p(sample.record)} | consumers ${p(sample.clients)}, ` +
            `${sample.clientsConnected ?? '?'} up, ${sample.clientFrames ?? '?'} frames | ${sample.connections} conns, queued max ${sample.queuedMax}`,
    );
    if (mock.exitState) s.die(`dialpad-mock ended: ${JSON.stringify(mock.exitState)}${s.tailOf(mockErrPath)}`);
    if (recorder.exitState) s.die(`dialpad-record ended: ${JSON.stringify(recorder.exitState)}${s.tailOf(recErrPath)}`);
    if (clients.exitState) s.die(`soak_clients.mjs ended: ${JSON.stringify(clients.exitState)}${s.tailOf(clientsErrPath)}`);
}

// Journal windows: what the mock wrote, per connection, in a short window.
const journalWindows = [];
const recorderJournal = new Map(); // event id -> deliveries to recorder connections (sampled)
const clientJournal = []; // [client index, event id] pairs
let journalUnattributed = 0;
let journalOrderProblems = 0;
async function readJournalWindow() {
    await s.http('DELETE', `${admin}/deliveries`);
    await s.sleep(500);
    const journal = await s.http('GET', `${admin}/deliveries`, undefined, { timeoutMs: 30000 });
    const listing = await s.http('GET', `${admin}/connections`);
    const entries = journal.deliveries ?? [];
    const websocketOf = new Map(listing.connections.map((c) => [c.id, { websocket: String(c.websocket), company: c.company }]));
    const lastOnConnection = new Map();
    let recorderEntries = 0;
    for (const d of entries) {
        if (d.event <= (lastOnConnection.get(d.connection) ?? 0)) journalOrderProblems += 1;
        lastOnConnection.set(d.connection, d.event);
        const owner = websocketOf.get(d.connection);
        if (!owner) {
            journalUnattributed += 1; // a connection that closed within the window
        } else if (owner.company === 'recorder') {
            recorderJournal.set(d.event, (recorderJournal.get(d.event) ?? 0) + 1);
            recorderEntries += 1;
        } else if (clientWebsockets.has(owner.websocket)) {
            clientJournal.push([clientWebsockets.get(owner.websocket), d.event]);
        } else {
            journalUnattributed += 1;
        }
        if (d.bytes !== soakEventText(d.event, groups).length) failures.push(`journal: delivery ${d.seq} (event ${d.event}) is ${d.bytes} bytes, the event is ${soakEventText(d.event, groups).length}`);
    }
    journalWindows.push({ t: elapsedS(), entries: entries.length, recorderEntries, truncated: entries.length >= JOURNAL_CAPACITY });
}

const injection = injector();
let nextSample = 0;
// Half a period off the minute: away from the cuts of the usual time scales.
let nextJournal = journalEveryS / 2;
while (elapsedS() * 1000 < runMs) {
    const t = elapsedS();
    if (t >= nextSample) {
        await takeSample('sample');
        nextSample += sampleS;
    } else if (t >= nextJournal) {
        await readJournalWindow();
        nextJournal += journalEveryS;
    }
    await s.sleep(Math.max(10, Math.min(nextSample, nextJournal, runMs / 1000) * 1000 - (performance.now() - t0)));
}
injecting = false;
await injection;
const injected = nextSeq - 1;
const injectSeconds = elapsedS();

// --- Drain, last sample, stop the consumers and the recorder ------------------------
for (const deadline = performance.now() + 30000; performance.now() < deadline; ) {
    const listing = await s.http('GET', `${admin}/connections`);
    if (listing.connections.every((c) => c.queued === 0)) break;
    await s.sleep(200);
}
await s.sleep(1000); // the consumers read the last frames; the recorder commits them
// Connections kept alive after the last cut's refreshes close within seconds;
// a leaked descriptor does not.
const fdsAt = (x, name) => x[name]?.fds ?? 0;
const warmSample = samples.find((x) => x.t >= warmupS && x.label === 'sample') ?? samples.at(-1);
for (const deadline = performance.now() + 15000; performance.now() < deadline; await s.sleep(500)) {
    const now = { mock: s.procStats(mock.pid), record: s.procStats(recorder.pid) };
    if (now.mock && now.record && now.mock.fds <= fdsAt(warmSample, 'mock') && now.record.fds <= fdsAt(warmSample, 'record')) break;
}
await takeSample('end');
clients.stdin.write('stop\n');
for (const deadline = performance.now() + 30000; !final && !clients.exitState && performance.now() < deadline; ) await s.sleep(100);
await s.sleep(100); // the 'line' event comes before the exit
if (!final) s.die(`soak_clients.mjs gave no final report${s.tailOf(clientsErrPath)}`);
await s.waitExit(clients, 10000);
const recExit = await s.stop(recorder, 120000);
if (recExit.code !== 0) failures.push(`dialpad-record exited ${recExit.code ?? recExit.signal} on SIGTERM${recExit.killed ? ' (killed after 120 s)' : ''}${s.tailOf(recErrPath, 300)}`);

// --- The archive ----------------------------------------------------------------------
console.log(`soak: checking the archive (${(statSync(archive).size / 1048576).toFixed(0)} MiB)`);
const checkStart = performance.now();
const verify = await s.run(bin.replay, ['verify', archive], 1800000);
const verifyOk = verify.code === 0 && /integrity ok/.test(verify.stdout + verify.stderr);
if (!verifyOk) failures.push(`dialpad-replay verify exited ${verify.code ?? verify.signal}: ${(verify.stdout + verify.stderr).trim().slice(0, 300)}`);
const meta = await s.run('sqlite3', ['-json', '-readonly', archive,
    "select (select count(*) from sessions) as sessions, (select count(*) from gaps) as gaps, " +
    "(select json_group_array(json_object('end_reason', end_reason, 'abrupt', abrupt)) from connections) as connections"], 600000);
if (meta.code !== 0) s.die(`sqlite3 failed: ${meta.stderr.trim()}`);
const archiveMeta = JSON.parse(meta.stdout)[0];
const archiveConnections = JSON.parse(archiveMeta.connections);
const endReasons = {};
for (const c of archiveConnections) endReasons[c.end_reason ?? 'open'] = (endReasons[c.end_reason ?? 'open'] ?? 0) + 1;
if (archiveMeta.sessions !== 1) failures.push(`the archive holds ${archiveMeta.sessions} sessions, expected 1`);
if (archiveMeta.gaps !== 0) failures.push(`the archive records ${archiveMeta.gaps} gaps`);

// Every event frame, in archive order: 1..N exactly once, each byte as
// injected, in order on each connection. Across connections, the archive
// keeps arrival order: while the recorder overlaps two connections at a
// refresh, an old connection that lags behind the new one delivers older
// events after newer ones; those are counted (reordered), with how far.
const archiveCheck = { events: 0, missing: 0, duplicates: 0, outOfOrder: 0, reordered: 0, maxDisplacement: 0, reorderedOn: {}, badText: 0, foreign: 0, firstProblem: null };
{
    const reader = s.start('sqlite3', ['-readonly', archive, "select connection_id, text from frames where kind = 'event' order by id"], { stdout: 'pipe' });
    const seen = new Uint8Array(injected + 2);
    const lastOn = new Map();
    let highest = 0;
    let highestOn = null;
    const problem = (text) => {
        archiveCheck.firstProblem ??= text;
    };
    reader.lines.removeAllListeners('line');
    const linesDone = new Promise((r) => reader.lines.once('close', r));
    reader.lines.on('line', (line) => {
        archiveCheck.events += 1;
        const bar = line.indexOf('|');
        const connection = line.slice(0, bar);
        const text = line.slice(bar + 1);
        const seq = soakSeqOf(text);
        if (seq < 1 || seq > injected) {
            archiveCheck.foreign += 1;
            problem(`frame ${archiveCheck.events} is not an injected event: ${text.slice(0, 60)}`);
            return;
        }
        if (text !== soakEventText(seq, groups)) {
            archiveCheck.badText += 1;
            problem(`event ${seq} differs from what was injected`);
        }
        if (seen[seq]) {
            archiveCheck.duplicates += 1;
            problem(`event ${seq} is archived twice`);
        }
        seen[seq] = 1;
        if (seq <= (lastOn.get(connection) ?? 0)) {
            archiveCheck.outOfOrder += 1;
            problem(`event ${seq} comes after ${lastOn.get(connection)} on connection ${connection}`);
        }
        lastOn.set(connection, seq);
        if (seq < highest) {
            archiveCheck.reordered += 1;
            archiveCheck.maxDisplacement = Math.max(archiveCheck.maxDisplacement, highest - seq);
            const pair = `${connection} after ${highestOn}`;
            archiveCheck.reorderedOn[pair] = (archiveCheck.reorderedOn[pair] ?? 0) + 1;
        } else {
            highest = seq;
            highestOn = connection;
        }
    });
    const done = await s.waitExit(reader, 1800000);
    if (!done || done.code !== 0) s.die(`sqlite3 reading the frames failed: ${JSON.stringify(done)}`);
    await linesDone;
    for (let i = 1; i <= injected; i++) if (!seen[i]) archiveCheck.missing += 1;
    if (archiveCheck.missing) problem(`${archiveCheck.missing} injected events are not in the archive`);
    let journalNotArchived = 0;
    for (const id of recorderJournal.keys()) if (!seen[id]) journalNotArchived += 1;
    archiveCheck.journalNotArchived = journalNotArchived;
}
for (const k of ['missing', 'duplicates', 'outOfOrder', 'badText', 'foreign', 'journalNotArchived'])
    if (archiveCheck[k]) failures.push(`archive: ${archiveCheck[k]} ${k} (first: ${archiveCheck.firstProblem})`);
const checkSeconds = (performance.now() - checkStart) / 1000;

const mockExit = await s.stop(mock, 10000);
if (mockExit.code !== 0) failures.push(`dialpad-mock exited ${mockExit.code ?? mockExit.signal} on SIGTERM${s.tailOf(mockErrPath, 300)}`);

// --- The consumers ---------------------------------------------------------------------
// The wall time an event was injected (its batch's POST), ms since t0.
const injectedAt = (seq) => {
    let lo = 0;
    let hi = batchStarts.length - 1;
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (batchStarts[mid][0] <= seq) lo = mid;
        else hi = mid - 1;
    }
    return batchStarts[lo]?.[1] ?? NaN;
};
const perClient = final.clients.map((c) => {
    const expected = Math.floor((injected - c.group) / groups) + (c.group === 0 ? 0 : 1);
    const firstDue = c.group === 0 ? groups : c.group;
    const lastDue = injected - ((injected - c.group) % groups);
    const headLost = c.first_seq > firstDue ? (c.first_seq - firstDue) / groups : 0;
    const tailLost = c.last_seq < lastDue ? (lastDue - c.last_seq) / groups : 0;
    const received = c.frames - c.duplicates - c.out_of_order - c.bad_frames;
    const spans = c.gap_ranges.map(([a, b]) => injectedAt(b) - injectedAt(a) + BATCH_MS);
    return {
        ...c,
        expected,
        received,
        lost: expected - received,
        headLost,
        tailLost,
        maxSpanMs: spans.length ? Math.max(...spans) : 0,
    };
});
const clientProblems = [];
for (const c of perClient) {
    if (c.duplicates || c.out_of_order || c.bad_frames) clientProblems.push(`consumer ${c.client}: ${c.duplicates} duplicates, ${c.out_of_order} out of order, ${c.bad_frames} bad frames`);
    if (c.unexpected_gaps) clientProblems.push(`consumer ${c.client}: ${c.unexpected_gaps} gaps not after a reconnect`);
    if (c.headLost) clientProblems.push(`consumer ${c.client}: lost ${c.headLost} events at the start`);
    if (c.tailLost && !c.cut_since_last_frame) clientProblems.push(`consumer ${c.client}: lost ${c.tailLost} events at the end, with no cut after its last frame`);
    if (c.lost !== c.missing + c.headLost + c.tailLost) clientProblems.push(`consumer ${c.client}: ${c.lost} lost, but ${c.missing} in its gaps`);
}
// Every sampled delivery to a consumer must have been received: none in its gaps.
let journalNotReceived = 0;
const gapIndex = perClient.map((c) => c.gap_ranges);
for (const [client, event] of clientJournal) {
    if (gapIndex[client].some(([a, b]) => event >= a && event <= b) || event > perClient[client].last_seq) journalNotReceived += 1;
}
if (journalNotReceived) clientProblems.push(`${journalNotReceived} journal-sampled deliveries to consumers were never received`);
if (journalOrderProblems) clientProblems.push(`${journalOrderProblems} journal entries out of order on their connection`);
failures.push(...clientProblems.slice(0, 20));
if (final.errors?.length) failures.push(...final.errors.slice(0, 5));

// --- Memory and fds ----------------------------------------------------------------------
const warm = samples.find((x) => x.t >= warmupS && x.label === 'sample') ?? samples.at(-1);
const first = samples[0];
const end = samples.at(-1);
const memory = {};
for (const name of ['mock', 'record', 'clients']) {
    const series = samples.filter((x) => x[name]);
    const after = series.filter((x) => x.t >= warm.t);
    // Least squares slope of RSS after warm-up, MiB per hour.
    const n = after.length;
    const mx = after.reduce((a, x) => a + x.t, 0) / n;
    const my = after.reduce((a, x) => a + x[name].rssKiB, 0) / n;
    const sxy = after.reduce((a, x) => a + (x.t - mx) * (x[name].rssKiB - my), 0);
    const sxx = after.reduce((a, x) => a + (x.t - mx) ** 2, 0);
    memory[name] = {
        start: first[name]?.rssKiB,
        warm: warm[name]?.rssKiB,
        peak: Math.max(...series.map((x) => x[name].rssKiB)),
        end: end[name]?.rssKiB,
        slopeMiBPerHour: sxx > 0 ? ((sxy / sxx) * 3600) / 1024 : 0,
        fdsStart: first[name]?.fds,
        fdsWarm: warm[name]?.fds,
        fdsMin: Math.min(...series.map((x) => x[name].fds)),
        fdsMax: Math.max(...series.map((x) => x[name].fds)),
        fdsEnd: end[name]?.fds,
        cpuMean: after.filter((x) => x[name].cpu !== null).reduce((a, x, _, arr) => a + x[name].cpu / arr.length, 0),
    };
    if (name !== 'clients') {
        if (memory[name].end > memory[name].warm + rssBoundMiB * 1024)
            failures.push(`${name}: RSS ${s.mib(memory[name].end)} MiB at the end, over ${s.mib(memory[name].warm)} MiB after warm-up + ${rssBoundMiB} MiB`);
        if (memory[name].fdsEnd > memory[name].fdsWarm + FD_SLACK)
            failures.push(`${name}: ${memory[name].fdsEnd} open fds at the end, ${memory[name].fdsWarm} after warm-up (+${FD_SLACK} allowed)`);
    }
}

// --- Summary -------------------------------------------------------------------------------
const sorted = (f) => perClient.map(f).sort((a, b) => a - b);
const lostList = sorted((c) => c.lost);
const reconnects = sorted((c) => c.reconnects);
const spans = sorted((c) => c.maxSpanMs);
const reconnectMs = sorted((c) => c.reconnect_ms_max ?? 0);
const totalLost = lostList.reduce((a, x) => a + x, 0);
const totalExpected = perClient.reduce((a, c) => a + c.expected, 0);
const closeCodes = {};
for (const c of perClient) for (const [code, n] of Object.entries(c.close_codes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
const m = (kib) => `${s.mib(kib).toFixed(1)}`;
const q = (list, p) => s.quantile(list, p);

console.log('');
console.log(`soak summary: ${minutes} min, ${rate} events/s, ${clientCount} consumers, clock x${timeScale}`);
console.log(
    `  injected ${injected} events in ${injectSeconds.toFixed(0)} s (${(injected / injectSeconds).toFixed(0)}/s; slowest POST ${maxPostMs.toFixed(0)} ms, ` +
        `most behind ${maxBehind} events)`,
);
console.log(
    `  archive: ${archiveCheck.events} events in 1 session, ${archiveConnections.length} connections (${Object.entries(endReasons).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
        `${archiveMeta.gaps} gaps; missing ${archiveCheck.missing}, duplicated ${archiveCheck.duplicates}, out of order on a connection ${archiveCheck.outOfOrder}, ` +
        `altered ${archiveCheck.badText}; verify ${verifyOk ? 'ok' : 'FAILED'} (checks took ${checkSeconds.toFixed(0)} s)`,
);
console.log(
    `    arrival order vs injection order: ${archiveCheck.reordered} events archived after a newer one` +
        (archiveCheck.reordered
            ? ` (at refresh overlaps: connection after connection ${Object.entries(archiveCheck.reorderedOn).map(([k, v]) => `${k} x${v}`).join(', ')}; at most ${archiveCheck.maxDisplacement} events back)`
            : ''),
);
console.log(
    `  journal: ${journalWindows.length} windows of 0.5 s, ${journalWindows.reduce((a, w) => a + w.entries, 0)} deliveries ` +
        `(${recorderJournal.size} events to the recorder, ${[...recorderJournal.values()].filter((n) => n > 1).length} of them on two connections; ` +
        `${clientJournal.length} to consumers; ${journalUnattributed} on connections closed in the window); ` +
        `not archived ${archiveCheck.journalNotArchived}, not received ${journalNotReceived}`,
);
console.log(
    `  consumers: ${final.clients.reduce((a, c) => a + c.frames, 0)} frames received of ${totalExpected} due; lost ${totalLost} ` +
        `(${((100 * totalLost) / Math.max(1, totalExpected)).toFixed(3)}%), per consumer min ${lostList[0]}, median ${q(lostList, 0.5)}, max ${lostList.at(-1)}; ` +
        `duplicates ${perClient.reduce((a, c) => a + c.duplicates, 0)}, out of order ${perClient.reduce((a, c) => a + c.out_of_order, 0)}, ` +
        `altered ${perClient.reduce((a, c) => a + c.bad_frames, 0)}`,
);
console.log(
    `    reconnects per consumer ${reconnects[0]}..${reconnects.at(-1)} (closes: ${Object.entries(closeCodes).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'}); ` +
        `every loss inside a reconnect window: ${perClient.every((c) => c.unexpected_gaps === 0 && !c.headLost && (!c.tailLost || c.cut_since_last_frame) && c.lost === c.missing + c.tailLost) ? 'yes' : 'NO'}` +
        `${perClient.some((c) => c.tailLost) ? ` (${perClient.filter((c) => c.tailLost).length} consumers were reconnecting when the injection stopped: ${perClient.reduce((a, c) => a + c.tailLost, 0)} of the losses)` : ''}; ` +
        `longest window of missed events ${q(spans, 1).toFixed(0)} ms (median consumer ${q(spans, 0.5).toFixed(0)} ms), ` +
        `slowest cut-to-reconnected ${q(reconnectMs, 1)} ms`,
);
for (const name of ['mock', 'record', 'clients']) {
    const x = memory[name];
    console.log(
        `  ${name.padEnd(7)} RSS MiB start ${m(x.start)}, after warm-up ${m(x.warm)}, peak ${m(x.peak)}, end ${m(x.end)} ` +
            `(bound ${name === 'clients' ? 'n/a' : `${m(x.warm + rssBoundMiB * 1024)}`}; slope after warm-up ${x.slopeMiBPerHour.toFixed(1)} MiB/h); ` +
            `fds start ${x.fdsStart}, after warm-up ${x.fdsWarm}, min ${x.fdsMin}, max ${x.fdsMax}, end ${x.fdsEnd}; cpu ${Math.round(x.cpuMean * 100)}%`,
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
