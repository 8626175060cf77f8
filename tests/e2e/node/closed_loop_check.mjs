// Checks one closed loop (dialpad-mock -> dialpad-record -> archive ->
// dialpad-replay serve -> replay_consumer.mjs) from the files each step left,
// computing everything itself rather than trusting any one program:
//
//   --export FILE      `dialpad-replay export` of the recorded session (required):
//                      connections, gaps, and the frames in archive order. The
//                      frames serve sends (events and control frames) give the
//                      archive's digest, made here the way the replay report
//                      defines it (replayer/sequence_digest.hpp).
//   --deliveries FILE  the mock's GET /__admin/deliveries: every event the mock
//                      sent must be archived exactly once (sent twice while two
//                      connections overlapped, kept once).
//   --injected FILE    the exact text of every injected event, one per line, in
//                      injection order (then the mock's event ids are 1..N):
//                      the archived events, JWT payloads decoded, must be those
//                      texts, each once, in that order.
//   --report FILE      the replay report: one client that finished, with the
//                      archive's frame count and digest.
//   --consumer FILE    replay_consumer.mjs's line: the same count and digest.
//
// Prints one line of flat JSON with the counts and digests, exit 0; or one line
// per mismatch on stderr ("closed_loop_check: ..."), then exit 1. A bad command
// line or an unreadable file exits 2.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse_command_line, set_name, usage } from './script_support.mjs';

const NAME = 'closed_loop_check';
set_name(NAME);

const options = parse_command_line({
    export: { type: 'string' },
    deliveries: { type: 'string' },
    injected: { type: 'string' },
    report: { type: 'string' },
    consumer: { type: 'string' },
});
if (!options.export) usage('--export FILE is required');

function read(path) {
    try {
        return readFileSync(path, 'utf8');
    } catch (e) {
        usage(`cannot read ${path}: ${e.message}`);
    }
}
function read_json(path) {
    try {
        return JSON.parse(read(path));
    } catch (e) {
        usage(`${path} is not JSON: ${e.message}`);
    }
}
const lines = (text) => text.split('\n').filter((line) => line.length > 0);

const problems = [];
const problem = (text) => problems.push(text);
const summary = {};

// --- The archive, as exported ------------------------------------------------
const [header_line, ...frame_lines] = lines(read(options.export));
const header = JSON.parse(header_line);
const frames = frame_lines.map((line) => JSON.parse(line));
const served = frames.filter((f) => f.kind === 'event' || f.kind === 'control');
const events = frames.filter((f) => f.kind === 'event');

const sequence = createHash('sha256');
for (const f of served) sequence.update(createHash('sha256').update(f.text, 'utf8').digest());
const connections = header.connections ?? [];
summary.archive_frames = served.length;
summary.archive_events = events.length;
summary.connections = connections.length;
summary.hour_cuts = connections.filter((c) => c.end_reason === 'hour_cut').length;
summary.refreshes = connections.filter((c) => c.end_reason === 'token_refresh').length;
summary.gaps = (header.gaps ?? []).length;
// The recorder verifies JWT frames with the secret it was given; any verdict
// but valid (bad_signature, wrong_algorithm, malformed, unchecked) is a fault.
const jwt_verdicts = events.map((f) => f.signature).filter((s) => s !== undefined && s !== 'not_jwt');
summary.bad_signatures = jwt_verdicts.filter((s) => s !== 'valid').length;
summary.archive_sha256 = sequence.digest('hex');
if (summary.bad_signatures > 0) problem(`${summary.bad_signatures} archived events do not carry a valid signature`);

// An event's own text: the payload of a JWT frame, else the frame itself.
function event_text(frame) {
    const parts = frame.text.split('.');
    return parts.length === 3 ? Buffer.from(parts[1], 'base64url').toString('utf8') : frame.text;
}

// --- What was injected --------------------------------------------------------
if (options.injected) {
    const injected = lines(read(options.injected));
    const archived = events.map(event_text);
    summary.injected = injected.length;
    const position = new Map(injected.map((text, i) => [text, i]));
    if (position.size !== injected.length) problem('the injected events are not all distinct');
    const seen = new Map();
    for (const text of archived) seen.set(text, (seen.get(text) ?? 0) + 1);
    const missing = injected.filter((text) => !seen.has(text));
    const repeated = [...seen].filter(([, n]) => n > 1);
    const foreign = archived.filter((text) => !position.has(text));
    if (missing.length) problem(`${missing.length} injected events are not in the archive, the first: ${missing[0]}`);
    if (repeated.length) problem(`${repeated.length} events are archived more than once, the first ${repeated[0][1]} times: ${repeated[0][0]}`);
    if (foreign.length) problem(`${foreign.length} archived events were never injected, the first: ${foreign[0]}`);
    const order = archived.findIndex((text, i) => i > 0 && position.get(text) < position.get(archived[i - 1]));
    if (order > 0) problem(`archived event ${order + 1} comes before its predecessor in injection order: ${archived[order]}`);
}

// --- What the mock sent ---------------------------------------------------------
if (options.deliveries) {
    const deliveries = read_json(options.deliveries).deliveries ?? [];
    const per_event = new Map();
    const last_on_connection = new Map();
    for (const d of deliveries) {
        per_event.set(d.event, (per_event.get(d.event) ?? 0) + 1);
        if (d.event <= (last_on_connection.get(d.connection) ?? 0)) problem(`the mock sent event ${d.event} on connection ${d.connection} out of order`);
        last_on_connection.set(d.connection, d.event);
    }
    summary.delivered_events = per_event.size;
    summary.deliveries = deliveries.length;
    summary.sent_twice = [...per_event.values()].filter((n) => n > 1).length;
    summary.mock_connections = last_on_connection.size;
    if (per_event.size !== events.length) problem(`the mock sent ${per_event.size} distinct events, the archive holds ${events.length}`);
    if (options.injected) {
        const unsent = [];
        for (let id = 1; id <= summary.injected; id++) if (!per_event.has(id)) unsent.push(id);
        if (unsent.length) problem(`the mock sent ${unsent.length} injected events to no connection (event ids ${unsent.slice(0, 10).join(', ')})`);
    }
}

// --- What was replayed ------------------------------------------------------------
if (options.report) {
    const report = read_json(options.report);
    const clients = report.clients ?? [];
    if (clients.length !== 1) problem(`the replay report lists ${clients.length} clients, expected 1`);
    const client = clients[0] ?? {};
    summary.report_frames = client.frames;
    summary.report_sha256 = client.sha256;
    if (client.finished !== true) problem(`the replay client did not get the whole session (ended_by ${client.ended_by})`);
    if (client.frames !== served.length) problem(`the replay report says ${client.frames} frames sent, the archive holds ${served.length}`);
    if (client.sha256 !== summary.archive_sha256) problem(`the replay report's sha256 ${client.sha256} differs from the archive's ${summary.archive_sha256}`);
}
if (options.consumer) {
    const consumer = read_json(options.consumer);
    summary.consumer_frames = consumer.frames;
    summary.consumer_sha256 = consumer.sha256;
    if (consumer.frames !== served.length) problem(`the consumer received ${consumer.frames} frames, the archive holds ${served.length}`);
    if (consumer.sha256 !== summary.archive_sha256) problem(`the consumer's sha256 ${consumer.sha256} differs from the archive's ${summary.archive_sha256}`);
}

for (const text of problems) process.stderr.write(`${NAME}: ${String(text).slice(0, 400)}\n`);
summary.ok = problems.length === 0;
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(problems.length ? 1 : 0);
