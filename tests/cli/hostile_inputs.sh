#!/usr/bin/env bash
# Hostile command lines for the example programs (issue 9). Every refused input must end in a
# nonzero exit code below 128 (no abort, no signal) with exactly one line on stderr that
# starts with the program's name; every accepted one must succeed. Output folders must be
# all-or-nothing: a refused run leaves an existing folder exactly as it was.
#
#   hostile_inputs.sh inagaki=PATH alm=PATH rajan=PATH noise=PATH structure=PATH report=PATH fixed_points=PATH tmp=DIR
#
# Registered with ctest by examples/CMakeLists.txt. Sizes are tiny: the whole run takes
# well under a minute.
set -u
declare -A P
for a in "$@"; do P[${a%%=*}]=${a#*=}; done
for k in inagaki alm rajan noise structure report fixed_points tmp; do
  [ -n "${P[$k]:-}" ] || { echo "usage: $0 inagaki=PATH alm=PATH rajan=PATH noise=PATH structure=PATH report=PATH fixed_points=PATH tmp=DIR" >&2; exit 2; }
done
inagaki=${P[inagaki]} alm=${P[alm]} rajan=${P[rajan]} noise=${P[noise]} structure=${P[structure]} report=${P[report]}
fixed=${P[fixed_points]}
T=${P[tmp]}
rm -rf "$T" && mkdir -p "$T" || exit 2
T=$(cd "$T" && pwd)
export OMP_NUM_THREADS=2
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# expect_error NAME PROGRAM ARGS...: refused cleanly.
expect_error() {
  local name=$1 prog=$2; shift 2
  local t0=$SECONDS
  "$prog" "$@" > "$T/stdout" 2> "$T/stderr"
  local rc=$? lines base
  lines=$(wc -l < "$T/stderr")
  base=$(basename "$prog")
  if (( rc == 0 || rc >= 128 )); then fail "$name: exit code $rc"; cat "$T/stderr"; return 1; fi
  if [ "$lines" -ne 1 ] || ! grep -q "^$base: " "$T/stderr"; then
    fail "$name: expected one line '$base: ...' on stderr, got $lines:"; cat "$T/stderr"; return 1
  fi
  echo "ok   $name -> rc $rc ($((SECONDS - t0)) s): $(cat "$T/stderr")"
}
# expect_late_error NAME PROGRAM ARGS...: refused after progress lines: the last line of stderr
# is the only one naming the program.
expect_late_error() {
  local name=$1 prog=$2; shift 2
  "$prog" "$@" > "$T/stdout" 2> "$T/stderr"
  local rc=$? base
  base=$(basename "$prog")
  if (( rc == 0 || rc >= 128 )); then fail "$name: exit code $rc"; cat "$T/stderr"; return 1; fi
  if [ "$(grep -c "^$base: " "$T/stderr")" -ne 1 ] || ! tail -n 1 "$T/stderr" | grep -q "^$base: "; then
    fail "$name: expected the last stderr line (only) to be '$base: ...':"; cat "$T/stderr"; return 1
  fi
  echo "ok   $name -> rc $rc: $(tail -n 1 "$T/stderr")"
}
# npy_f64 FILE D0 D1 D2 BYTES8: a float64 .npy of that shape, every element the 8 bytes given
# as printf escapes (little-endian).
npy_f64() {
  local header="{'descr': '<f8', 'fortran_order': False, 'shape': ($2, $3, $4), }"
  while (( (10 + ${#header} + 1) % 64 != 0 )); do header+=" "; done
  local n=$(( $2 * $3 * $4 )) i
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $(( (${#header} + 1) % 256 )))\\x$(printf %02x $(( (${#header} + 1) / 256 )))"
    printf '%s\n' "$header"
    for (( i = 0; i < n; ++i )); do printf "$5"; done
  } > "$1"
}
# expect_success NAME PROGRAM ARGS...
expect_success() {
  local name=$1 prog=$2; shift 2
  local t0=$SECONDS
  "$prog" "$@" > "$T/stdout" 2> "$T/stderr"
  local rc=$?
  if (( rc != 0 )); then fail "$name: exit code $rc"; tail -3 "$T/stderr"; return 1; fi
  echo "ok   $name -> rc 0 ($((SECONDS - t0)) s)"
}
# same_tree A B NAME: identical contents.
same_tree() { diff -r "$1" "$2" > /dev/null || fail "$3: '$1' was changed"; }
# no_temporaries DIR NAME: no .*.partial-* / .*.old-* left in DIR.
no_temporaries() {
  if compgen -G "$1/.*.partial-*" > /dev/null || compgen -G "$1/.*.old-*" > /dev/null; then
    fail "$2: temporaries left in $1: $(ls -a "$1" | tr '\n' ' ')"
  fi
}

# ---- fixtures: a tiny training folder and a tiny session
# 30 units, 5 iterations: smaller or shorter-trained logistic networks forget the trial type by
# the end of the delay (right and left end within rounding), which noise_robustness rightly refuses.
small_training=(--synthetic simple --neurons 30 --realizations 2 --iterations 5)
expect_success "fixture: training folder" "$rajan" "${small_training[@]}" --no-figures --out "$T/training" || exit 1
expect_success "fixture: session" "$alm" --units 8 --trials 16 --no-figures --out "$T/session" || exit 1
small_noise=(--trials 2 --amplitudes 0,1 --chosen-trials 2 --pi-trials 2 --drive-strengths 0,1 --silence-fractions 0,0.5)
cp -r "$T/training" "$T/training.ref"

# ---- --help still works
for p in "$inagaki" "$alm" "$rajan" "$noise" "$structure" "$report" "$fixed"; do
  "$p" --help > /dev/null 2>&1 || fail "$(basename "$p") --help: exit code $?"
done
echo "ok   --help exits 0 for every program"

# ---- --out that is a file, under a file, not writable, or someone else's folder
printf 'keep me\n' > "$T/a_file"
expect_error "--out is a file" "$inagaki" --trials 2 --out "$T/a_file"
expect_error "--out under a file" "$alm" --units 8 --trials 16 --out "$T/a_file/sub"
[ "$(cat "$T/a_file")" = "keep me" ] || fail "--out is a file: the file was changed"
if [ "$(id -u)" != 0 ]; then
  mkdir -p "$T/readonly" && chmod 555 "$T/readonly"
  expect_error "--out not writable" "$inagaki" --trials 2 --out "$T/readonly/out"
  chmod 755 "$T/readonly"
else
  echo "skip --out in a read-only folder (running as root, who may write anywhere)"
fi
mkdir -p "$T/home" && printf 'notes\n' > "$T/home/notes.txt"
expect_error "--out is a non-empty folder no run wrote" "$inagaki" --trials 2 --out "$T/home"
[ "$(ls "$T/home")" = "notes.txt" ] || fail "foreign folder changed"

# ---- sizes
expect_error "inagaki --trials 99999999999" "$inagaki" --trials 99999999999 --out "$T/x"
expect_error "alm --trials 99999999999" "$alm" --trials 99999999999 --out "$T/x"
expect_error "alm --units 18446744073709551615" "$alm" --units 18446744073709551615 --out "$T/x"
expect_error "alm --units -5 (no wrap-around to 2^64 - 5)" "$alm" --units -5 --out "$T/x"
expect_error "noise --trials 99999999999" "$noise" --training "$T/training" --trials 99999999999 --out "$T/x"
expect_error "noise --pi-trials 5000000 (memory)" "$noise" --training "$T/training" --pi-trials 5000000 --out "$T/x"
expect_error "noise --threads 100000" "$noise" --training "$T/training" --threads 100000 --out "$T/x"
expect_error "noise --threads -1" "$noise" --training "$T/training" --threads -1 --out "$T/x"
t0=$SECONDS
expect_error "rajan --realizations 100000" "$rajan" --neurons 8 --session-trials 12 --realizations 100000 --out "$T/x"
(( SECONDS - t0 <= 10 )) || fail "rajan --realizations 100000 took $((SECONDS - t0)) s to be refused"
[ ! -e "$T/x" ] || fail "a refused run created its output folder"

# ---- NaN and infinities where they are parsed
expect_error "alm --window-ms nan" "$alm" --window-ms nan --out "$T/x"
expect_error "alm --window-ms inf" "$alm" --window-ms inf --out "$T/x"
expect_error "noise --amplitudes 0,nan" "$noise" --training "$T/training" --amplitudes 0,nan --out "$T/x"
expect_error "noise --chosen-amplitude inf" "$noise" --training "$T/training" --chosen-amplitude inf --out "$T/x"
expect_error "rajan --g nan" "$rajan" --g nan --out "$T/x"
expect_error "rajan --alpha 1e999" "$rajan" --alpha 1e999 --out "$T/x"
expect_error "rajan --transfer relu" "$rajan" --transfer relu --out "$T/x"
expect_success "rajan --transfer tanh" "$rajan" --synthetic simple --neurons 30 --realizations 1 --iterations 3 \
  --transfer tanh --no-figures --out "$T/tanh"
grep -q '"transfer": "tanh"' "$T/tanh/training_setup.json" || fail "rajan --transfer tanh: transfer not recorded"
expect_error "structure --pca-threshold nan" "$structure" --training "$T/training" --pca-threshold nan --out "$T/x"

# ---- --realization: an index >= 0 when given (absent = the best)
expect_error "noise --realization -1" "$noise" --training "$T/training" --realization -1 --out "$T/x"
expect_error "structure --realization -1" "$structure" --training "$T/training" --realization -1 --out "$T/x"
expect_error "structure --compare-realization -1" "$structure" --training "$T/training" --compare "$T/training" \
  --compare-realization -1 --out "$T/x"
expect_error "noise --realization without --training" "$noise" --realization 0 --out "$T/x"
expect_error "structure --training that does not exist" "$structure" --training "$T/missing" --out "$T/x"
expect_error "unknown option" "$inagaki" --no-such-option --out "$T/x"

# ---- all-or-nothing output folders
expect_success "noise: first run" "$noise" --training "$T/training" "${small_noise[@]}" --no-figures --out "$T/noise"
cp -r "$T/noise" "$T/noise.ref"
expect_error "noise --silence-fractions 2 after a good run" "$noise" --training "$T/training" "${small_noise[@]}" \
  --silence-fractions 0,2 --out "$T/noise"
same_tree "$T/noise" "$T/noise.ref" "--silence-fractions 2"
# Refused only after the network is loaded: still nothing of the old folder changes.
expect_error "noise --realization 7 of a 2-realisation folder (late)" "$noise" --training "$T/training" \
  "${small_noise[@]}" --realization 7 --out "$T/noise"
same_tree "$T/noise" "$T/noise.ref" "--realization 7"
no_temporaries "$T" "late refusal"
# A temporary left by a killed run (its PID is dead) is cleaned by the next run.
sh -c 'exit 0' & dead=$!; wait $dead
mkdir -p "$T/.noise.partial-$dead-0" && touch "$T/.noise.partial-$dead-0/noise_sweep.csv.tmp.$dead.0"
expect_success "noise: rerun over a killed run's temporary" "$noise" --training "$T/training" "${small_noise[@]}" \
  --no-figures --out "$T/noise"
no_temporaries "$T" "killed run's temporary"

# ---- an --out that is, contains or lies inside an input
expect_error "noise --out equal to --training" "$noise" --training "$T/training" --out "$T/training"
expect_error "structure --out inside --training" "$structure" --training "$T/training" --out "$T/training/structure"
expect_error "structure --out equal to --compare" "$structure" --training "$T/training" --compare "$T/training" \
  --out "$T/training/"
expect_error "alm --out containing --session" "$alm" --session "$T/session/synthetic_session.mat" --out "$T/session"
expect_error "rajan --out containing --checkpoint-dir" "$rajan" "${small_training[@]}" \
  --checkpoint-dir "$T/training/ckpt" --out "$T/training"
same_tree "$T/training" "$T/training.ref" "--out equal to an input"

# ---- checkpoints of another run and degenerate targets (refused by the library)
expect_success "rajan: a checkpointed run, --seed 6" "$rajan" --neurons 8 --session-trials 12 --realizations 1 \
  --iterations 2 --seed 6 --checkpoint-dir "$T/ckpt" --no-figures --out "$T/ck6"
expect_late_error "rajan: resume those checkpoints with --seed 7" "$rajan" --neurons 8 --session-trials 12 \
  --realizations 1 --iterations 2 --seed 7 --checkpoint-dir "$T/ckpt" --no-figures --out "$T/ck7"
[ ! -e "$T/ck7" ] || fail "a refused resume created its output folder"
npy_f64 "$T/zeros.npy" 2 4 120 '\x00\x00\x00\x00\x00\x00\x00\x00'
npy_f64 "$T/ones.npy" 2 4 120 '\x00\x00\x00\x00\x00\x00\xf0\x3f'
expect_late_error "rajan --targets all zeros" "$rajan" --targets "$T/zeros.npy" --realizations 1 --iterations 1 --out "$T/x"
expect_late_error "rajan --targets constant" "$rajan" --targets "$T/ones.npy" --realizations 1 --iterations 1 --out "$T/x"
[ ! -e "$T/x" ] || fail "a refused training created its output folder"

# ---- fixed_points: bad preset, light, input choice, training folder, out; all-or-nothing
fp_small=(--preset one_hemi_multi_fp_step --pv 0 --starts 16)
expect_error "fixed_points --preset unknown" "$fixed" --preset no_such_model --out "$T/x"
expect_error "fixed_points --pv -1" "$fixed" --preset one_hemi_multi_fp_step --pv -1 --out "$T/x"
expect_error "fixed_points --pv nan" "$fixed" --preset one_hemi_multi_fp_step --pv nan --out "$T/x"
expect_error "fixed_points --pv 0,inf" "$fixed" --preset one_hemi_multi_fp_step --pv 0,inf --out "$T/x"
expect_error "fixed_points --pv without --preset" "$fixed" --training "$T/training" --pv 1 --out "$T/x"
expect_error "fixed_points --pv-type sideways" "$fixed" "${fp_small[@]}" --pv-type sideways --out "$T/x"
expect_error "fixed_points --pv-type on the line attractor" "$fixed" --preset continuous --pv-type ipsilateral \
  --out "$T/x"
expect_error "fixed_points --time nan" "$fixed" --training "$T/training" --time nan --out "$T/x"
expect_error "fixed_points --time with --epoch" "$fixed" --training "$T/training" --time 10 --epoch delay --out "$T/x"
expect_error "fixed_points --time with --preset" "$fixed" "${fp_small[@]}" --time 10 --out "$T/x"
expect_error "fixed_points --noise nan" "$fixed" "${fp_small[@]}" --noise nan --out "$T/x"
expect_error "fixed_points --starts 0" "$fixed" "${fp_small[@]}" --starts 0 --out "$T/x"
expect_error "fixed_points --training that does not exist" "$fixed" --training "$T/missing" --out "$T/x"
expect_error "fixed_points --training with --preset" "$fixed" "${fp_small[@]}" --training "$T/training" --out "$T/x"
expect_error "fixed_points --realization -1" "$fixed" --training "$T/training" --realization -1 --out "$T/x"
expect_error "fixed_points --out is a file" "$fixed" "${fp_small[@]}" --out "$T/a_file"
[ "$(cat "$T/a_file")" = "keep me" ] || fail "fixed_points --out is a file: the file was changed"
if [ "$(id -u)" != 0 ]; then
  chmod 555 "$T/readonly"
  expect_error "fixed_points --out not writable" "$fixed" "${fp_small[@]}" --out "$T/readonly/out"
  chmod 755 "$T/readonly"
fi
expect_error "fixed_points --out equal to --training" "$fixed" --training "$T/training" --out "$T/training"
[ ! -e "$T/x" ] || fail "a refused fixed_points run created its output folder"
expect_success "fixed_points: a preset" "$fixed" "${fp_small[@]}" --no-figures --out "$T/fp"
expect_success "fixed_points: the line attractor, tuned" "$fixed" --preset continuous_tuned --pv 0 --starts 8 \
  --no-figures --out "$T/fp_line"
# The fixture's barely trained networks end right and left trials alike (to 1e-16): no coding
# direction to project on, refused after loading with one line.
expect_late_error "fixed_points: a network that does not separate the trial types (late)" "$fixed" \
  --training "$T/training" --starts 16 --time 3000 --no-figures --out "$T/fp_trained"
[ ! -e "$T/fp_trained" ] || fail "a refused fixed_points run created its output folder"
cp -r "$T/fp" "$T/fp.ref"
expect_error "fixed_points --pv nan over a good run" "$fixed" --preset one_hemi_multi_fp_step --pv nan --out "$T/fp"
same_tree "$T/fp" "$T/fp.ref" "fixed_points --pv nan"
# Refused after the network is loaded (a time past the end of the trial, an unknown epoch).
expect_late_error "fixed_points --time 1e8 (late)" "$fixed" --training "$T/training" --time 1e8 --out "$T/fp"
same_tree "$T/fp" "$T/fp.ref" "fixed_points --time 1e8"
expect_late_error "fixed_points --epoch nope (late)" "$fixed" --training "$T/training" --epoch nope --out "$T/fp"
same_tree "$T/fp" "$T/fp.ref" "fixed_points --epoch nope"
# Several realisations (--realizations): malformed lists early, realisations the folder lacks late.
expect_error "fixed_points --realizations without --training" "$fixed" "${fp_small[@]}" --realizations all --out "$T/x"
expect_error "fixed_points --realizations 3-1" "$fixed" --training "$T/training" --realizations 3-1 --out "$T/x"
expect_error "fixed_points --realizations with --realization" "$fixed" --training "$T/training" --realizations all \
  --realization 0 --out "$T/x"
expect_late_error "fixed_points --realizations 0-5 (2 in the folder)" "$fixed" --training "$T/training" \
  --realizations 0-5 --out "$T/x"
# The fixture's networks end right and left trials alike: every realisation is listed as not
# analysed, so the run fails late and leaves no folder.
expect_late_error "fixed_points --realizations all, none separates (late)" "$fixed" --training "$T/training" \
  --realizations all --starts 16 --no-figures --out "$T/fp_all"
[ ! -e "$T/fp_all" ] || fail "a refused fixed_points --realizations run created its output folder"
no_temporaries "$T" "fixed_points late refusal"
same_tree "$T/training" "$T/training.ref" "fixed_points read the training folder"

# ---- a hostile --out path: no shell runs it, figures are drawn, the run succeeds
inject() { mkdir -p "$T/inj_$1"; printf '%s' "$T/inj_$1/a b'\$(touch $T/inj_$1/PWNED)"; }
expect_success "inagaki injection --out" "$inagaki" --trials 2 --no-figures=false --out "$(inject inagaki)"
expect_success "alm injection --out" "$alm" --units 8 --trials 16 --no-figures=false --out "$(inject alm)"
expect_success "rajan injection --out" "$rajan" --neurons 8 --session-trials 12 --realizations 1 --iterations 1 \
  --no-figures=false \
  --out "$(inject rajan)"
expect_success "noise injection --out" "$noise" --training "$T/training" "${small_noise[@]}" --no-figures=false \
  --out "$(inject noise)"
expect_success "structure injection --out" "$structure" --training "$T/training" --no-figures=false \
  --out "$(inject structure)"
expect_success "make_report over the injection folders" "$report" --out "$T"
for p in inagaki alm rajan noise structure; do
  [ ! -e "$T/inj_$p/PWNED" ] || fail "$p: the --out path was run by a shell (PWNED exists)"
  n=$(find "$T/inj_$p" -name '*.png' | wc -l)
  (( n > 0 )) || fail "$p: no figure drawn in the injection folder"
done
expect_success "fixed_points injection --out" "$fixed" "${fp_small[@]}" --no-figures=false --out "$(inject fixed)"
[ ! -e "$T/inj_fixed/PWNED" ] || fail "fixed_points: the --out path was run by a shell (PWNED exists)"
(( $(find "$T/inj_fixed" -name '*.png' | wc -l) > 0 )) || fail "fixed_points: no figure drawn in the injection folder"
[ ! -e PWNED ] || fail "PWNED in the working directory"
echo "ok   no PWNED anywhere; figures drawn"

if (( failures > 0 )); then echo "$failures hostile-input check(s) failed"; exit 1; fi
echo "all hostile-input checks passed"
