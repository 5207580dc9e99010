#!/usr/bin/env python3
# hush: writes call_session_fuzzer's seeds (fuzz/README.md, Seeds) into the directory given,
# named by their SHA-1: `python3 fuzz/call_session_seeds.py fuzz/corpus/call_session`.
#
# The target reads one u8 at a time with FuzzedDataProvider::ConsumeIntegral, which takes bytes
# from the end of the input: a seed is its values in consumption order, reversed. The layout (the
# action numbers and their arguments) is at the top of fuzz/call_session_fuzzer.cpp; the helpers
# below follow it. A call argument is taken modulo 3 + the number of calls we started so far: 0-2
# are the fixed ids, 3 the first call we started (once we started one).
import hashlib
import os
import sys
out = sys.argv[1]
ANN, BOB1, BOB2, CAT, US2 = 0, 1, 2, 3, 4          # sender (mod 5) -> table 1..5
T_US, T_ANN, T_BOB1, T_BOB2, T_CAT, T_US2 = range(6)  # device table
OFFER, ANSWER, SIGNAL, HANGUP, BUSY, RINGING, LIST, KEY, ELSEWHERE = range(9)
def start(mask, payload=2): return [0, mask, payload]
def answer(call): return [1, call]
def hangup(call): return [2, call]
def remove(call, person): return [3, call, person]
def signal(call): return [4, call]
def peer(sender, typ, call, version=0, others=(), epoch=0, variant=0, age=0, payload=2, now=1,
         host_is_sender=1, host=0):
    v = [5, sender, typ, call, version, host_is_sender, host, len(others)]
    for dev, step in others: v += [dev, step]
    return v + [epoch, variant, age, payload, now]
def oldest(): return [6]
def newest(): return [7]
def deliver(i): return [8, i]
def drop(i): return [9, i]
def again(i): return [10, i]
def clock(s): return [11, s]
def identity(p): return [12, p]
def relay(): return [13]
seeds = {
 "incoming-answered-left": peer(ANN, OFFER, 0, 1) + answer(0) + peer(ANN, LIST, 0, 2, [(T_US, 0)])
   + peer(ANN, KEY, 0, 2, epoch=0) + signal(0) + peer(ANN, KEY, 0, 2, epoch=1)
   + peer(ANN, HANGUP, 0),
 "hosted-removed": start(0b110) + peer(BOB2, ANSWER, 3) + peer(CAT, ANSWER, 3)
   + peer(BOB2, KEY, 3, epoch=0) + peer(CAT, KEY, 3, epoch=0) + remove(3, 1)
   + peer(BOB2, KEY, 3, epoch=1) + peer(BOB1, ANSWER, 3) + peer(CAT, HANGUP, 3),
 "group-list-drops-one": peer(ANN, OFFER, 1, 1, [(T_CAT, 0)]) + answer(1)
   + peer(ANN, LIST, 1, 2, [(T_US, 0), (T_CAT, 0), (T_BOB1, 0)]) + peer(CAT, KEY, 1, epoch=0)
   + peer(BOB1, KEY, 1, epoch=0) + peer(ANN, LIST, 1, 3, [(T_US, 0), (T_BOB1, 1)])
   + peer(CAT, KEY, 1, epoch=1) + peer(ANN, LIST, 1, 2, [(T_US, 0), (T_CAT, 0)], now=0)
   + oldest() + peer(BOB1, HANGUP, 1),
 "untrusted-caller": peer(BOB1, OFFER, 2, 1) + identity(1) + answer(2) + identity(1) + answer(2)
   + peer(BOB2, ANSWER, 2),
 "held-back-offers": peer(ANN, OFFER, 0, 1, now=0) + peer(CAT, OFFER, 1, 1, now=0)
   + peer(ANN, HANGUP, 0, now=0) + clock(2) + clock(3) + newest() + oldest() + oldest()
   + again(0) + peer(BOB1, OFFER, 2, 1, age=2) + peer(US2, ELSEWHERE, 1),
 "relay-down": relay() + start(0b1) + relay() + start(0b1) + peer(ANN, RINGING, 3)
   + peer(ANN, BUSY, 3) + relay() + hangup(3) + relay() + start(0b11000),
 "busy-and-full": peer(ANN, OFFER, 0, 1) + peer(BOB1, OFFER, 1, 1) + peer(CAT, OFFER, 2, 1)
   + answer(1) + start(0b100) + peer(BOB1, LIST, 1, 2, [(T_US, 0)]) + peer(US2, HANGUP, 0)
   + peer(ANN, OFFER, 0, 1) + clock(1) + peer(BOB1, KEY, 1, 2, epoch=3),
}
os.makedirs(out, exist_ok=True)
for name, values in seeds.items():
    data = bytes(reversed(bytes(values)))
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f: f.write(data)
    print(name, hashlib.sha1(data).hexdigest(), len(data))
