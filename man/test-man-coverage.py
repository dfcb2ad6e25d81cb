# SPDX-License-Identifier: LGPL-2.1-or-later
"""The manual pages describe what the built daemon really has.

Asks the built circd itself, not a list kept here:
  - every long option in `circd --help` is in circd(8);
  - every configuration key circd knows (it names them all when it meets an
    unknown one) is a term in circd.conf(5): the top level, security,
    journal and control;
  - every plugin `make install` installs (plugins_LTLIBRARIES, passed in
    by man/local.mk as CIRCD_INSTALLED_PLUGINS) has a section in
    circd.conf(5) with every option as a term, and the default there is the
    one `circd --list-plugins` reports ("required" for required ones).
    Plugins that are only built for the tests (plugins/example, the
    template documented in circd-plugin(7)) are skipped: an administrator
    never has them;
  - every station role has a section with every option it declares.
A new key, option, plugin or role without documentation fails here.
Skips (77) when circd or its plugins are not built.
"""
import os
import re
import subprocess
import sys
import tempfile

top_srcdir = os.environ.get("top_srcdir", ".")
top_builddir = os.environ.get("top_builddir", ".")
circd = os.environ.get("CIRCD_BIN", os.path.join(top_builddir, "circd"))
plugin_dir = os.environ.get("CIRCD_PLUGIN_DIR", os.path.join(top_builddir, "plugins", ".libs"))

if not os.access(circd, os.X_OK):
    print(f"SKIP: {circd} is not built")
    sys.exit(77)
if not os.path.isdir(plugin_dir):
    print(f"SKIP: no plugin directory {plugin_dir}")
    sys.exit(77)


def installed_plugins():
    """Names of the plugins `make install` installs, or None when unknown.

    From CIRCD_INSTALLED_PLUGINS ("plugins/sim.la plugins/sip2.la ..."), else
    from plugins_LTLIBRARIES in the build's Makefile (a run outside make)."""
    text = os.environ.get("CIRCD_INSTALLED_PLUGINS")
    if text is None:
        try:
            with open(os.path.join(top_builddir, "Makefile")) as f:
                mk = f.read().replace("\\\n", " ")
        except OSError:
            return None
        m = re.search(r"^plugins_LTLIBRARIES\s*=(.*)$", mk, re.M)
        if not m:
            return None
        text = m.group(1)
    return {os.path.basename(w)[:-3] for w in text.split() if w.endswith(".la")}


def page(name):
    with open(os.path.join(top_srcdir, "man", name)) as f:
        return f.read()


def macro_args(line):
    """The arguments of a roff macro line, its double quotes resolved."""
    args, cur, quoted, i = [], "", False, 0
    body = line.split(None, 1)[1] if " " in line else ""
    while i < len(body):
        c = body[i]
        if c == '"':
            if quoted and body[i + 1:i + 2] == '"':
                cur += '"'
                i += 1
            else:
                quoted = not quoted
        elif c == " " and not quoted:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        args.append(cur)
    return args


def plain(roff):
    """Roff source to the text a reader sees (enough for these checks)."""
    if roff.startswith("."):
        roff = "".join(macro_args(roff))
    roff = roff.replace("\\-", "-").replace("\\(dq", '"').replace("\\(aq", "'")
    roff = roff.replace("\\(en", "-").replace("\\(em", "-").replace("\\&", "")
    roff = re.sub(r"\\f[BIRP]", "", roff)
    return roff


circd8 = page("circd.8")
conf5 = page("circd.conf.5")
problems = []


def run(*args):
    p = subprocess.run([circd, *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def term_line(text, key, section=None):
    """The .TP term line of key (".BR key ..." or ".B key"), within section."""
    if section is not None:
        m = re.search(r"^\.SS " + re.escape(section) + r"\b.*?(?=^\.S[SH] |\Z)", text,
                      re.M | re.S)
        if not m:
            return None
        text = m.group(0)
    m = re.search(r"^\.TP\n\.BR? " + re.escape(key) + r"(?: .*)?$", text, re.M)
    return m.group(0).split("\n", 1)[1] if m else None


# ---- circd(8): the command line ----
_, help_text = run("--help")
options = sorted(set(re.findall(r"(--[a-z][a-z-]*)", help_text)))
if not options:
    problems.append("circd --help printed no long options")
for opt in options:
    if opt.replace("-", "\\-") not in circd8:
        problems.append(f"circd(8) does not mention {opt}")
print(f"circd(8): checked {len(options)} long options")

tmp = tempfile.mkdtemp(prefix="circd-mancov.")
conf = os.path.join(tmp, "c.conf")


def known_lists(text):
    """'...unknown ... 'KEY' ... (known: a, b)' -> {KEY: [a, b]}."""
    out = {}
    for m in re.finditer(r"unknown (?:setting|option) '([^']+)'.*\(known: ([^)]*)\)", text):
        out[m.group(1)] = [k.strip() for k in m.group(2).split(",") if k.strip()]
    return out


# ---- circd.conf(5): the structure ----
with open(conf, "w") as f:
    f.write('site = "x";\nzz_top = 1;\nsecurity = { zz_security = 1; };\n'
            'journal = { zz_journal = 1; };\ncontrol = { zz_control = 1; };\n'
            'metrics = { zz_metrics = 1; };\n')
_, out = run("-t", "-c", conf, "--plugin-dir", plugin_dir)
lists = known_lists(out)
sections = {"zz_top": None, "security.zz_security": "security",
            "journal.zz_journal": "journal", "control.zz_control": "control",
            "metrics.zz_metrics": "metrics"}
for probe, section in sections.items():
    if probe not in lists:
        problems.append(f"circd -t did not list the keys known for {section or 'the top level'}:"
                        f" {out.strip()[:300]}")
        continue
    for key in lists[probe]:
        if section is None and key in ("security", "journal", "control", "metrics"):
            if not re.search(r"^\.SS " + key + r"$", conf5, re.M):
                problems.append(f"circd.conf(5) has no section for the group '{key}'")
            continue
        if section is None and key in ("devices", "stations", "upstreams"):
            if not re.search(r"^\.SS " + key + r"$", conf5, re.M):
                problems.append(f"circd.conf(5) has no section for the list '{key}'")
            continue
        if not term_line(conf5, key, section):
            problems.append(f"circd.conf(5) does not describe "
                            f"{section + '.' if section else ''}{key}")
print(f"circd.conf(5): checked {sum(len(v) for v in lists.values())} settings")

# ---- circd.conf(5): plugins and their options, with defaults ----
_, listing = run("--list-plugins", "--plugin-dir", plugin_dir, "-c", os.path.join(tmp, "none"))
plugins = {}
roles = []
current = None
in_roles = False
for line in listing.splitlines():
    if line.startswith("Station roles:"):
        in_roles = True
        continue
    m = re.match(r"^  (\S+)\s", line)
    if in_roles and m:
        roles.append(m.group(1))
        continue
    if m and not line.startswith("  refused:"):
        current = m.group(1)
        plugins[current] = []
        continue
    m = re.match(r"^      (\S+)\s*(\(required\))?\s*(?:\[(.*)\])?", line)
    if m and current:
        plugins[current].append((m.group(1), bool(m.group(2)), m.group(3)))
if not plugins:
    problems.append(f"circd --list-plugins found no plugins in {plugin_dir}: {listing[:300]}")
installed = installed_plugins()
if installed is None:
    print("note: the list of installed plugins is unknown; checking every plugin built")
else:
    for name in sorted(installed - set(plugins)):
        problems.append(f"plugin '{name}' is installed but circd --list-plugins did not load it"
                        f" from {plugin_dir}")
    for name in sorted(set(plugins) - installed):
        print(f"skip: plugin '{name}' is built for the tests but not installed")
for name, opts in sorted(plugins.items()):
    if installed is not None and name not in installed:
        continue
    if not re.search(r"^\.SS " + re.escape(name) + r" ", conf5, re.M):
        problems.append(f"circd.conf(5) has no section for the plugin '{name}'")
        continue
    for key, required, default in opts:
        line = term_line(conf5, key, name)
        if not line:
            problems.append(f"circd.conf(5) does not describe option '{key}' of plugin '{name}'")
            continue
        text = plain(line)
        if required and "required" not in text:
            problems.append(f"circd.conf(5): {name}.{key} is required, the page does not say so")
        if default is not None and not re.search(r"default \"?" + re.escape(default) + r"\"?\)",
                                                 text):
            problems.append(f"circd.conf(5): {name}.{key} defaults to '{default}', "
                            f"the page says: {text}")
print(f"circd.conf(5): checked {len(plugins)} plugins, "
      f"{sum(len(o) for o in plugins.values())} options")

# ---- circd.conf(5): station roles and their options ----
for role in roles:
    if not re.search(r"^\.SS " + re.escape(role) + r" ", conf5, re.M):
        problems.append(f"circd.conf(5) has no section for the station role '{role}'")
        continue
    some_device = next(iter(plugins), None)
    with open(conf, "w") as f:
        f.write('site = "x";\n'
                f'devices = ( {{ name = "d"; plugin = "sim"; }} );\n'
                f'stations = ( {{ name = "s"; role = "{role}"; devices = [ "d" ];'
                f' zz_role = 1; }} );\n')
    _, out = run("-t", "-c", conf, "--plugin-dir", plugin_dir)
    keys = known_lists(out).get("zz_role")
    if keys is None:
        if "sim" not in plugins:
            continue  # needs the sim plugin to build a station
        problems.append(f"circd -t did not list the options of role '{role}': {out.strip()[:300]}")
        continue
    for key in keys:
        if not term_line(conf5, key, role):
            problems.append(f"circd.conf(5) does not describe option '{key}' of role '{role}'")
print(f"circd.conf(5): checked {len(roles)} station roles")

subprocess.run(["rm", "-rf", tmp])
for p in problems:
    print(f"FAIL: {p}")
sys.exit(1 if problems else 0)
