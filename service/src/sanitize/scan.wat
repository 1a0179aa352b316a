;; Known-value scanning for the sanitizer (see knownScan.ts): folding a text and finding folded
;; values in it, one UTF-16 code unit per 16-bit cell. A JavaScript character loop or a search per
;; value costs 2-5 times as much here (measured), and this runs for every text of every request.
;; `npm run wasm` compiles it into scanWasm.ts; a test holds the two in step.
;;
;; Memory: the fold table (u16 per code unit) at 0, the word table (u8 per code unit: letter or
;; digit) at 131072, the "special" table (u8 per code unit: folding it depends on its neighbours,
;; so the caller folds the whole text itself) at 196608; everything after 262144 is the caller's
;; scratch, addressed by the offsets it passes.
(module
  (memory (export "memory") 5)

  ;; Writes the fold of `len` units at `src` to `dst`; returns 1 when a special unit was among them.
  (func (export "fold") (param $src i32) (param $dst i32) (param $len i32) (result i32)
    (local $i i32) (local $end i32) (local $c i32) (local $special i32)
    (local.set $end (i32.shl (local.get $len) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load16_u (i32.add (local.get $src) (local.get $i))))
        (i32.store16 (i32.add (local.get $dst) (local.get $i))
          (i32.load16_u (i32.shl (local.get $c) (i32.const 1))))
        (local.set $special (i32.or (local.get $special)
          (i32.load8_u (i32.add (i32.const 196608) (local.get $c)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (local.get $special))

;; Every start of one `nlen`-unit needle at `needle` in the `len` folded units at `folded`
  ;; (overlapping ones too), in order; with `ws`/`we` set, only where the ORIGINAL text at `text`
  ;; has no letter or digit right before / right after. Writes (start, index) pairs to `out`
  ;; from pair `n` on, at most up to pair `cap`; returns the new pair count, or -1 when full.
  ;; Candidates are found eight units at a time (SIMD compare with the needle's first unit), so
  ;; the folded text must be followed by 16 readable bytes.
  (func $search
    (param $folded i32) (param $text i32) (param $len i32) (param $needle i32) (param $nlen i32)
    (param $ws i32) (param $we i32) (param $index i32) (param $out i32) (param $n i32) (param $cap i32) (result i32)
    (local $i i32) (local $j i32) (local $p i32) (local $last i32) (local $at i32) (local $pair i32)
    (local $mask i32) (local $first v128)
    (if (i32.or (i32.eqz (local.get $nlen)) (i32.gt_s (local.get $nlen) (local.get $len)))
      (then (return (local.get $n))))
    (local.set $first (i16x8.splat (i32.load16_u (local.get $needle))))
    (local.set $last (i32.sub (local.get $len) (local.get $nlen)))
    (block $done
      (loop $block8
        (br_if $done (i32.gt_s (local.get $i) (local.get $last)))
        (local.set $mask (i16x8.bitmask (i16x8.eq
          (v128.load (i32.add (local.get $folded) (i32.shl (local.get $i) (i32.const 1))))
          (local.get $first))))
        (block $block_done
          (loop $candidate
            (br_if $block_done (i32.eqz (local.get $mask)))
            (local.set $p (i32.add (local.get $i) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (br_if $done (i32.gt_s (local.get $p) (local.get $last)))
            (local.set $at (i32.add (local.get $folded) (i32.shl (local.get $p) (i32.const 1))))
            (block $miss
              (local.set $j (i32.const 1))
              (block $whole
                (loop $more
                  (br_if $whole (i32.ge_u (local.get $j) (local.get $nlen)))
                  (br_if $miss (i32.ne
                    (i32.load16_u (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 1))))
                    (i32.load16_u (i32.add (local.get $needle) (i32.shl (local.get $j) (i32.const 1))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $more)))
              ;; A letter or digit right before or right after in the original: not on a word boundary.
              (if (i32.and (local.get $ws) (i32.gt_s (local.get $p) (i32.const 0)))
                (then
                  (br_if $miss (i32.load8_u (i32.add (i32.const 131072)
                    (i32.load16_u (i32.add (local.get $text)
                      (i32.shl (i32.sub (local.get $p) (i32.const 1)) (i32.const 1)))))))))
              (if (i32.and (local.get $we) (i32.lt_s (i32.add (local.get $p) (local.get $nlen)) (local.get $len)))
                (then
                  (br_if $miss (i32.load8_u (i32.add (i32.const 131072)
                    (i32.load16_u (i32.add (local.get $text)
                      (i32.shl (i32.add (local.get $p) (local.get $nlen)) (i32.const 1)))))))))
              (if (i32.ge_s (local.get $n) (local.get $cap)) (then (return (i32.const -1))))
              (local.set $pair (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
              (i32.store (local.get $pair) (local.get $p))
              (i32.store offset=4 (local.get $pair) (local.get $index))
              (local.set $n (i32.add (local.get $n) (i32.const 1))))
            (br $candidate)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $block8)))
    (local.get $n))

  ;; All `count` needles, described at `table` by four i32 each (offset of its units, length,
  ;; word start, word end), one after the other: (start, needle index) pairs in needle order,
  ;; then text order. Returns the number of pairs, or -1 when more than `cap` would be needed.
  (func (export "searchAll")
    (param $folded i32) (param $text i32) (param $len i32) (param $table i32) (param $count i32)
    (param $out i32) (param $cap i32) (result i32)
    (local $k i32) (local $n i32) (local $row i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $row (i32.add (local.get $table) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $n (call $search (local.get $folded) (local.get $text) (local.get $len)
          (i32.load (local.get $row)) (i32.load offset=4 (local.get $row))
          (i32.load offset=8 (local.get $row)) (i32.load offset=12 (local.get $row))
          (local.get $k) (local.get $out) (local.get $n) (local.get $cap)))
        (br_if $done (i32.lt_s (local.get $n) (i32.const 0)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $n))
)
