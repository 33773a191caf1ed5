#!/usr/bin/env python3
"""Both programs' Anchor IDL, generated from the code into idl/<program>.json.

Anchor's `idl-build` feature adds a test, `__anchor_private_print_idl`, whose output holds the IDL
in pieces (program, events with their types, errors, constants, address); the Anchor CLI runs it
and joins the pieces. This does the same without the CLI, in the workspace's own target directory
(same RUSTFLAGS, so nothing else is rebuilt).

    scripts/idl.py            write idl/*.json
    scripts/idl.py --check    fail when the committed IDL differs from the code's
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = ["compute-token", "compute-futures"]


def printed(program):
    """The stdout of the program's IDL print test."""
    env = dict(os.environ)
    env.update(
        ANCHOR_IDL_BUILD_PROGRAM_PATH=os.path.join(ROOT, "programs", program),
        ANCHOR_IDL_BUILD_RESOLUTION="TRUE",
        ANCHOR_IDL_BUILD_NO_DOCS="FALSE",
        ANCHOR_IDL_BUILD_SKIP_LINT="FALSE",
    )
    cmd = [
        "cargo", "test", "--locked", "-p", program, "--features", "idl-build", "--lib",
        "__anchor_private_print_idl", "--", "--show-output", "--quiet",
    ]
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        sys.exit(f"idl: {' '.join(cmd)} failed")
    return out.stdout


def assemble(text):
    """Joins the printed pieces into one IDL document."""
    idl, address, constants, events, errors, types = None, "", [], [], [], {}
    lines = iter(text.splitlines())
    for line in lines:
        if not (line.startswith("--- IDL begin ") and line.endswith(" ---")):
            continue
        kind = line[len("--- IDL begin "):-len(" ---")]
        if kind == "address":
            address = "".join(c for c in next(lines) if c.isalnum())
            continue
        body = []
        for inner in lines:
            if inner == f"--- IDL end {kind} ---":
                break
            body.append(inner)
        value = json.loads("\n".join(body))
        if kind == "program":
            idl = value
        elif kind == "const":
            constants.append(value)
        elif kind == "event":
            events.append(value["event"])
            for t in value["types"]:
                types[t["name"]] = t
        elif kind == "errors":
            errors = value
    if idl is None:
        sys.exit("idl: the print test printed no program")
    for t in idl.get("types", []):
        types[t["name"]] = t
    idl["address"] = address
    idl["constants"] = sorted(constants, key=lambda c: c["name"])
    idl["events"] = events
    idl["errors"] = errors
    idl["types"] = list(types.values())
    # Sorted by their short names there.
    short_names(idl)
    # Anchor's CLI keeps this key order.
    order = ["address", "metadata", "docs", "instructions", "accounts", "events", "errors",
             "types", "constants"]
    return {k: idl[k] for k in order if k in idl and idl[k] != []}


def short_names(idl):
    """Type names without their module paths (`compute_futures::state::Market` → `Market`), as
    the Anchor CLI writes them; two types with one name would be ambiguous, so that fails."""
    full = {t["name"] for t in idl["types"]}
    short = {}
    for name in full:
        last = name.split("::")[-1]
        if last in short.values():
            sys.exit(f"idl: two types named {last}")
        short[name] = last

    def walk(v):
        if isinstance(v, dict):
            if "defined" in v and isinstance(v["defined"], dict):
                d = v["defined"]
                d["name"] = short.get(d["name"], d["name"].split("::")[-1])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(idl)
    for key in ("accounts", "events"):
        for a in idl.get(key, []):
            a["name"] = a["name"].split("::")[-1]
        idl[key] = sorted(idl.get(key, []), key=lambda a: a["name"])
    for t in idl["types"]:
        t["name"] = short[t["name"]]
    idl["types"].sort(key=lambda t: t["name"])


def main():
    check = "--check" in sys.argv[1:]
    os.makedirs(os.path.join(ROOT, "idl"), exist_ok=True)
    stale = []
    for program in PROGRAMS:
        idl = assemble(printed(program))
        text = json.dumps(idl, indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(ROOT, "idl", program.replace("-", "_") + ".json")
        if check:
            old = open(path).read() if os.path.exists(path) else ""
            if old != text:
                stale.append(path)
        else:
            with open(path, "w") as f:
                f.write(text)
            print(f"idl: wrote {os.path.relpath(path, ROOT)} "
                  f"({len(idl['instructions'])} instructions)")
    if stale:
        sys.exit("idl: the committed IDL differs from the code's (run scripts/idl.py): "
                 + ", ".join(os.path.relpath(p, ROOT) for p in stale))
    if check:
        print("idl: the committed IDL matches the code")


if __name__ == "__main__":
    main()
