# Regenerates docs/diagnostics.md from spec.py by running the debug binary
# on each example (cargo build first). Usage: python3 docs/gen/gen.py
import os, re, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(__file__))
from spec import ENTRIES, RETIRED_ENTRIES
import os, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
Q = os.path.join(REPO, 'target/debug/qualify')
ROOT = tempfile.mkdtemp(prefix='qualify-diag-')
src = open(os.path.join(REPO, 'src/diagnostic.rs')).read()
codes = re.findall(r'(\w+) = "(Q\d{4})", (\w+), "((?:[^"\\]|\\.)*)";', src)
# Retired codes keep their section (severity None), in code order.
live = {c for _, c, _, _ in codes}
retired = {r['code']: r for r in RETIRED_ENTRIES}
codes += [(None, c, None, None) for c in retired if c not in live]
codes.sort(key=lambda x: x[1])
summary = {c: (v, sev, (s or '').replace('\\"', '"')) for v, c, sev, s in codes}
def kebab(v): return re.sub(r'(?<!^)(?=[A-Z])', '-', v).lower()

def run(files, target='policy.qual'):
    d = os.path.join(ROOT, 'x')
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    for name, text in files.items():
        p = os.path.join(d, name); os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, 'w').write(text)
    r = subprocess.run([Q, 'check', target], cwd=d, capture_output=True, text=True, env={**os.environ, 'NO_COLOR': '1'})
    return r.stderr.rstrip('\n'), r.returncode

problems = []
out = []
out.append(open(os.path.join(HERE, 'intro.md')).read().rstrip('\n') + '\n')
out.append('\n| Code | Name | Severity | About |\n| --- | --- | --- | --- |\n')
by_code = {e['code']: e for e in ENTRIES}
for v, c, sev, s in codes:
    if c in live and c in retired: problems.append(f'{c}: retired but still in diagnostic.rs')
    if sev is None:
        r = retired[c]
        out.append(f"| [{c}](#{c.lower()}-{r['kebab']}) | {r['kebab']} | retired | no longer reported |\n")
        continue
    e = by_code.get(c)
    if not e: problems.append(f'{c}: no entry'); continue
    if e['kebab'] != kebab(v): problems.append(f"{c}: kebab {e['kebab']} != {kebab(v)}")
    out.append(f"| [{c}](#{c.lower()}-{e['kebab']}) | {e['kebab']} | {sev.lower()} | {s} |\n")
for v, c, sev, s in codes:
    if sev is None:
        r = retired[c]
        out.append(f"\n<a id=\"{c.lower()}\"></a>\n\n## {c} {r['kebab']} (retired)\n\n" + r['text'].strip() + '\n')
        continue
    e = by_code.get(c)
    if not e: continue
    out.append(f"\n<a id=\"{c.lower()}\"></a>\n\n## {c} {e['kebab']}\n\n")
    out.append(f"*{sev}.* " + e['meaning'].strip() + '\n\n')
    files = e['files']
    names = [n for n in files if n != 'policy.qual'] + ['policy.qual']
    for n in names:
        label = f"`{n}`:\n\n" if len(files) > 1 else ''
        text = files[n].rstrip('\n')
        lang = 'qual' if n.endswith('.qual') else ('toml' if n.endswith('.toml') else 'text')
        if n.endswith('.csv'):
            lines = text.split('\n')
            text = '\n'.join(lines[:4]) + f"\n… ({len(lines) - 1} leads in all)"
        out.append(label + f"```{lang}\n" + text + "\n```\n\n")
    stderr, rc = run(files, e['run'])
    found = re.findall(r'^(Q\d{4})$', stderr, re.M)
    if c not in found: problems.append(f'{c}: example does not produce it: {found}')
    extra_codes = [x for x in found if x != c]
    if extra_codes: problems.append(f'{c}: example also produces {extra_codes}')
    out.append(f"```text\n$ qualify check {e['run']}\n{stderr}\n```\n\n")
    out.append('**Fix.** ' + e['fix'].strip() + '\n')
    if e['fixed']:
        fs, frc = run(e['fixed'], e['run'])
        ff = re.findall(r'^(Q\d{4})$', fs, re.M)
        if ff: problems.append(f'{c}: fixed version still gives {ff}')
    for title, xfiles in (e['extra'] or []):
        xs, xrc = run(xfiles)
        xf = re.findall(r'^(Q\d{4})$', xs, re.M)
        if c not in xf: problems.append(f'{c}: extra {title!r} gives {xf}')
        out.append(f"\n{title}:\n\n```qual\n" + xfiles['policy.qual'].rstrip('\n') + "\n```\n\n```text\n$ qualify check policy.qual\n" + xs + "\n```\n")
open(os.path.join(REPO, 'docs/diagnostics.md'), 'w').write(''.join(out))
print('\n'.join(problems) or 'no problems')
