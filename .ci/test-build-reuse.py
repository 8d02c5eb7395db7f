#!/usr/bin/env python3
"""Checks that `cargo test` after `cargo build` compiles only this package's own crates.

A dev-dependency that switches on a feature of a crate the server already uses, or a crate
only the tests need, makes cargo build a second variant of that crate (and of everything
that depends on it) on the first `cargo test` after `cargo run`. Comparing "Compiling" lines
would see nothing in a warm target directory that already holds both variants, so this
compares the units themselves: every dependency artefact of `cargo test --no-run` must be one
that `cargo build` produced (same crate, same features, same file hashes). Prints what differs
and exits 1 if anything does.

Usage: python3 .ci/test-build-reuse.py   (from anywhere; honours CARGO_TARGET_DIR, and CARGO
names the cargo to run)
"""

import json
import os
import subprocess
import sys

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def units(args):
    """Runs cargo with JSON messages; returns {package id: {(features, filenames)}} of the
    dependency artefacts (not this repository's own crates) and the ids cargo compiled."""
    cmd = [os.environ.get("CARGO", "cargo"), *args, "--message-format=json-render-diagnostics"]
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {proc.returncode}")
    found, compiled = {}, set()
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact":
            continue
        manifest = os.path.realpath(msg.get("manifest_path", ""))
        if manifest.startswith(ROOT + os.sep):
            continue
        key = (tuple(sorted(msg["features"])), tuple(sorted(msg["filenames"])))
        found.setdefault(msg["package_id"], set()).add(key)
        if not msg.get("fresh", False):
            compiled.add(msg["package_id"])
    return found, compiled


def name(package_id):
    return package_id.rsplit("#", 1)[-1]


def main():
    built, _ = units(["build"])
    tested, compiled = units(["test", "--no-run"])
    problems = []
    for package_id, variants in sorted(tested.items()):
        if package_id not in built:
            problems.append(f"{name(package_id)}: only the tests use it (a dev-dependency or one of its dependencies)")
            continue
        for features, _files in sorted(variants - built[package_id]):
            have = sorted({f for fs, _ in built[package_id] for f in fs})
            extra = sorted(set(features) - set(have))
            why = f"extra features {extra}" if extra else "a dependency of it was built differently"
            problems.append(f"{name(package_id)}: a second build for the tests ({why})")
    if compiled:
        print(f"cargo test --no-run compiled {len(compiled)} dependency crate(s): "
              + ", ".join(sorted(name(p) for p in compiled)))
    if problems:
        print("FAIL: `cargo test` does not reuse what `cargo build` compiled:")
        for p in problems:
            print("  " + p)
        print("Fix in Cargo.toml: give the shared crate those features under [dependencies], "
              "or drop the dev-dependency that asks for them.")
        return 1
    print(f"ok: cargo test reuses all {sum(len(v) for v in tested.values())} dependency artefacts of cargo build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
