#!/usr/bin/env python3
"""test-man.py — the man pages (docs/man/*.scd) and the programs' --help
agree: the same commands, and for each command (a "## COMMAND" section) the
same options; for a program without commands, the options of its OPTIONS
section.  A command or option added to a program and not to its page, or
left on the page after it went, fails here.

Usage: test-man.py MAN-SOURCE-DIR PROGRAM...   (TAP on stdout)
"""
import os
import re
import subprocess
import sys

HELP_OPTIONS = {"--help", "--help-all", "--help-gapplication"}

checks = 0
failed = 0


def check(ok, what):
    global checks, failed
    checks += 1
    if not ok:
        failed += 1
    print(("ok" if ok else "not ok") + f" {checks} - {what}")


def run_help(program, words):
    out = subprocess.run([program, *words, "--help"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True,
                         env=dict(os.environ, LC_ALL="C.UTF-8"))
    return out.returncode, out.stdout + out.stderr


def help_options(text):
    # The option table: "  --name=ARG   description" (or "  -h, --name").
    found = re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", text, re.M)
    return set(found) - HELP_OPTIONS


def help_commands(text):
    # "  name   summary" lines: the command table of the top-level --help.
    return {m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*) +\S", text, re.M)}


def page_sections(path):
    """{heading: body} for every "#" and "##" heading of an scdoc page."""
    sections, heading, body = {}, None, []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^(#{1,2}) (.*)$", line.rstrip("\n"))
        if m:
            if heading is not None:
                sections[heading] = "".join(body)
            heading, body = m.group(2), []
        else:
            body.append(line)
    if heading is not None:
        sections[heading] = "".join(body)
    return sections


def page_options(body):
    # An option's entry starts a line, in bold: *--name* _ARG_.
    return set(re.findall(r"^(?:\*-\w\*, )?\*(--[a-z][a-z0-9-]*)\*", body, re.M)) - HELP_OPTIONS


def command_words(heading):
    return re.match(r"^((?:[a-z][a-z-]* ?)+)", heading).group(1).split()


def main():
    man_dir, programs = sys.argv[1], sys.argv[2:]
    for program in programs:
        name = os.path.basename(program)
        pages = [f for f in os.listdir(man_dir) if re.fullmatch(re.escape(name) + r"\.\d\.scd", f)]
        check(len(pages) == 1, f"{name}: one man page in docs/man")
        if len(pages) != 1:
            continue
        sections = page_sections(os.path.join(man_dir, pages[0]))
        rc, top = run_help(program, [])
        check(rc == 0, f"{name} --help exits 0")
        commands = [h for h in sections if h[0].islower()]
        if not commands:
            # A program without commands: its options.
            want, have = help_options(top), page_options(sections.get("OPTIONS", ""))
            check(want == have, f"{name}: OPTIONS lists what --help lists "
                  f"(only in --help: {sorted(want - have)}, only on the page: {sorted(have - want)})")
            continue
        listed = help_commands(top)
        on_page = {command_words(h)[0] for h in commands}
        check(listed == on_page, f"{name}: the page has a section for each command of --help "
              f"(only in --help: {sorted(listed - on_page)}, only on the page: {sorted(on_page - listed)})")
        for heading in commands:
            words = command_words(heading)
            rc, text = run_help(program, words)
            label = f"{name} {' '.join(words)}"
            check(rc == 0, f"{label} --help exits 0")
            want, have = help_options(text), page_options(sections[heading])
            check(want == have, f"{label}: the page lists the options of --help "
                  f"(only in --help: {sorted(want - have)}, only on the page: {sorted(have - want)})")
    print(f"1..{checks}")
    return 1 if failed else 0


sys.exit(main())
