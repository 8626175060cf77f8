// A third-party consumer of `dialpad-replay serve` (npm's `ws`): connects to
// the given event URL, reads every frame until the server closes, and proves
// what it received with the digest the replay report defines
// (replayer/sequence_digest.hpp): SHA-256 over the concatenated 32-byte
// SHA-256 of each frame's payload, in order, printed as hex. Equal digests on
// both sides mean the same frames, byte for byte, in the same order.
//
// Success (the server closed with 1000): one line of JSON on stdout,
// {"frames":N,"bytes":B,"sha256":"<hex>","close_code":1000}, exit 0.
// Failure: one line on stderr ("replay_consumer: ..."), exit 1; a bad command
// line exits 2. Every wait is bounded by --timeout-ms.
//
// Usage: node replay_consumer.mjs --url ws://127.0.0.1:PORT/events/TOKEN [--timeout-ms 20000]

import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { die as fail, parse_command_line, set_name, usage } from './script_support.mjs';

set_name('replay_consumer');

const options = parse_command_line({
    url: { type: 'string' },
    'timeout-ms': { type: 'string', default: '20000' },
});
const timeout_ms = Number(options['timeout-ms']);
if (!options.url || !/^wss?:\/\/.+\/events\/[^/]+$/.test(options.url) || !Number.isInteger(timeout_ms) || timeout_ms < 1) {
    usage('--url ws://HOST:PORT/events/TOKEN is required; --timeout-ms must be a positive integer');
}

const watchdog = setTimeout(() => fail(`the server did not close within ${timeout_ms} ms`), timeout_ms);

// Only the 32-byte per-frame digests are kept, not the frames.
const sequence = createHash('sha256');
let frames = 0;
let bytes = 0;

const socket = new WebSocket(options.url, { handshakeTimeout: timeout_ms });
socket.on('message', (data) => {
    // ws hands over each message whole, as a Buffer of its exact payload bytes.
    sequence.update(createHash('sha256').update(data).digest());
    frames += 1;
    bytes += data.length;
});
socket.on('unexpected-response', (_request, response) => fail(`the upgrade was refused with HTTP ${response.statusCode}`));
socket.on('error', (e) => fail(`socket error after ${frames} frames: ${e.message}`));
socket.on('close', (code, reason) => {
    clearTimeout(watchdog);
    if (code !== 1000) fail(`closed with ${code} '${reason.toString('utf8')}' after ${frames} frames, expected a normal close (1000)`);
    process.stdout.write(`${JSON.stringify({ frames, bytes, sha256: sequence.digest('hex'), close_code: code })}\n`);
    process.exit(0);
});
