#!/usr/bin/env python3
"""Regenerates the ML-KEM vector files in this directory from their published sources.

Not run by the build (nothing is downloaded at build time); run by hand after fetching the sources
(README.md names the repositories and commits):

  convert.py ACVP_DIR WYCHEPROOF_DIR CCTV_DIR

ACVP_DIR holds acvp_v1.1.0.40_{keyGen,encapDecap}_{prompt,expectedResults}.json, WYCHEPROOF_DIR
holds mlkem_{768,1024}_{test,encaps_test,keygen_seed_test,semi_expanded_decaps_test}.json and
CCTV_DIR holds ML-KEM/{strcmp,unluckysample}/ML-KEM-{768,1024}.txt and
ML-KEM/modulus/ML-KEM-{768,1024}.txt.gz.

Output format (read by tests/unit/mlkem_vectors_test.cpp): '#' comment lines, then records
separated by blank lines, each a list of `key = value` lines (hex byte strings, decimal numbers or
words). To keep the files small, large outputs that a test only compares are stored as their
SHA3-256 (keys ending in `_sha3`), and long runs of similar vectors are thinned (see each file's
header for what was kept).
"""
import gzip
import hashlib
import json
import os
import sys

SETS = ["ML-KEM-768", "ML-KEM-1024"]
HERE = os.path.dirname(os.path.abspath(__file__))


def sha3(hexstr):
    return hashlib.sha3_256(bytes.fromhex(hexstr)).hexdigest()


def write(name, header, records):
    with open(os.path.join(HERE, name), "w") as f:
        for line in header.strip().splitlines():
            f.write("# " + line + "\n" if line else "#\n")
        for r in records:
            f.write("\n")
            for k, v in r.items():
                f.write(f"{k} = {v}\n")
    print(name, len(records), "records")


def acvp(src):
    def load(n):
        # ACVP writes hex in upper case; the other sources (and hush) in lower case.
        def lower(x):
            if isinstance(x, dict):
                return {k: lower(v) for k, v in x.items()}
            if isinstance(x, list):
                return [lower(v) for v in x]
            return x.lower() if isinstance(x, str) and all(c in "0123456789ABCDEF" for c in x) else x
        return lower(json.load(open(os.path.join(src, f"acvp_v1.1.0.40_{n}.json"))))
    p, r = load("keyGen_prompt"), load("keyGen_expectedResults")
    res = {t["tcId"]: t for g in r["testGroups"] for t in g["tests"]}
    recs = []
    for g in p["testGroups"]:
        if g["parameterSet"] not in SETS:
            continue
        for t in g["tests"]:
            e = res[t["tcId"]]
            recs.append({"set": g["parameterSet"], "tcId": t["tcId"], "d": t["d"], "z": t["z"],
                         "ek_sha3": sha3(e["ek"]), "dk_sha3": sha3(e["dk"])})
    write("acvp_keygen.txt", """
NIST ACVP ML-KEM keyGen (FIPS203), ACVP-Server v1.1.0.40: every ML-KEM-768 and ML-KEM-1024 test
case (prompt d, z; expected ek and dk stored as SHA3-256 of each).
""", recs)
    p, r = load("encapDecap_prompt"), load("encapDecap_expectedResults")
    res = {t["tcId"]: t for g in r["testGroups"] for t in g["tests"]}
    recs = []
    for g in p["testGroups"]:
        if g["parameterSet"] not in SETS:
            continue
        for t in g["tests"]:
            e = res[t["tcId"]]
            rec = {"set": g["parameterSet"], "function": g["function"], "tcId": t["tcId"]}
            if g["function"] == "encapsulation":
                rec.update(ek=t["ek"], m=t["m"], c_sha3=sha3(e["c"]), k=e["k"])
            elif g["function"] == "decapsulation":
                rec.update(dk=t["dk"], c=t["c"], k=e["k"])
            elif g["function"] == "encapsulationKeyCheck":
                rec.update(ek=t["ek"], passed="true" if e["testPassed"] else "false")
            elif g["function"] == "decapsulationKeyCheck":
                rec.update(dk=t["dk"], passed="true" if e["testPassed"] else "false")
            recs.append(rec)
    write("acvp_encapdecap.txt", """
NIST ACVP ML-KEM encapDecap (FIPS203), ACVP-Server v1.1.0.40: every ML-KEM-768 and ML-KEM-1024
test case of the groups encapsulation (expected c stored as its SHA3-256), decapsulation,
encapsulationKeyCheck and decapsulationKeyCheck.
""", recs)


def thin(tests, comment, keep):
    """Keeps the first `keep` tests whose comment starts with `comment`, and every other test."""
    out, n = [], 0
    for t in tests:
        if t.get("comment", "").startswith(comment):
            n += 1
            if n > keep:
                continue
        out.append(t)
    return out


def wycheproof(src):
    load = lambda n: json.load(open(os.path.join(src, n)))
    common = lambda t, ps: {"set": ps, "tcId": t["tcId"], "result": t["result"],
                            "comment": (t.get("comment") or "-").replace("\n", " ")}
    recs = []
    for ps in SETS:
        n = ps.split("-")[-1]
        for g in load(f"mlkem_{n}_test.json")["testGroups"]:
            for t in thin(g["tests"], "Test vector based on official round 3 seeds", 10):
                r = common(t, ps)
                r.update(seed=t["seed"], c=t["c"], K=t["K"] or "-")
                r["ek_sha3"] = sha3(t["ek"]) if t.get("ek") else "-"
                recs.append(r)
    write("wycheproof_decaps.txt", """
Wycheproof (C2SP/wycheproof) testvectors_v1/mlkem_{768,1024}_test.json: key generation from the
64-byte seed d || z, then decapsulation. Kept: the first 10 of the 100 "based on official round 3
seeds" tests of each set, and every other test (strcmp, wrong sizes, random and bit-flipped
ciphertexts, unusual rho). ek stored as its SHA3-256 (`-` when the file has none).
""", recs)
    recs = []
    for ps in SETS:
        n = ps.split("-")[-1]
        for g in load(f"mlkem_{n}_encaps_test.json")["testGroups"]:
            tests = thin(g["tests"], "Test vector based on official round 3 seeds", 10)
            tests = thin(tests, "Public key not reduced", 20)
            for t in tests:
                r = common(t, ps)
                r.update(ek=t["ek"], m=t["m"], c_sha3=sha3(t["c"]) if t["c"] else "-",
                         K=t.get("K") or "-")
                recs.append(r)
    write("wycheproof_encaps.txt", """
Wycheproof (C2SP/wycheproof) testvectors_v1/mlkem_{768,1024}_encaps_test.json: encapsulation with
a given m. Kept: the first 10 of the 100 "based on official round 3 seeds" tests and the first 20
of the 100 "Public key not reduced" tests of each set, and every other test (CCTV modulus, wrong
sizes, zero secret or error, unusual rho). c stored as its SHA3-256.
""", recs)
    recs = []
    for ps in SETS:
        n = ps.split("-")[-1]
        for g in load(f"mlkem_{n}_keygen_seed_test.json")["testGroups"]:
            for t in g["tests"][:10]:
                r = common(t, ps)
                r.update(seed=t["seed"], ek_sha3=sha3(t["ek"]), dk_sha3=sha3(t["dk"]))
                recs.append(r)
    write("wycheproof_keygen.txt", """
Wycheproof (C2SP/wycheproof) testvectors_v1/mlkem_{768,1024}_keygen_seed_test.json: the first 10
of the 100 tests of each set (key generation from d || z; ek and dk stored as SHA3-256).
""", recs)
    recs = []
    for ps in SETS:
        n = ps.split("-")[-1]
        for g in load(f"mlkem_{n}_semi_expanded_decaps_test.json")["testGroups"]:
            for t in g["tests"]:
                r = common(t, ps)
                r.update(flags=",".join(t.get("flags", [])) or "-", dk=t["dk"], c=t["c"],
                         K=t.get("K") or "-")
                recs.append(r)
    write("wycheproof_semi_expanded_decaps.txt", """
Wycheproof (C2SP/wycheproof) testvectors_v1/mlkem_{768,1024}_semi_expanded_decaps_test.json:
every test (decapsulation with an expanded dk: sizes, the hash check, malleable ciphertexts).
""", recs)


def cctv(src):
    def records(path):
        recs, cur = [], {}
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            k, v = [x.strip() for x in line.split("=", 1)]
            if k in cur:
                recs.append(cur)
                cur = {}
            cur[k] = v
        recs.append(cur)
        return recs
    out = []
    for ps in SETS:
        for kind in ["strcmp", "unluckysample"]:
            for r in records(os.path.join(src, "ML-KEM", kind, f"{ps}.txt")):
                out.append({"set": ps, "kind": kind, **r})
    write("cctv_strcmp_unlucky.txt", """
C2SP CCTV ML-KEM/strcmp and ML-KEM/unluckysample, ML-KEM-{768,1024}.txt, complete (FIPS 203 ipd
with the final A-hat index order: key generation hashes G(d) without the parameter byte k).
""", out)
    out = []
    for ps in SETS:
        with gzip.open(os.path.join(src, "ML-KEM", "modulus", f"{ps}.txt.gz"), "rt") as f:
            lines = [l.strip() for l in f if l.strip()]
        for i in range(0, len(lines), 32):
            out.append({"set": ps, "line": i + 1, "ek": lines[i]})
    write("cctv_modulus.txt", """
C2SP CCTV ML-KEM/modulus/ML-KEM-{768,1024}.txt.gz: encapsulation keys that fail the modulus check
(one coefficient in [q, 4096)). Kept: every 32nd line (lines 1, 33, 65, ...).
""", out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    acvp(sys.argv[1])
    wycheproof(sys.argv[2])
    cctv(sys.argv[3])
