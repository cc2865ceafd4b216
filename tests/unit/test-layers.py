#!/usr/bin/env python3
"""test-layers: the layering DESIGN §2 describes, checked on the sources.

  gui -> agent -> {pkcs11, protocol} -> common; programs apart from libraries.

Fails (one TAP line per rule, with the offending file and line) when
  * a folder includes a header of a folder it may not use (the table
    ALLOWED below), e.g. gui/ including a pkcs11/ or protocol/ header;
  * gui/ reaches pkcs11/ or protocol/ through another header (kpr-agent.h
    re-exporting kpr-token.h was how it happened before);
  * a library's source (agent/ core, common/, pkcs11/, protocol/) defines
    main() or prints (printf, g_print, fprintf to stdout/stderr, ...);
  * headers include each other in a circle, or folders depend on each
    other in a circle, or the agent's modules do (a module: a header and
    the sources named after it, kpr-tray.h + kpr-tray-private.h +
    kpr-tray.c + kpr-tray-menu.c; the tray and the desktop agent used to
    call each other that way).

  test-layers.py SOURCE_ROOT
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KPR_SOURCE_DIR", ".")

# Which folders each folder may include headers from (besides its own).
ALLOWED = {
    "common": set(),
    "common/tty": {"common"},
    "pkcs11": {"common"},
    "protocol": {"common"},
    "server": {"common", "common/tty", "protocol", "pkcs11"},
    "agent": {"common", "pkcs11", "protocol"},
    # the command's token subcommands (init-software) work on the token layer
    "agent/cli": {"agent", "common", "common/tty", "pkcs11"},
    "agent/resident": {"agent", "common"},
    "agent/nss": {"agent", "common"},
    "gui": {"agent", "common"},
}
# Libraries: no main(), no printing.
LIBRARIES = {"common", "pkcs11", "protocol", "agent"}
# What gui/ may reach, even through other headers.
GUI_REACH = {"gui", "agent", "common"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAIN = re.compile(r"^\s*int\s*\n?\s*main\s*\(", re.M)
PRINT = re.compile(
    r"\b(?:printf|vprintf|g_print|g_printerr|puts|putchar|perror)\s*\("
    r"|\bf(?:v)?printf\s*\(\s*(?:stdout|stderr)"
    r"|\b(?:fputs|fputc|fwrite)\s*\([^;]*\b(?:stdout|stderr)\s*\)"
)


def strip(text):
    """The C text without comments and string literals (line count kept)."""
    out = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    out = re.sub(r"//[^\n]*", "", out)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', out)


def folder_of(rel):
    d = os.path.dirname(rel)
    return d if d in ALLOWED else None


files = {}  # rel path -> text
for layer in ALLOWED:
    base = os.path.join(ROOT, layer)
    if not os.path.isdir(base):
        continue
    for name in sorted(os.listdir(base)):
        if name.endswith((".c", ".h")):
            rel = os.path.join(layer, name)
            with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
                files[rel] = f.read()

headers = {}  # basename -> rel path
for rel in files:
    if rel.endswith(".h"):
        headers.setdefault(os.path.basename(rel), rel)


def includes(rel):
    """(line, rel path of the included header) for our own headers."""
    text = files[rel]
    for m in INCLUDE.finditer(text):
        target = headers.get(os.path.basename(m.group(1)))
        if target:
            yield text.count("\n", 0, m.start()) + 1, target


results = []


def check(name, problems):
    results.append((name, problems))


# 1. direct includes across folders
problems = []
for rel in files:
    layer = folder_of(rel)
    for line, target in includes(rel):
        other = folder_of(target)
        if other != layer and other not in ALLOWED[layer]:
            problems.append(f"{rel}:{line}: {layer}/ may not include {target}")
check("each folder includes only the layers below it", problems)

# 2. gui/ reaches only agent/ and common/, through any header
problems = []
for rel in files:
    if folder_of(rel) != "gui":
        continue
    seen, stack = set(), [(rel, [rel])]
    while stack:
        cur, path = stack.pop()
        for _, target in includes(cur):
            if target in seen:
                continue
            seen.add(target)
            if folder_of(target) not in GUI_REACH:
                problems.append(f"{rel} reaches {target} via {' -> '.join(path + [target])}")
            else:
                stack.append((target, path + [target]))
check("gui/ reaches no pkcs11/ or protocol/ header, not even through agent/", problems)

# 3. libraries have no main() and print nothing
problems = []
for rel, text in files.items():
    if folder_of(rel) not in LIBRARIES or not rel.endswith(".c"):
        continue
    code = strip(text)
    for m in MAIN.finditer(code):
        problems.append(f"{rel}:{code.count(chr(10), 0, m.start()) + 1}: main() in a library")
    for m in PRINT.finditer(code):
        line = code.count("\n", 0, m.start()) + 1
        problems.append(f"{rel}:{line}: a library prints: {m.group(0).strip()}")
check("libraries (agent/ core, common/, pkcs11/, protocol/) have no main() and never print",
      problems)

# 4. no include circle between headers
problems = []
state = {}


def visit(h, path):
    state[h] = 1
    for _, t in includes(h):
        if state.get(t) == 1:
            problems.append(" -> ".join(path[path.index(t):] + [t]))
        elif t not in state:
            visit(t, path + [t])
    state[h] = 2


for h in sorted(headers.values()):
    if h not in state:
        visit(h, [h])
check("no include circle between headers", problems)

# 5. no circle between folders
problems = []
edges = {}
for rel in files:
    a = folder_of(rel)
    for _, target in includes(rel):
        b = folder_of(target)
        if a != b:
            edges.setdefault(a, set()).add(b)
fstate = {}


def fvisit(a, path):
    fstate[a] = 1
    for b in sorted(edges.get(a, ())):
        if fstate.get(b) == 1:
            problems.append(" -> ".join(path[path.index(b):] + [b]))
        elif b not in fstate:
            fvisit(b, path + [b])
    fstate[a] = 2


for a in sorted(edges):
    if a not in fstate:
        fvisit(a, [a])
check("no circle between folders", problems)

# 6. no circle between modules (a header and the files named after it)
problems = []
stems = {}
for h in headers.values():
    stems.setdefault(os.path.dirname(h), []).append(os.path.basename(h)[:-2])


# The agent's folders (the core and its programs), where the modules are
# meant to call one way; a GTK window and its application know each other
# by design, and a folder's face header includes its modules.
MODULE_FOLDERS = {"agent", "agent/cli", "agent/resident", "agent/nss"}


def module_of(rel):
    folder, base = os.path.dirname(rel), os.path.basename(rel).rsplit(".", 1)[0]
    if folder not in MODULE_FOLDERS:
        return None
    base = base[: -len("-private")] if base.endswith("-private") else base
    owners = [st for st in stems.get(folder, [])
              if not st.endswith("-private") and (base == st or base.startswith(st + "-"))]
    return folder + "/" + max(owners, key=len) if owners else None


medges = {}
for rel in files:
    a = module_of(rel)
    for _, target in includes(rel):
        b = module_of(target)
        if a and b and a != b:
            medges.setdefault(a, set()).add(b)
mstate = {}


def mvisit(a, path):
    mstate[a] = 1
    for b in sorted(medges.get(a, ())):
        if mstate.get(b) == 1:
            problems.append(" -> ".join(path[path.index(b):] + [b]))
        elif b not in mstate:
            mvisit(b, path + [b])
    mstate[a] = 2


for a in sorted(medges):
    if a not in mstate:
        mvisit(a, [a])
check("no circle between modules", problems)

# The checks must have seen the tree (a wrong SOURCE_ROOT is a failure).
check("the sources were found", [] if len(files) > 50 and "agent/kpr-agent.h" in files
      else [f"only {len(files)} files under {ROOT}"])

print(f"1..{len(results)}")
failed = 0
for i, (name, problems) in enumerate(results, 1):
    if problems:
        failed += 1
        print(f"not ok {i} - {name}")
        for p in problems:
            print(f"# {p}")
    else:
        print(f"ok {i} - {name}")
sys.exit(1 if failed else 0)
