#!/usr/bin/env bash
# Set up everything the test suite needs, then run it as a user who cloned the repository
# would: from a copy of the repository's files in a temporary directory, with no data
# directory ($NASBENCH_DATA unset) and nothing beside it (no ../shared). Then run, in place,
# the only tests that read the original data sources in ../shared/data: the ones that rebuild
# the shipped tables bit for bit (pytest marker "shared_data").
#
#   ./scripts/test.sh [PYTEST ARGS...]      # the arguments go to the copied suite's pytest
#
# Steps:
#   1. .venv: created and kept up to date by scripts/setup-env.sh.
#   2. System packages some tests need (Debian): dataset-fashion-mnist (the Fashion-MNIST
#      dataset tests and the zero-cost examples that read it), bible-kjv (the King James Bible
#      corpus, 'kjv') and chromium (the tests that render the HTML reports in a headless
#      browser). Installed with apt-get as root, with
#      sudo otherwise; where neither works, the script says what to install and goes on.
#   3. The suite, from a copy (git ls-files: tracked files plus new files git does not ignore)
#      in a temporary directory, installed into a throwaway venv that reuses .venv's packages,
#      so that the copy's tests import the copy's code. Deselects only "shared_data".
#   4. The "shared_data" tests in place, against ../shared/data (or $NASBENCH_SOURCES). When
#      the sources are absent they are reported as not run; with CI=true that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# -- 1. the virtual environment ------------------------------------------------------------
scripts/setup-env.sh

# -- 2. system packages ----------------------------------------------------------------------
missing=()
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
command -v bible >/dev/null 2>&1 || missing+=(bible-kjv)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      as_root=(sudo)
    else
      as_root=(none)
    fi
  fi
  if [ "${as_root[*]}" = none ]; then
    echo "test.sh: cannot install ${missing[*]} (not root, and sudo is not available)." >&2
    echo "  Install them as root:  apt-get install ${missing[*]}" >&2
    echo "  Without dataset-fashion-mnist the Fashion-MNIST dataset tests fail, without" >&2
    echo "  bible-kjv the King James Bible corpus tests fail; without" >&2
    echo "  chromium the tests that render HTML reports in a browser fail." >&2
  else
    echo "test.sh: installing ${missing[*]} (Debian packages the tests need)" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null \
      || { "${as_root[@]}" apt-get update -qq \
           && "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
fi

# -- 3. the suite, from a copy with nothing beside it -----------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/nasbench-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
copy="$work/repo"
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$copy"

# A throwaway venv: .venv's packages (except nasbench itself, which would point at this
# checkout) are made visible through a .pth file, and the copy is installed into it.
py=$(.venv/bin/python -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
system=$(sed -n 's/^include-system-site-packages *= *//p' .venv/pyvenv.cfg)
venv_args=(--without-pip)
[ "$system" = true ] && venv_args+=(--system-site-packages)
base=$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')
"$base/bin/$py" -m venv "${venv_args[@]}" "$work/venv"
shared="$work/base-site-packages"
mkdir -p "$shared"
for entry in .venv/lib/"$py"/site-packages/*; do
  case "$(basename "$entry")" in
    nasbench-*.dist-info|__editable__*nasbench*|nasbench.egg-link|__pycache__) ;;
    *) ln -s "$ROOT/$entry" "$shared/" ;;
  esac
done
echo "import site; site.addsitedir('$shared')" > "$work/venv/lib/$py/site-packages/zz-base.pth"
.venv/bin/python -m pip --python "$work/venv/bin/python" install -q --no-deps -e "$copy" \
  > "$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; exit 1; }
# The copy's tests must import the copy's code, not this checkout's.
(cd "$work" && "$work/venv/bin/python" - "$copy") <<'PY'
import sys
import nasbench, nasbench.evaluators, nasbench.spaces
for module in (nasbench, nasbench.evaluators, nasbench.spaces):
    assert module.__file__.startswith(sys.argv[1]), f"{module.__name__} from {module.__file__}"
PY

echo "test.sh: running the suite from $copy (no NASBENCH_DATA, nothing beside it)" >&2
status=0
(cd "$copy" && env -u NASBENCH_DATA -u NASBENCH_IMPORT_DIR -u NASBENCH_SOURCES \
   "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -m "not shared_data" "$@") \
  || status=$?

# -- 4. the tests that read the original sources, in place ------------------------------------
sources=${NASBENCH_SOURCES:-$ROOT/../shared/data}
if [ -d "$sources" ]; then
  echo "test.sh: rebuilding the shipped tables from $sources (tests marked shared_data)" >&2
  NASBENCH_SOURCES=$(cd "$sources" && pwd) .venv/bin/python -m pytest -q -p no:cacheprovider \
    -m shared_data tests || status=$?
elif [ "${CI:-}" = true ]; then
  echo "test.sh: FAILED: the shared_data tests need the original sources in $sources" >&2
  status=1
else
  echo "test.sh: the shared_data tests (rebuilding the shipped tables from their original" >&2
  echo "  sources) were NOT run: $sources does not exist. Set NASBENCH_SOURCES to run them." >&2
fi
exit $status
