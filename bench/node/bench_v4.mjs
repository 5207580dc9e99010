// libsignal 0.103 (@signalapp/libsignal-client, its Node package) on the workloads of
// bench/peer_bench.cpp that issue 12 compares version 4 on: W1 session setup (PQXDH), W2 one-way
// burst, W3 ping-pong, and the size of a session record after 100 messages (W5's pattern). Run by
// hand, not in CI; the figures and the comparison with hush are in bench/README.md, "Version 4
// (issue 12)".
//
// usage: node bench/node/bench_v4.mjs [--min-time=0.5] [--repetitions=5]
//   (npm ci in tests/node first, or HUSH_NODE_MODULES=<dir with @signalapp/libsignal-client>)
//
// The Node boundary is included in every figure: each call crosses from JavaScript into the
// Rust library (napi), returns a Promise, and calls back into JavaScript for every store access;
// the stores (tests/node/lib/libsignal.mjs, the interop tests' own) keep serialized records, so
// each message deserializes and re-serializes the session record, as an application's store
// would. That is how libsignal is used from Node, not libsignal's Rust speed.
//
// What is timed, per iteration (CPU time of the process, user + system, and wall time; the
// median and the least over repetitions are printed):
//   W1  a fresh responder's bundle (signed prekey, one-time EC prekey, one-time Kyber1024 prekey,
//       generated untimed, 50 at a time) -> initiator processPreKeyBundle + signalEncrypt of 256
//       bytes -> responder signalDecryptPreKey.
//   W2  after a round trip and one untimed message, one message A->B of 16 B .. 64 KiB:
//       signalEncrypt + signalDecrypt (no ratchet step).
//   W3  256-byte messages alternately A->B and B->A (a DH ratchet step, and SPQR, each).
//   W5  100 messages of 64 bytes, 10 rounds of 5 A->B then 5 B->A, each burst decrypted in order;
//       then SessionRecord.serialize().length of A's (initiator's) and B's (responder's) record,
//       and one serialize + deserialize timed like the others.
import { readFileSync } from 'node:fs';

import { S, Party } from '../../tests/node/lib/libsignal.mjs';

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const kMinTime = arg('min-time', 0.5);  // seconds of CPU time per repetition
const kRepetitions = arg('repetitions', 5);
const kBatch = 50;  // W1's stock of responder keys, refilled untimed

const payload = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;  // seconds
};
const wallNow = () => Number(process.hrtime.bigint()) / 1e9;

// A bundle of `p`'s with one-time EC prekey `id` and one-time Kyber prekey `id` (stored in p).
function bundle(p, id) {
  const pk = S.PrivateKey.generate();
  p.preKeys.m.set(id, S.PreKeyRecord.new(id, pk.getPublicKey(), pk).serialize());
  if (!p.spk) {
    const spk = S.PrivateKey.generate();
    const sig = p.identity.privateKey.sign(spk.getPublicKey().serialize());
    p.signedPreKeys.m.set(1, S.SignedPreKeyRecord.new(1, Date.now(), spk.getPublicKey(), spk, sig)
      .serialize());
    p.spk = { pub: spk.getPublicKey(), sig };
  }
  const kem = S.KEMKeyPair.generate();
  const kemSig = p.identity.privateKey.sign(kem.getPublicKey().serialize());
  p.kyberPreKeys.m.set(id, S.KyberPreKeyRecord.new(id, Date.now(), kem, kemSig).serialize());
  return S.PreKeyBundle.new(p.registrationId, 1, id, pk.getPublicKey(), 1, p.spk.pub, p.spk.sig,
    p.identity.publicKey, id, kem.getPublicKey(), kemSig);
}

async function send(from, to, bytes) {
  const m = await S.signalEncrypt(bytes, to.address, from.address, from.sessions, from.identities);
  return { prekey: m.type() === S.CiphertextMessageType.PreKey, body: m.serialize() };
}
async function receive(at, from, w) {
  if (w.prekey) {
    return S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(w.body), from.address,
      at.address, at.sessions, at.identities, at.preKeys, at.signedPreKeys, at.kyberPreKeys);
  }
  return S.signalDecrypt(S.SignalMessage.deserialize(w.body), from.address, at.address,
    at.sessions, at.identities);
}
async function message(from, to, bytes) {
  const p = await receive(to, from, await send(from, to, bytes));
  if (p.length !== bytes.length) throw new Error('decrypted the wrong length');
}

// An established pair: A processed B's bundle, sent a first message, B answered.
async function pair() {
  const a = new Party('alice');
  const b = new Party('bob');
  await S.processPreKeyBundle(bundle(b, 1), b.address, a.address, a.sessions, a.identities);
  await message(a, b, payload(5));
  await message(b, a, payload(2));
  return { a, b };
}

// Runs `iteration` (async; `untimed(fn)` inside it runs fn outside the clock) until kMinTime
// seconds of CPU time are spent, kRepetitions times; returns per-iteration CPU and wall seconds
// of each repetition.
async function measure(iteration) {
  const reps = [];
  for (let r = 0; r < kRepetitions; r++) {
    let cpu = 0;
    let wall = 0;
    let n = 0;
    let c0 = cpuNow();
    let w0 = wallNow();
    const untimed = async (fn) => {
      cpu += cpuNow() - c0;
      wall += wallNow() - w0;
      await fn();
      c0 = cpuNow();
      w0 = wallNow();
    };
    while (cpu + (cpuNow() - c0) < kMinTime || n < 10) {
      await iteration(untimed);
      n++;
    }
    cpu += cpuNow() - c0;
    wall += wallNow() - w0;
    reps.push({ cpu: cpu / n, wall: wall / n, n });
  }
  return reps;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const us = (s) => `${(s * 1e6).toFixed(2)} us`;
function report(name, reps) {
  const cpu = reps.map((r) => r.cpu);
  const wall = reps.map((r) => r.wall);
  console.log(`${name.padEnd(28)} CPU median ${us(median(cpu)).padStart(12)}  least ` +
    `${us(Math.min(...cpu)).padStart(12)}  | wall median ${us(median(wall)).padStart(12)}  ` +
    `(${reps.length} x ${reps[0].n}+ iterations)`);
}

async function w1() {
  const text = payload(256);
  let a;
  let b;
  let next = kBatch;
  let bundles = [];
  let k = 0;
  const reps = await measure(async (untimed) => {
    if (next === kBatch) {
      await untimed(async () => {
        a = new Party('alice');
        b = new Party('bob');
        bundles = [];
        for (let i = 0; i < kBatch; i++) bundles.push(bundle(b, i + 1));
        next = 0;
      });
    }
    const i = next++;
    // A new name per setup, as peer_bench's W1 (each setup is a new session on both sides).
    const bobAs = S.ProtocolAddress.new(`bob${k}`, 1);
    const aliceAs = S.ProtocolAddress.new(`alice${k}`, 1);
    k++;
    await S.processPreKeyBundle(bundles[i], bobAs, a.address, a.sessions, a.identities);
    const m = await S.signalEncrypt(text, bobAs, a.address, a.sessions, a.identities);
    const p = await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(m.serialize()),
      aliceAs, b.address, b.sessions, b.identities, b.preKeys, b.signedPreKeys, b.kyberPreKeys);
    if (p.length !== text.length) throw new Error('W1 decrypt');
  });
  report('W1_setup/libsignal-0.103', reps);
}

async function w2(bytes) {
  const { a, b } = await pair();
  const text = payload(bytes);
  await message(a, b, text);  // B's first message from A's new chain: a ratchet step, untimed
  const reps = await measure(() => message(a, b, text));
  report(`W2_burst/libsignal-0.103/${bytes}`, reps);
}

async function w3() {
  const { a, b } = await pair();
  const text = payload(256);
  let aSends = true;
  const reps = await measure(async () => {
    await (aSends ? message(a, b, text) : message(b, a, text));
    aSends = !aSends;
  });
  report('W3_pingpong/libsignal-0.103', reps);
}

async function w5() {
  const { a, b } = await pair();
  const text = payload(64);
  for (let round = 0; round < 10; round++) {
    for (const [from, to] of [[a, b], [b, a]]) {
      for (let i = 0; i < 5; i++) await message(from, to, text);
    }
  }
  const recA = await a.sessions.getSession(b.address);
  const recB = await b.sessions.getSession(a.address);
  const reps = await measure(async () => {
    S.SessionRecord.deserialize(recA.serialize());
  });
  report('W5_record/libsignal-0.103', reps);
  console.log(`W5 record after 100 messages: initiator ${recA.serialize().length} bytes, ` +
    `responder ${recB.serialize().length} bytes (SessionRecord.serialize().length)`);
}

const modules = process.env.HUSH_NODE_MODULES ||
  new URL('../../tests/node/node_modules', import.meta.url).pathname;
const version = JSON.parse(readFileSync(
  `${modules}/@signalapp/libsignal-client/package.json`, 'utf8')).version;
console.log(`libsignal ${version} through Node ${process.version}; ` +
  `${kRepetitions} repetitions of at least ${kMinTime} s CPU each`);
await w1();
for (const n of [16, 256, 4096, 65536]) await w2(n);
await w3();
await w5();
