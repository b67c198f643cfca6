//! H.264 reference picture lists (ITU-T H.264 8.2.4) for VA's `RefPicList0/1`: initialisation
//! for frames (8.2.4.2.1, 8.2.4.2.3) and fields (8.2.4.2.2, 8.2.4.2.4 with the parity
//! alternation of 8.2.4.2.5), then the `ref_pic_list_modification()` operations (8.2.4.3).
//!
//! Input is the description's DPB (which fields of which frame are references, short or long
//! term, frame numbers, order counts); output is, per list, `num_ref_idx_lX_active_minus1 + 1`
//! entries naming a frame (frame decoding) or one field of a frame (field decoding), `None`
//! where the list has no picture.

/// A field parity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parity {
    Top,
    Bottom,
}

impl Parity {
    fn other(self) -> Self {
        match self {
            Self::Top => Self::Bottom,
            Self::Bottom => Self::Top,
        }
    }
}

/// One DPB frame as the list construction sees it.
#[derive(Clone, Copy, Debug)]
pub(super) struct DpbFrame {
    /// `FrameNum` for short-term frames, `LongTermFrameIdx` for long-term ones (VA's
    /// `frame_idx`).
    pub frame_idx: u32,
    pub long_term: bool,
    pub top_ref: bool,
    pub bottom_ref: bool,
    pub top_poc: i32,
    pub bottom_poc: i32,
}

impl DpbFrame {
    fn has(&self, p: Parity) -> bool {
        match p {
            Parity::Top => self.top_ref,
            Parity::Bottom => self.bottom_ref,
        }
    }

    /// PicOrderCnt of the frame or of its referenced fields.
    fn entry_poc(&self) -> i32 {
        match (self.top_ref, self.bottom_ref) {
            (true, false) => self.top_poc,
            (false, true) => self.bottom_poc,
            _ => self.top_poc.min(self.bottom_poc),
        }
    }
}

/// A list entry: a DPB index and, for field decoding, the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub frame: usize,
    pub field: Option<Parity>,
}

/// What the slice says about its lists.
pub(super) struct Slice<'a> {
    pub frame_num: u32,
    pub max_frame_num: u32,
    /// `None` for a frame picture, else the parity of the current field.
    pub field: Option<Parity>,
    /// The current picture's order count (the field's, or the frame's minimum).
    pub poc: i32,
    pub b_slice: bool,
    /// Lists the slice uses (1 for P/SP, 2 for B).
    pub lists: usize,
    pub num_active: [usize; 2],
    pub modifications: &'a [Vec<(u32, u32)>; 2],
}

/// The lists, or why the slice's modifications cannot be applied.
pub(super) fn build(dpb: &[DpbFrame], s: &Slice<'_>) -> Result<[Vec<Option<Entry>>; 2], String> {
    let max_frame_num = i64::from(s.max_frame_num);
    let curr = i64::from(s.frame_num);
    let frame_num_wrap = |f: &DpbFrame| {
        let n = i64::from(f.frame_idx);
        if n > curr {
            n - max_frame_num
        } else {
            n
        }
    };
    // Frames eligible: all fields referenced for frame decoding, any for field decoding.
    let eligible = |f: &DpbFrame| match s.field {
        None => f.top_ref && f.bottom_ref,
        Some(_) => f.top_ref || f.bottom_ref,
    };
    let short: Vec<usize> = (0..dpb.len())
        .filter(|&i| eligible(&dpb[i]) && !dpb[i].long_term)
        .collect();
    let mut long: Vec<usize> = (0..dpb.len())
        .filter(|&i| eligible(&dpb[i]) && dpb[i].long_term)
        .collect();
    long.sort_by_key(|&i| dpb[i].frame_idx);

    // Ordered frame lists (refFrameList0ShortTerm / refFrameList1ShortTerm / ...ListLongTerm
    // for fields; the final lists themselves for frames).
    let mut frame_lists: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    if s.b_slice {
        // Fields count a POC equal to the current one (the first field of the same frame) as
        // "before"; frames cannot have one.
        let before_cur = |i: &usize| match s.field {
            None => dpb[*i].entry_poc() < s.poc,
            Some(_) => dpb[*i].entry_poc() <= s.poc,
        };
        let mut before: Vec<usize> = short.iter().copied().filter(|i| before_cur(i)).collect();
        let mut after: Vec<usize> = short.iter().copied().filter(|i| !before_cur(i)).collect();
        before.sort_by_key(|&i| std::cmp::Reverse(dpb[i].entry_poc()));
        after.sort_by_key(|&i| dpb[i].entry_poc());
        frame_lists[0] = before.iter().chain(&after).copied().collect();
        frame_lists[1] = after.iter().chain(&before).copied().collect();
    } else {
        let mut sorted = short.clone();
        sorted.sort_by_key(|&i| std::cmp::Reverse(frame_num_wrap(&dpb[i])));
        frame_lists[0] = sorted;
    }

    let mut init: [Vec<Entry>; 2] = [Vec::new(), Vec::new()];
    for list in 0..s.lists {
        init[list] = match s.field {
            None => frame_lists[list]
                .iter()
                .chain(&long)
                .map(|&frame| Entry { frame, field: None })
                .collect(),
            Some(parity) => {
                let mut v = alternate(dpb, &frame_lists[list], parity);
                v.extend(alternate(dpb, &long, parity));
                v
            }
        };
    }
    if s.lists == 2 && init[1].len() > 1 && init[0] == init[1] {
        init[1].swap(0, 1);
    }

    // Picture numbers for the modification process (8.2.4.1).
    let (max_pic_num, curr_pic_num) = match s.field {
        None => (max_frame_num, curr),
        Some(_) => (2 * max_frame_num, 2 * curr + 1),
    };
    let field_num = |base: i64, e: &Entry| match (s.field, e.field) {
        (Some(cur), Some(f)) if f == cur => 2 * base + 1,
        (Some(_), Some(_)) => 2 * base,
        _ => base,
    };
    // Every picture (frame or field) the modifications may name.
    let mut candidates: Vec<Entry> = Vec::new();
    for (i, f) in dpb.iter().enumerate() {
        if !eligible(f) {
            continue;
        }
        match s.field {
            None => candidates.push(Entry {
                frame: i,
                field: None,
            }),
            Some(_) => {
                for p in [Parity::Top, Parity::Bottom] {
                    if f.has(p) {
                        candidates.push(Entry {
                            frame: i,
                            field: Some(p),
                        });
                    }
                }
            }
        }
    }

    let mut out: [Vec<Option<Entry>>; 2] = [Vec::new(), Vec::new()];
    for list in 0..s.lists {
        let n = s.num_active[list];
        let mut l: Vec<Option<Entry>> = init[list].iter().copied().map(Some).collect();
        l.resize(n + 1, None);
        l.truncate(n + 1);
        let mut pred = curr_pic_num;
        for (ref_idx, &(idc, v)) in s.modifications[list].iter().enumerate() {
            if ref_idx >= n {
                return Err("more list modifications than list entries".into());
            }
            let target = if idc == 2 {
                let lt = i64::from(v);
                candidates
                    .iter()
                    .find(|e| {
                        let f = &dpb[e.frame];
                        f.long_term && field_num(i64::from(f.frame_idx), e) == lt
                    })
                    .copied()
                    .ok_or_else(|| format!("modification names long-term picture {v}"))?
            } else {
                let abs = i64::from(v) + 1;
                let mut no_wrap = if idc == 0 { pred - abs } else { pred + abs };
                if no_wrap < 0 {
                    no_wrap += max_pic_num;
                } else if no_wrap >= max_pic_num {
                    no_wrap -= max_pic_num;
                }
                pred = no_wrap;
                let pn = if no_wrap > curr_pic_num {
                    no_wrap - max_pic_num
                } else {
                    no_wrap
                };
                candidates
                    .iter()
                    .find(|e| {
                        let f = &dpb[e.frame];
                        !f.long_term && field_num(frame_num_wrap(f), e) == pn
                    })
                    .copied()
                    .ok_or_else(|| format!("modification names picture number {pn}"))?
            };
            // Insert at ref_idx, then drop later copies of the same picture (8-37, 8-38).
            l.insert(ref_idx, Some(target));
            let mut kept = ref_idx + 1;
            for c in ref_idx + 1..l.len() {
                if l[c] != Some(target) {
                    l[kept] = l[c];
                    kept += 1;
                }
            }
            l.truncate(kept);
            l.resize(n + 1, None);
        }
        l.truncate(n);
        out[list] = l;
    }
    Ok(out)
}

/// 8.2.4.2.5: fields taken alternately from `frames`, starting with the current parity; when
/// one parity runs out the rest of the other follow in order.
fn alternate(dpb: &[DpbFrame], frames: &[usize], current: Parity) -> Vec<Entry> {
    let fields = |p: Parity| -> Vec<Entry> {
        frames
            .iter()
            .filter(|&&i| dpb[i].has(p))
            .map(|&frame| Entry {
                frame,
                field: Some(p),
            })
            .collect()
    };
    let (same, other) = (fields(current), fields(current.other()));
    let mut out = Vec::with_capacity(same.len() + other.len());
    let (mut a, mut b) = (same.into_iter(), other.into_iter());
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => {
                out.push(x);
                out.push(y);
            }
            (Some(x), None) => {
                out.push(x);
                out.extend(a);
                break;
            }
            (None, Some(y)) => {
                out.push(y);
                out.extend(b);
                break;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(frame_idx: u32, top_poc: i32, bottom_poc: i32) -> DpbFrame {
        DpbFrame {
            frame_idx,
            long_term: false,
            top_ref: true,
            bottom_ref: true,
            top_poc,
            bottom_poc,
        }
    }

    static NONE: [Vec<(u32, u32)>; 2] = [Vec::new(), Vec::new()];

    fn slice<'a>(
        field: Option<Parity>,
        b: bool,
        n: [usize; 2],
        m: &'a [Vec<(u32, u32)>; 2],
    ) -> Slice<'a> {
        Slice {
            frame_num: 3,
            max_frame_num: 16,
            field,
            poc: 8,
            b_slice: b,
            lists: if b { 2 } else { 1 },
            num_active: n,
            modifications: m,
        }
    }

    fn ids(l: &[Option<Entry>]) -> Vec<(usize, Option<Parity>)> {
        l.iter()
            .map(|e| e.map(|e| (e.frame, e.field)).unwrap())
            .collect()
    }

    #[test]
    fn p_fields_alternate_parity_from_frame_num_order() {
        // Frames 0 (fn 1), 1 (fn 2): decoding a bottom field of fn 3.
        let dpb = [frame(1, 2, 3), frame(2, 4, 5)];
        let s = slice(Some(Parity::Bottom), false, [4, 0], &NONE);
        let [l0, _] = build(&dpb, &s).unwrap();
        use Parity::*;
        assert_eq!(
            ids(&l0),
            [
                (1, Some(Bottom)),
                (1, Some(Top)),
                (0, Some(Bottom)),
                (0, Some(Top))
            ]
        );
    }

    #[test]
    fn second_field_sees_its_first_field_and_runs_out_of_a_parity() {
        use Parity::*;
        // Frame 1 is the current frame's first (top) field only, POC 8 = current.
        let mut first = frame(3, 8, 0);
        first.bottom_ref = false;
        let dpb = [frame(2, 4, 5), first];
        // P bottom field: same parity (bottom) first: frame 0's bottom; then top fields by
        // FrameNumWrap descending: frame 1 (fn 3), frame 0 (fn 2).
        let s = slice(Some(Bottom), false, [3, 0], &NONE);
        let [l0, _] = build(&dpb, &s).unwrap();
        assert_eq!(
            ids(&l0),
            [(0, Some(Bottom)), (1, Some(Top)), (0, Some(Top))]
        );
        // B bottom field: the first field (POC == current) counts as "before".
        let s = slice(Some(Bottom), true, [3, 3], &NONE);
        let [l0, l1] = build(&dpb, &s).unwrap();
        assert_eq!(
            ids(&l0),
            [(0, Some(Bottom)), (1, Some(Top)), (0, Some(Top))]
        );
        // L1 = L0 before the swap of its first two entries.
        assert_eq!(
            ids(&l1),
            [(1, Some(Top)), (0, Some(Bottom)), (0, Some(Top))]
        );
    }

    #[test]
    fn field_modification_uses_field_picture_numbers() {
        use Parity::*;
        let dpb = [frame(1, 2, 3), frame(2, 4, 5)];
        // CurrPicNum = 2*3+1 = 7. abs_diff_pic_num_minus1 = 3 -> picNum 3 = 2*1+1: the
        // same-parity (top) field of frame_num 1.
        let m = [vec![(0, 3)], Vec::new()];
        let s = slice(Some(Top), false, [2, 0], &m);
        let [l0, _] = build(&dpb, &s).unwrap();
        assert_eq!(ids(&l0), [(0, Some(Top)), (1, Some(Top))]);
        // picNum 8 does not exist.
        let m = [vec![(1, 0)], Vec::new()];
        assert!(build(&dpb, &slice(Some(Top), false, [2, 0], &m)).is_err());
    }

    #[test]
    fn b_frame_lists_and_identical_list_swap() {
        let dpb = [frame(1, 10, 10), frame(2, 12, 12)];
        // Both after the current POC 8: L0 = L1 = [0, 1] -> L1 swapped.
        let s = slice(None, true, [2, 2], &NONE);
        let [l0, l1] = build(&dpb, &s).unwrap();
        assert_eq!(ids(&l0), [(0, None), (1, None)]);
        assert_eq!(ids(&l1), [(1, None), (0, None)]);
    }

    #[test]
    fn long_term_follow_short_term() {
        let mut lt = frame(0, 0, 0);
        lt.long_term = true;
        let dpb = [lt, frame(2, 4, 5)];
        let s = slice(None, false, [3, 0], &NONE);
        let [l0, _] = build(&dpb, &s).unwrap();
        assert_eq!(
            l0[0],
            Some(Entry {
                frame: 1,
                field: None
            })
        );
        assert_eq!(
            l0[1],
            Some(Entry {
                frame: 0,
                field: None
            })
        );
        assert_eq!(l0[2], None);
    }
}
