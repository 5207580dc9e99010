// Generates spqr_js_vectors.txt from the executable JavaScript model of SPQR v1
// (../shared/reference/libsignal-node/spqr-js.mjs, written from signal-v4-wire.md §4 and checked
// against libsignal 0.103 in its 07-js-peer-interop.mjs). Run once, output checked in:
//
//   SPQR_JS=/path/to/libsignal-node LSNODE=/path/to/libsignal-node node generate.mjs > spqr_js_vectors.txt
//
// (the folder needs `npm ci` for @noble/post-quantum and @signalapp/libsignal-client, which
// spqr-js.mjs loads; only this script and its output live in hush.)
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

const dir = process.env.SPQR_JS;
const { Spqr, RsEncoder } = await import(pathToFileURL(dir + '/spqr-js.mjs').href);
const hex = (b) => Buffer.from(b).toString('hex');
const pattern = (n, mul, add) => Buffer.from(Array.from({ length: n }, (_, i) => (i * mul + add) & 255));
const secret = (label) => createHash('sha256').update(label).digest();

const seed = pattern(32, 1, 0);
const out = { source: 'spqr-js.mjs (../shared/reference/libsignal-node), via generate.mjs', seed: hex(seed) };

// Chain keys: both roles, two added epochs, a jump and an out-of-order key.
const chains = [];
for (const a2b of [true, false]) {
  const s = new Spqr(seed, a2b);
  const c = s.chain;
  const steps = [];
  const send = (ep) => { const [index, key] = c.sendKey(ep); steps.push({ op: 'send', epoch: ep, index, key: hex(key) }); };
  const recv = (ep, index) => steps.push({ op: 'recv', epoch: ep, index, key: hex(c.recvKey(ep, index)) });
  const add = (ep) => { c.addEpoch(ep, secret('epoch ' + ep)); steps.push({ op: 'add', epoch: ep, secret: hex(secret('epoch ' + ep)) }); };
  send(0); send(0); send(0); recv(0, 1); recv(0, 4); recv(0, 2);
  add(1); send(1); recv(1, 3); send(0); recv(0, 3);
  add(2); send(2); send(2); recv(2, 100); recv(2, 1);
  chains.push({ a2b, steps });
}
out.chains = chains;

// Authenticator: the MACs after the start, and after an update.
{
  const s = new Spqr(seed, true);
  const hdr = pattern(64, 3, 1), ct1 = pattern(960, 5, 2), ct2 = pattern(128, 7, 3);
  const a = { hdr: hex(hdr), ct1: hex(ct1), ct2: hex(ct2), mac_header_1: hex(s.auth.macHdr(1, hdr)) };
  s.auth.update(1, secret('epoch 1'));
  a.update_secret = hex(secret('epoch 1'));
  a.mac_header_after = hex(s.auth.macHdr(1, hdr));
  a.mac_ciphertext_after = hex(s.auth.macCt(1, Buffer.concat([ct1, ct2])));
  s.auth.update(7, secret('epoch 7'));
  a.update_secret_7 = hex(secret('epoch 7'));
  a.mac_ciphertext_7 = hex(s.auth.macCt(7, Buffer.concat([ct1, ct2])));
  out.authenticator = a;
}

// Erasure code: chunks of each payload size the braid uses.
out.erasure = [96, 160, 960, 1152].map((n) => {
  const payload = pattern(n, 13, n);
  const enc = new RsEncoder(payload);
  const k = n / 32;
  const idx = [0, k - 1, k, k + 1, k + 7, 200, 65535];
  return { payload: hex(payload), chunks: idx.map((i) => ({ index: i, data: hex(enc.chunk(i)) })) };
});

// The responder's first messages (no braid payload yet): bytes and keys.
{
  const b = new Spqr(seed, false);
  out.responder_first = [0, 1, 2].map(() => { const { msg, key } = b.send(); return { message: hex(msg), key: hex(key) }; });
}
// One record a line, fields separated by spaces (read by tests/unit/spqr_test.cpp).
const lines = ['# ' + out.source, 'seed ' + out.seed];
for (const c of out.chains) {
  lines.push('chain ' + (c.a2b ? 1 : 0));
  for (const st of c.steps)
    lines.push(st.op === 'add' ? `add ${st.epoch} ${st.secret}` : `${st.op} ${st.epoch} ${st.index} ${st.key}`);
}
const a = out.authenticator;
lines.push(`auth ${a.hdr} ${a.ct1} ${a.ct2} ${a.mac_header_1} ${a.update_secret} ${a.mac_header_after} ${a.mac_ciphertext_after} ${a.update_secret_7} ${a.mac_ciphertext_7}`);
for (const e of out.erasure) {
  lines.push('payload ' + e.payload);
  for (const c of e.chunks) lines.push(`chunk ${c.index} ${c.data}`);
}
for (const r of out.responder_first) lines.push(`responder ${r.message} ${r.key}`);
process.stdout.write(lines.join('\n') + '\n');
