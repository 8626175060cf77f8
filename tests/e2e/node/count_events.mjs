// Connects to the websocket URL in $WS_URL (never on argv: it holds a token),
// prints "connected" once open, then counts text frames until it has read
// the number given on stdin, and prints {"received":N,"plain_json":bool}:
// whether every frame parsed as a JSON object (a websocket with no secret).
// Exits 1 if the connection ends first.
import WebSocket from 'ws';
import { createInterface } from 'node:readline';

let wanted = Infinity;
let received = 0;
let plain_json = true;
const socket = new WebSocket(process.env.WS_URL);

function finish_if_done() {
  if (received < wanted) return;
  console.log(JSON.stringify({ received, plain_json }));
  socket.close(1000);
  process.exit(0);
}

socket.on('open', () => console.log('connected'));
socket.on('message', (data, is_binary) => {
  received += 1;
  try {
    const event = JSON.parse(data.toString());
    plain_json &&= !is_binary && typeof event === 'object' && event !== null;
  } catch {
    plain_json = false;
  }
  finish_if_done();
});
socket.on('close', (code) => {
  console.log(JSON.stringify({ received, plain_json, closed: code }));
  process.exit(1);
});
socket.on('error', (error) => {
  console.error(`count_events: ${error.message}`);
  process.exit(1);
});
createInterface({ input: process.stdin }).on('line', (line) => {
  wanted = Number(line);
  finish_if_done();
});
