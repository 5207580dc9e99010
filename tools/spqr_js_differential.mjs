// Differential run of hush's SPQR v1 against the JavaScript model of signal-v4-wire.md §4
// (spqr-js.mjs in ../shared/reference/libsignal-node, which interoperates with libsignal 0.103 in
// its 07-js-peer-interop.mjs). hush's side is build/tests/unit/hush_spqr_peer, spoken to line by
// line; the model runs in this process. Both roles, ping-pong, bursts and 20 % loss with
// reordering; every delivered message must give both sides the same key, and both sides' epochs
// must advance.
//
//   SPQR_JS=/path/to/libsignal-node LSNODE=/path/to/libsignal-node \
//     node tools/spqr_js_differential.mjs build/tests/unit/hush_spqr_peer
//
// (the folder needs `npm ci` there: spqr-js.mjs loads @noble/post-quantum and, through lib.mjs,
// @signalapp/libsignal-client.) Exit status 0 when every check held.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const { Spqr } = await import(pathToFileURL(process.env.SPQR_JS + '/spqr-js.mjs').href);
const peerPath = process.argv[2];
const hex = (b) => Buffer.from(b).toString('hex');

let rngState = 12345;
const rand = () => { rngState = (rngState * 1103515245 + 12345) & 0x7fffffff; return rngState / 0x80000000; };

function startPeer() {
  const child = spawn(peerPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()(l));
  const ask = (cmd) => new Promise((resolve) => { waiting.push(resolve); child.stdin.write(cmd + '\n'); });
  return { ask, close: () => child.stdin.end() };
}

let failures = 0;
const fail = (what) => { failures++; console.error('FAIL: ' + what); };

async function scenario(name, hushInitiator, plan) {
  const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 255));
  const peer = startPeer();
  if ((await peer.ask(`init ${hushInitiator ? 'i' : 'r'} ${hex(seed)}`)) !== 'ok') fail(name + ': init');
  const js = new Spqr(seed, !hushInitiator);
  const toJs = [], toHush = [];
  let delivered = 0;
  const hushSend = async () => { const [m, k] = (await peer.ask('send')).split(' '); return { m, k }; };
  const jsSend = () => { const { msg, key } = js.send(); return { m: hex(msg), k: hex(key) }; };
  const deliverToJs = (x) => {
    try {
      const k = js.recv(Buffer.from(x.m, 'hex'));
      if (k && hex(k) !== x.k) fail(`${name}: key mismatch hush->js at ${delivered}`);
    } catch (e) { fail(`${name}: js refused a hush message: ${e.message}`); }
    delivered++;
  };
  // The model keeps every chain epoch; hush keeps two, as libsignal does (chain.rs
  // EPOCHS_TO_KEEP), so a message held back until the receiver is two epochs on is refused by
  // hush (and libsignal) but not by the model. Counted, not a failure, when the epoch shows it.
  let stale = 0;
  const msgEpoch = (m) => { const b = Buffer.from(m, 'hex'); let v = 0, s = 0, p = 1; for (;;) { const c = b[p++]; v += (c & 0x7f) * 2 ** s; s += 7; if (!(c & 0x80)) return v; } };
  const deliverToHush = async (x) => {
    const k = await peer.ask('recv ' + x.m);
    if (k.startsWith('error invalid_message') && k.includes('no longer') &&
        msgEpoch(x.m) < Number(await peer.ask('epoch'))) stale++;
    else if (k !== x.k) fail(`${name}: hush->${k} for a js message at ${delivered} (${x.m.slice(0, 12)}, js epoch ${js.st.ep})`);
    delivered++;
  };
  await plan({ hushSend, jsSend, deliverToJs, deliverToHush, toJs, toHush });
  const hushEpoch = Number(await peer.ask('epoch'));
  const jsEpoch = js.st.ep;
  console.log(`${name}: ${delivered} messages delivered (${stale} from a dropped epoch), epochs hush ${hushEpoch} js ${jsEpoch}`);
  if (stale * 50 > delivered) fail(`${name}: too many messages from dropped epochs`);
  if (hushEpoch < 6 || jsEpoch < 6) fail(`${name}: epochs did not advance (${hushEpoch}, ${jsEpoch})`);
  peer.close();
}

for (const hushInitiator of [true, false]) {
  const role = hushInitiator ? 'hush initiator' : 'hush responder';
  await scenario(role + ', ping-pong', hushInitiator, async (p) => {
    for (let i = 0; i < 700; i++) {
      if (i % 2 === 0) p.deliverToJs(await p.hushSend()); else await p.deliverToHush(p.jsSend());
    }
  });
  await scenario(role + ', bursts', hushInitiator, async (p) => {
    for (let i = 0; i < 200; i++) {
      const a = Math.floor(rand() * 5), b = Math.floor(rand() * 5);
      for (let j = 0; j < a; j++) p.deliverToJs(await p.hushSend());
      for (let j = 0; j < b; j++) await p.deliverToHush(p.jsSend());
    }
  });
  await scenario(role + ', 20 % loss and reordering', hushInitiator, async (p) => {
    for (let i = 0; i < 2400; i++) {
      const r = rand();
      if (r < 0.25 || (r < 0.5 && p.toJs.length >= 4)) {
        if (p.toJs.length < 4) { const x = await p.hushSend(); if (rand() >= 0.2) p.toJs.push(x); }
        else p.deliverToJs(p.toJs.splice(Math.floor(rand() * Math.min(3, p.toJs.length)), 1)[0]);
      } else if (r < 0.5) {
        if (p.toJs.length) p.deliverToJs(p.toJs.splice(Math.floor(rand() * Math.min(3, p.toJs.length)), 1)[0]);
      } else if (r < 0.75 && p.toHush.length < 4) {
        const x = p.jsSend(); if (rand() >= 0.2) p.toHush.push(x);
      } else if (p.toHush.length) {
        await p.deliverToHush(p.toHush.splice(Math.floor(rand() * Math.min(3, p.toHush.length)), 1)[0]);
      }
    }
  });
}
console.log(failures === 0 ? 'spqr differential: all checks held' : `spqr differential: ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
