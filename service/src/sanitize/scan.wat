;; Text scanning for the sanitizer (see knownScan.ts): folding a text, finding where any of a set
;; of short prefixes may start (Teddy: three nibble-table lookups per byte, sixteen bytes at a
;; time), and finding folded values on word boundaries. A JavaScript character loop, a regular
;; expression over the whole text or a search per value costs several times as much (measured),
;; and this runs for every text of every request.
;; `npm run wasm` compiles it into scanWasm.ts; a test holds the two in step.
;;
;; Memory: the fold table (u16 per code unit) at 0, the word table (u8 per code unit: letter or
;; digit) at 131072, the "special" table (u8 per code unit: folding it depends on its neighbours,
;; so the caller folds the whole text itself) at 196608; everything after 262144 is the caller's
;; scratch, addressed by the offsets it passes.
(module
  (memory (export "memory") 5)

  ;; Writes the fold of `len` units at `src` to `dst` and, one byte per unit, the same folded
  ;; units narrowed to bytes (min(unit, 255)) to `dst8`, followed by 32 zero bytes; returns 1
  ;; when a special unit was among them. Eight units at a time are lower-cased as ASCII; only the
  ;; ones that are not ASCII go through the table.
  (func (export "fold") (param $src i32) (param $dst i32) (param $dst8 i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32) (local $f i32) (local $special i32) (local $v v128) (local $k i32) (local $mask i32)
    (block $vectors_done
      (loop $vector
        (br_if $vectors_done (i32.gt_s (i32.add (local.get $i) (i32.const 8)) (local.get $len)))
        (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
        ;; A-Z + 32, stored for all eight; then the units that are not ASCII through the table.
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
          (v128.or (local.get $v)
            (v128.and
              (v128.and (i16x8.gt_u (local.get $v) (i16x8.splat (i32.const 0x40)))
                (i16x8.lt_u (local.get $v) (i16x8.splat (i32.const 0x5b))))
              (i16x8.splat (i32.const 0x20)))))
        (v128.store64_lane 0 (i32.add (local.get $dst8) (local.get $i))
          (i8x16.narrow_i16x8_u
            (v128.load (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))))
            (v128.const i64x2 0 0)))
        (local.set $mask (i16x8.bitmask (i16x8.gt_u (local.get $v) (i16x8.splat (i32.const 0x7f)))))
        (block $lanes_done
          (loop $lane
            (br_if $lanes_done (i32.eqz (local.get $mask)))
            (local.set $k (i32.add (local.get $i) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (local.set $c (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 1)))))
            (local.set $f (i32.load16_u (i32.shl (local.get $c) (i32.const 1))))
            (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 1))) (local.get $f))
            (i32.store8 (i32.add (local.get $dst8) (local.get $k))
              (select (local.get $f) (i32.const 255) (i32.lt_u (local.get $f) (i32.const 256))))
            (local.set $special (i32.or (local.get $special)
              (i32.load8_u (i32.add (i32.const 196608) (local.get $c)))))
            (br $lane)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $vector)))
    (block $done
      (loop $unit
        (br_if $done (i32.ge_s (local.get $i) (local.get $len)))
        (local.set $c (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
        (local.set $f (i32.load16_u (i32.shl (local.get $c) (i32.const 1))))
        (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (local.get $f))
        (i32.store8 (i32.add (local.get $dst8) (local.get $i))
          (select (local.get $f) (i32.const 255) (i32.lt_u (local.get $f) (i32.const 256))))
        (local.set $special (i32.or (local.get $special)
          (i32.load8_u (i32.add (i32.const 196608) (local.get $c)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $unit)))
    (v128.store (i32.add (local.get $dst8) (local.get $len)) (v128.const i64x2 0 0))
    (v128.store offset=16 (i32.add (local.get $dst8) (local.get $len)) (v128.const i64x2 0 0))
    (local.get $special))

  ;; Teddy: every position p < `len` of the bytes at `bytes` (followed by 32 zero bytes) where
  ;; bytes p, p+1 and p+2 all fall in one bucket. `tables` holds, for each of the three
  ;; positions, a 16-byte table by low nibble and one by high nibble, whose bit b says that
  ;; bucket b accepts it (96 bytes, then 16 bytes of scratch). Writes (p, bucket bits) pairs of
  ;; i32 to `out`, in order; returns their number, or -1 when more than `cap` would be needed.
  (func $teddy (export "teddy")
    (param $bytes i32) (param $len i32) (param $tables i32) (param $out i32) (param $cap i32) (result i32)
    (local $i i32) (local $n i32) (local $p i32) (local $mask i32) (local $at i32)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local $nib v128) (local $v v128) (local $m v128)
    (local.set $lo0 (v128.load (local.get $tables)))
    (local.set $hi0 (v128.load offset=16 (local.get $tables)))
    (local.set $lo1 (v128.load offset=32 (local.get $tables)))
    (local.set $hi1 (v128.load offset=48 (local.get $tables)))
    (local.set $lo2 (v128.load offset=64 (local.get $tables)))
    (local.set $hi2 (v128.load offset=80 (local.get $tables)))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (block $done
      (loop $block16
        (br_if $done (i32.ge_s (local.get $i) (local.get $len)))
        (local.set $at (i32.add (local.get $bytes) (local.get $i)))
        (local.set $v (v128.load (local.get $at)))
        (local.set $m (v128.and
          (i8x16.swizzle (local.get $lo0) (v128.and (local.get $v) (local.get $nib)))
          (i8x16.swizzle (local.get $hi0) (i8x16.shr_u (local.get $v) (i32.const 4)))))
        (local.set $v (v128.load offset=1 (local.get $at)))
        (local.set $m (v128.and (local.get $m) (v128.and
          (i8x16.swizzle (local.get $lo1) (v128.and (local.get $v) (local.get $nib)))
          (i8x16.swizzle (local.get $hi1) (i8x16.shr_u (local.get $v) (i32.const 4))))))
        (local.set $v (v128.load offset=2 (local.get $at)))
        (local.set $m (v128.and (local.get $m) (v128.and
          (i8x16.swizzle (local.get $lo2) (v128.and (local.get $v) (local.get $nib)))
          (i8x16.swizzle (local.get $hi2) (i8x16.shr_u (local.get $v) (i32.const 4))))))
        (if (v128.any_true (local.get $m))
          (then
            (v128.store offset=96 (local.get $tables) (local.get $m))
            (local.set $mask (i8x16.bitmask (i8x16.ne (local.get $m) (v128.const i64x2 0 0))))
            (block $block_done
              (loop $candidate
                (br_if $block_done (i32.eqz (local.get $mask)))
                (local.set $p (i32.add (local.get $i) (i32.ctz (local.get $mask))))
                (br_if $done (i32.ge_s (local.get $p) (local.get $len)))
                (if (i32.ge_s (local.get $n) (local.get $cap)) (then (return (i32.const -1))))
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))) (local.get $p))
                (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3)))
                  (i32.load8_u offset=96 (i32.add (local.get $tables) (i32.ctz (local.get $mask)))))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
                (br $candidate)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $block16)))
    (local.get $n))

  ;; Completes the `count` needle rows at `table` (four i32 each; the caller wrote each length
  ;; at offset 4) for needles whose folded units follow one another at `units`: offset of its
  ;; units, word start and word end (by the word table), and Teddy's tables at `tables` with
  ;; needle k in bucket k mod 8, by its first three units narrowed to bytes (a needle shorter
  ;; than three accepts anything after its end).
  (func (export "needles") (param $units i32) (param $table i32) (param $count i32) (param $tables i32)
    (local $k i32) (local $row i32) (local $at i32) (local $nlen i32) (local $bit i32) (local $pos i32)
    (local $b i32) (local $tab i32)
    (v128.store (local.get $tables) (v128.const i64x2 0 0))
    (v128.store offset=16 (local.get $tables) (v128.const i64x2 0 0))
    (v128.store offset=32 (local.get $tables) (v128.const i64x2 0 0))
    (v128.store offset=48 (local.get $tables) (v128.const i64x2 0 0))
    (v128.store offset=64 (local.get $tables) (v128.const i64x2 0 0))
    (v128.store offset=80 (local.get $tables) (v128.const i64x2 0 0))
    (local.set $at (local.get $units))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $k) (local.get $count)))
        (local.set $row (i32.add (local.get $table) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $nlen (i32.load offset=4 (local.get $row)))
        (i32.store (local.get $row) (local.get $at))
        (i32.store offset=8 (local.get $row)
          (i32.load8_u (i32.add (i32.const 131072) (i32.load16_u (local.get $at)))))
        (i32.store offset=12 (local.get $row)
          (i32.load8_u (i32.add (i32.const 131072)
            (i32.load16_u (i32.add (local.get $at) (i32.shl (i32.sub (local.get $nlen) (i32.const 1)) (i32.const 1)))))))
        (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $k) (i32.const 7))))
        (local.set $pos (i32.const 0))
        (local.set $tab (local.get $tables))
        (loop $position
          (if (i32.lt_s (local.get $pos) (local.get $nlen))
            (then
              (local.set $b (i32.load16_u (i32.add (local.get $at) (i32.shl (local.get $pos) (i32.const 1)))))
              (local.set $b (select (local.get $b) (i32.const 255) (i32.lt_u (local.get $b) (i32.const 256))))
              (i32.store8 (i32.add (local.get $tab) (i32.and (local.get $b) (i32.const 15)))
                (i32.or (local.get $bit) (i32.load8_u (i32.add (local.get $tab) (i32.and (local.get $b) (i32.const 15))))))
              (i32.store8 offset=16 (i32.add (local.get $tab) (i32.shr_u (local.get $b) (i32.const 4)))
                (i32.or (local.get $bit) (i32.load8_u offset=16 (i32.add (local.get $tab) (i32.shr_u (local.get $b) (i32.const 4)))))))
            (else
              (v128.store (local.get $tab) (v128.or (v128.load (local.get $tab)) (i8x16.splat (local.get $bit))))
              (v128.store offset=16 (local.get $tab)
                (v128.or (v128.load offset=16 (local.get $tab)) (i8x16.splat (local.get $bit))))))
          (local.set $tab (i32.add (local.get $tab) (i32.const 32)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (br_if $position (i32.lt_s (local.get $pos) (i32.const 3))))
        (local.set $at (i32.add (local.get $at) (i32.shl (local.get $nlen) (i32.const 1))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
  )

  ;; Every occurrence of the `count` needles described at `table` (four i32 each: offset of its
  ;; folded units, length, word start, word end) in the `len` folded units at `folded`, overlapping
  ;; ones too; with word start/end set, only where the ORIGINAL text at `text` has no letter or
  ;; digit right before / right after. Candidates come from Teddy over the narrowed folded bytes at
  ;; `bytes` (needle k in bucket k mod 8, `tables` built for that); `cand` has room for `cap`
  ;; candidate pairs. Writes (start, needle index) pairs to `out`, in text order (needles in
  ;; bucket order at one start); returns their number, or -1 when more than `cap` would be needed.
  (func (export "searchAll")
    (param $folded i32) (param $text i32) (param $len i32) (param $bytes i32) (param $tables i32)
    (param $table i32) (param $count i32) (param $cand i32) (param $out i32) (param $cap i32) (result i32)
    (local $nc i32) (local $c i32) (local $p i32) (local $bits i32) (local $k i32) (local $row i32)
    (local $nlen i32) (local $needle i32) (local $at i32) (local $j i32) (local $n i32) (local $pair i32)
    (local.set $nc (call $teddy (local.get $bytes) (local.get $len) (local.get $tables) (local.get $cand) (local.get $cap)))
    (if (i32.lt_s (local.get $nc) (i32.const 0)) (then (return (i32.const -1))))
    (block $done
      (loop $next_candidate
        (br_if $done (i32.ge_s (local.get $c) (local.get $nc)))
        (local.set $p (i32.load (i32.add (local.get $cand) (i32.shl (local.get $c) (i32.const 3)))))
        (local.set $bits (i32.load offset=4 (i32.add (local.get $cand) (i32.shl (local.get $c) (i32.const 3)))))
        (local.set $at (i32.add (local.get $folded) (i32.shl (local.get $p) (i32.const 1))))
        (block $bits_done
          (loop $next_bucket
            (br_if $bits_done (i32.eqz (local.get $bits)))
            (local.set $k (i32.ctz (local.get $bits)))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (block $bucket_done
              (loop $next_needle
                (br_if $bucket_done (i32.ge_s (local.get $k) (local.get $count)))
                (local.set $row (i32.add (local.get $table) (i32.shl (local.get $k) (i32.const 4))))
                (local.set $needle (i32.load (local.get $row)))
                (local.set $nlen (i32.load offset=4 (local.get $row)))
                (block $miss
                  (br_if $miss (i32.gt_s (i32.add (local.get $p) (local.get $nlen)) (local.get $len)))
                  (local.set $j (i32.const 0))
                  (block $whole
                    (loop $more
                      (br_if $whole (i32.ge_u (local.get $j) (local.get $nlen)))
                      (br_if $miss (i32.ne
                        (i32.load16_u (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 1))))
                        (i32.load16_u (i32.add (local.get $needle) (i32.shl (local.get $j) (i32.const 1))))))
                      (local.set $j (i32.add (local.get $j) (i32.const 1)))
                      (br $more)))
                  ;; A letter or digit right before or right after in the original: not on a word boundary.
                  (if (i32.and (i32.load offset=8 (local.get $row)) (i32.gt_s (local.get $p) (i32.const 0)))
                    (then
                      (br_if $miss (i32.load8_u (i32.add (i32.const 131072)
                        (i32.load16_u (i32.add (local.get $text)
                          (i32.shl (i32.sub (local.get $p) (i32.const 1)) (i32.const 1)))))))))
                  (if (i32.and (i32.load offset=12 (local.get $row))
                        (i32.lt_s (i32.add (local.get $p) (local.get $nlen)) (local.get $len)))
                    (then
                      (br_if $miss (i32.load8_u (i32.add (i32.const 131072)
                        (i32.load16_u (i32.add (local.get $text)
                          (i32.shl (i32.add (local.get $p) (local.get $nlen)) (i32.const 1)))))))))
                  (if (i32.ge_s (local.get $n) (local.get $cap)) (then (return (i32.const -1))))
                  (local.set $pair (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
                  (i32.store (local.get $pair) (local.get $p))
                  (i32.store offset=4 (local.get $pair) (local.get $k))
                  (local.set $n (i32.add (local.get $n) (i32.const 1))))
                (local.set $k (i32.add (local.get $k) (i32.const 8)))
                (br $next_needle)))
            (br $next_bucket)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next_candidate)))
    (local.get $n))

  ;; The unit at `i` of the `len` units at `text`, or 0 past the end.
  (func $unit (param $text i32) (param $len i32) (param $i i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $i) (local.get $len))
      (then (i32.load16_u (i32.add (local.get $text) (i32.shl (local.get $i) (i32.const 1)))))
      (else (i32.const 0))))
  (func $digit (param $c i32) (result i32)
    (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
  (func $space (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 32))
      (i32.or (i32.eq (local.get $c) (i32.const 0xa0)) (i32.eq (local.get $c) (i32.const 0x202f)))))
  (func $word (param $c i32) (result i32)
    (i32.load8_u (i32.add (i32.const 131072) (local.get $c))))

  ;; The end of a run's group starting at `x`: letters and digits with a digit among them, or four
  ;; capitals (A-Z) not followed by a letter or digit; -1 when neither starts at `x`.
  (func $group (param $text i32) (param $len i32) (param $x i32) (result i32)
    (local $y i32) (local $c i32) (local $digits i32) (local $upper i32) (local $l i32)
    (local.set $y (local.get $x))
    (block $end
      (loop $more
        (br_if $end (i32.ge_u (local.get $y) (local.get $len)))
        (local.set $c (i32.load16_u (i32.add (local.get $text) (i32.shl (local.get $y) (i32.const 1)))))
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
          (then (local.set $digits (i32.const 1)))
          (else
            (local.set $l (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)))
            (br_if $end (i32.ge_u (local.get $l) (i32.const 26)))
            (local.set $upper (i32.add (local.get $upper) (i32.eqz (i32.and (local.get $c) (i32.const 32)))))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $more)))
    (if (i32.ge_u (local.get $y) (local.get $len)) (then (local.set $c (i32.const 0))))
    (if (i32.and (local.get $digits) (i32.gt_s (local.get $y) (local.get $x))) (then (return (local.get $y))))
    (if (i32.and (i32.eq (local.get $upper) (i32.const 4)) (i32.eq (i32.sub (local.get $y) (local.get $x)) (i32.const 4)))
      (then (if (i32.eqz (call $word (local.get $c))) (then (return (local.get $y))))))
    (i32.const -1))

  ;; Every number run of the `len` units at `text` (followed by 16 readable bytes), as detect.ts's
  ;; RUN pattern matches them one after the other from each next digit: a digit and the letters
  ;; and digits after it; then, as often as it goes, a separator (one of - . /, one or two spaces,
  ;; a bracket with a space either side or not, a space-dash-space) and a group (see $group);
  ;; then optionally a space or dash and one letter not followed by a letter or digit. Spaces are
  ;; U+0020, U+00A0 and U+202F. Writes (first digit, end) pairs of i32 to `out`; returns their
  ;; number. The caller leaves texts with surrogates to the pattern (its look-aheads read code points).
  (func (export "runs") (param $text i32) (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $n i32) (local $first i32) (local $p i32) (local $q i32) (local $c i32) (local $d i32)
    (local $g i32) (local $mask i32)
    (block $all_done
      (loop $next_run
        ;; The next digit: eight units at a time, then one at a time.
        (block $found
          (block $vectors_done
            (loop $vector
              (br_if $vectors_done (i32.gt_s (i32.add (local.get $i) (i32.const 8)) (local.get $len)))
              (local.set $mask (i16x8.bitmask (i16x8.lt_u
                (i16x8.sub (v128.load (i32.add (local.get $text) (i32.shl (local.get $i) (i32.const 1))))
                  (i16x8.splat (i32.const 48)))
                (i16x8.splat (i32.const 10)))))
              (if (local.get $mask)
                (then
                  (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $mask))))
                  (br $found)))
              (local.set $i (i32.add (local.get $i) (i32.const 8)))
              (br $vector)))
          (loop $scalar
            (br_if $all_done (i32.ge_s (local.get $i) (local.get $len)))
            (br_if $found (call $digit (call $unit (local.get $text) (local.get $len) (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $scalar)))
        (local.set $first (local.get $i))
        (local.set $p (i32.add (local.get $i) (i32.const 1)))
        (block $lead_done
          (loop $lead
            (br_if $lead_done (i32.ge_u (local.get $p) (local.get $len)))
            (local.set $c (i32.load16_u (i32.add (local.get $text) (i32.shl (local.get $p) (i32.const 1)))))
            (br_if $lead_done (i32.and
              (i32.ge_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
              (i32.ge_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 26))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $lead)))
        ;; Separator and group, as long as both are there.
        (block $groups_done
          (loop $next_group
            (local.set $c (call $unit (local.get $text) (local.get $len) (local.get $p)))
            (local.set $q (i32.const -1))
            (if (i32.or (i32.eq (local.get $c) (i32.const 45))
                  (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (local.get $c) (i32.const 47))))
              (then (local.set $q (i32.add (local.get $p) (i32.const 1))))
              (else
                (if (call $space (local.get $c))
                  (then
                    (local.set $d (call $unit (local.get $text) (local.get $len) (i32.add (local.get $p) (i32.const 1))))
                    (if (call $space (local.get $d))
                      (then (local.set $q (i32.add (local.get $p) (i32.const 2))))
                      (else
                        (if (i32.or (i32.eq (local.get $d) (i32.const 40)) (i32.eq (local.get $d) (i32.const 41)))
                          (then
                            (local.set $q (i32.add (local.get $p) (i32.const 2)))
                            (if (call $space (call $unit (local.get $text) (local.get $len) (local.get $q)))
                              (then (local.set $q (i32.add (local.get $q) (i32.const 1))))))
                          (else
                            (if (i32.or (i32.eq (local.get $d) (i32.const 45))
                                  (i32.or (i32.eq (local.get $d) (i32.const 46)) (i32.eq (local.get $d) (i32.const 47))))
                              (then
                                (if (call $space (call $unit (local.get $text) (local.get $len) (i32.add (local.get $p) (i32.const 2))))
                                  (then (local.set $q (i32.add (local.get $p) (i32.const 3))))))
                              (else (local.set $q (i32.add (local.get $p) (i32.const 1))))))))))
                  (else
                    (if (i32.or (i32.eq (local.get $c) (i32.const 40)) (i32.eq (local.get $c) (i32.const 41)))
                      (then
                        (local.set $q (i32.add (local.get $p) (i32.const 1)))
                        (if (call $space (call $unit (local.get $text) (local.get $len) (local.get $q)))
                          (then (local.set $q (i32.add (local.get $q) (i32.const 1)))))))))))
            (br_if $groups_done (i32.lt_s (local.get $q) (i32.const 0)))
            (local.set $g (call $group (local.get $text) (local.get $len) (local.get $q)))
            (br_if $groups_done (i32.lt_s (local.get $g) (i32.const 0)))
            (local.set $p (local.get $g))
            (br $next_group)))
        ;; A trailing letter: `12 A`, `4-b`.
        (local.set $c (call $unit (local.get $text) (local.get $len) (local.get $p)))
        (if (i32.and
              (i32.or (call $space (local.get $c)) (i32.eq (local.get $c) (i32.const 45)))
              (i32.lt_u (i32.sub (i32.or (call $unit (local.get $text) (local.get $len) (i32.add (local.get $p) (i32.const 1))) (i32.const 32))
                (i32.const 97)) (i32.const 26)))
          (then
            (if (i32.eqz (call $word (call $unit (local.get $text) (local.get $len) (i32.add (local.get $p) (i32.const 2)))))
              (then (local.set $p (i32.add (local.get $p) (i32.const 2)))))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))) (local.get $first))
        (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))) (local.get $p))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $i (local.get $p))
        (br $next_run)))
    (local.get $n))
)
