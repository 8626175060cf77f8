// The events scripts/soak and scripts/crash-test inject into dialpad-mock:
// call events whose exact text is a function of a sequence number, so every
// program that sees one (a consumer, the archive check) can tell which it is
// from its first bytes and check every byte. ASCII only: a frame's byte length
// is the text's length. About 330 bytes, shaped like a Dialpad call event.
//
// The event's target is one of `groups` users (seq mod groups), so a consumer
// subscribed to one target user (soak_target_id) gets every groups-th event.

const BASE_MS = 1767225600000; // 2026-01-01T00:00:00Z
const STATES = ['ringing', 'connected', 'hangup', 'calling', 'voicemail'];

export const soak_target_id = (group) => 5000000000000000 + group;

export function soak_event_text(seq, groups = 1) {
    const user = soak_target_id(seq % groups);
    const phone = String(1000000 + (seq % 8999999)).padStart(7, '0');
    return (
        `{"soak_seq":${seq},"call_id":${6000000000000000 + seq},"state":"${STATES[seq % STATES.length]}",` +
        `"direction":"inbound","event_timestamp":${BASE_MS + seq},"date_started":${BASE_MS + seq - 1000},` +
        `"external_number":"+1415${phone}","internal_number":"+1650${phone}",` +
        `"contact":{"id":"${7000000000000000 + (seq % 997)}","name":"Soak Caller ${seq % 1000}","phone":"+1415${phone}","type":"local"},` +
        `"target":{"id":${user},"type":"user","name":"Agent ${seq % 97}"},"is_transferred":false}`
    );
}

// The sequence number of an event text (or a frame's payload), or -1.
export function soak_seq_of(text) {
    const match = /^\{"soak_seq":(\d+),/.exec(text);
    return match ? Number(match[1]) : -1;
}
