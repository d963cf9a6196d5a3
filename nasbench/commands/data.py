"""``nasbench data``: list, verify, locate and import benchmark tables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nasbench.commands import plugins as _plugins
from nasbench.errors import UserError, available


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark tables: list, verify, path, import")
    dsub = p.add_subparsers(dest="data_command", metavar="{list,verify,path,import}")
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])

    q = dsub.add_parser("list", help="every table nasbench knows, shipped or to import")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(handler=cmd_list)

    q = dsub.add_parser("verify", help="check the SHA-256 of every shipped and imported file")
    q.set_defaults(handler=cmd_verify)

    q = dsub.add_parser("path", help="print where a table is read from")
    q.add_argument("name", help="table name (see 'nasbench data list')")
    q.set_defaults(handler=cmd_path)

    q = dsub.add_parser("import", help="convert your copy of an official release")
    q.add_argument("name", help="importer name (see 'nasbench data list')")
    q.add_argument("source", help="the official file or directory")
    q.add_argument("--dest", help="import root (default: $NASBENCH_IMPORT_DIR or "
                                  "~/.cache/nasbench/imported)")
    q.set_defaults(handler=cmd_import)


def _size(n: int | None) -> str:
    if not n:
        return "-"
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def cmd_list(args: argparse.Namespace) -> int:
    from nasbench.data.catalog import entries

    plugins = _plugins(args)
    rows = entries(plugins)
    importers = {r.name: r for r in plugins.importers} if plugins.importers else {}
    for row in rows:
        row["importer"] = row["name"] if row["name"] in importers else None
    for name, record in importers.items():
        if not any(r["name"] == name for r in rows):
            cls = record.cls
            rows.append({"name": name, "kind": "", "status": "import only (not imported)",
                         "space": None, "problems": [], "rows": None, "bytes": 0, "path": "",
                         "summary": cls.summary, "source": cls.source, "licence": cls.licence,
                         "citation": cls.citation, "importer": name,
                         "why": f"import your copy: nasbench data import {name} SOURCE"})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    shipped = sum(len(r["problems"]) for r in rows if r["status"] == "shipped")
    packaged = sum(len(r["problems"]) for r in rows if r["status"] == "in an installed package")
    for r in rows:
        print(f"{r['name']}  [{r['status']}]  {r['summary']}")
        if r["problems"]:
            print(f"    problems ({len(r['problems'])}): {', '.join(r['problems'])}")
        details = [f"rows {r['rows']:,}" if r["rows"] else "",
                   f"size {_size(r['bytes'])}" if r["bytes"] else "",
                   f"licence {r['licence']}" if r["licence"] else ""]
        if any(details):
            print("    " + ", ".join(d for d in details if d))
        for key in ("source", "citation"):
            if r[key]:
                print(f"    {key}: {r[key]}")
        if r["why"]:
            label = ("why shipped" if r["status"] == "shipped" else "why not shipped"
                     if r["status"].startswith("import only") else "note")
            print(f"    {label}: {r['why']}")
        if r.get("importer") and r["status"].startswith("import only"):
            print(f"    import: nasbench data import {r['importer']} SOURCE")
    print(f"\n{shipped + packaged} searchable problems without importing anything: {shipped} "
          f"from the tables shipped with nasbench, {packaged} from installed packages.")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from nasbench.data.catalog import verify

    checked, problems = verify()
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    if problems:
        raise UserError(f"{len(problems)} of the data files nasbench checked do not match "
                        "their recorded SHA-256 (listed above).")
    print(f"OK: {len(checked)} files checked against the manifest and import provenance.")
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    from nasbench.data.catalog import table_path

    print(table_path(args.name))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from nasbench.data.importers import run_import

    plugins = _plugins(args)
    if plugins.importers is None or args.name not in plugins.importers:
        names = plugins.importers.names() if plugins.importers is not None else []
        raise UserError(f"no importer '{args.name}'; available: {available(names)} (see "
                        "'nasbench data list').")
    importer = plugins.importers.get(args.name)()

    def progress(done: int, total: int) -> None:
        print(f"\r{args.name}: {done}/{total}", end="" if done < total else "\n",
              file=sys.stderr, flush=True)

    dest = Path(args.dest) if args.dest else None
    where = run_import(importer, Path(args.source), dest, progress)
    print(f"Imported {args.name} into {where} (checksums in {where / 'provenance.json'}).")
    if dest is not None:
        print(f"nasbench reads imports from $NASBENCH_IMPORT_DIR: export "
              f"NASBENCH_IMPORT_DIR={dest} to use this one.")
    return 0
