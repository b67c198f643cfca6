//! Bitstream reading shared by the codec modules: an MSB-first bit reader over a NAL unit's raw
//! bytes that drops emulation-prevention bytes as it goes (and can report positions in both the
//! RBSP and the raw bytes, which VA drivers want in different places), Exp-Golomb codes, and an
//! Annex-B start-code splitter.
//!
//! Everything here reads guest data: every read is bounds-checked and returns
//! [`BitsError::End`] instead of panicking; values that cannot fit the caller's type are
//! reported, never wrapped.

/// Why a bitstream read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BitsError {
    /// The unit ended before the syntax element did.
    End,
    /// An Exp-Golomb code longer than 32 bits (no conforming stream has one).
    GolombTooLong,
}

impl std::fmt::Display for BitsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::End => f.write_str("bitstream ends inside a header"),
            Self::GolombTooLong => f.write_str("Exp-Golomb code longer than 32 bits"),
        }
    }
}

/// MSB-first reader over one NAL unit (or any byte string when `epb` is off).
///
/// With `epb` on, a `0x03` byte that follows two zero bytes is an emulation-prevention byte:
/// it is skipped and not part of the RBSP.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Index of the next raw byte to load.
    raw_pos: usize,
    /// Current byte (already loaded) and how many of its bits are still unread.
    cur: u8,
    cur_left: u32,
    /// Consecutive zero bytes seen before the current one (for EPB detection).
    zeros: u32,
    epb: bool,
    /// RBSP bits consumed so far.
    rbsp_bits: u64,
}

impl<'a> BitReader<'a> {
    /// A reader over `data`; `epb` drops H.264/HEVC emulation-prevention bytes.
    pub(crate) fn new(data: &'a [u8], epb: bool) -> Self {
        Self {
            data,
            raw_pos: 0,
            cur: 0,
            cur_left: 0,
            zeros: 0,
            epb,
            rbsp_bits: 0,
        }
    }

    fn load(&mut self) -> Result<(), BitsError> {
        loop {
            let b = *self.data.get(self.raw_pos).ok_or(BitsError::End)?;
            self.raw_pos += 1;
            if self.epb && self.zeros >= 2 && b == 0x03 {
                self.zeros = 0;
                continue;
            }
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
            self.cur = b;
            self.cur_left = 8;
            return Ok(());
        }
    }

    /// One bit.
    pub(crate) fn bit(&mut self) -> Result<u32, BitsError> {
        if self.cur_left == 0 {
            self.load()?;
        }
        self.cur_left -= 1;
        self.rbsp_bits += 1;
        Ok(u32::from((self.cur >> self.cur_left) & 1))
    }

    /// A flag (`u(1)`).
    pub(crate) fn flag(&mut self) -> Result<bool, BitsError> {
        Ok(self.bit()? == 1)
    }

    /// `u(n)` for `n <= 32`.
    pub(crate) fn u(&mut self, n: u32) -> Result<u32, BitsError> {
        debug_assert!(n <= 32);
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        // n <= 32, so v fits.
        Ok(v as u32)
    }

    /// Skips `n` bits.
    pub(crate) fn skip(&mut self, n: u64) -> Result<(), BitsError> {
        for _ in 0..n {
            self.bit()?;
        }
        Ok(())
    }

    /// `ue(v)`.
    pub(crate) fn ue(&mut self) -> Result<u32, BitsError> {
        let mut zeros = 0u32;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(BitsError::GolombTooLong);
            }
        }
        let rest = u64::from(self.u(zeros)?);
        let v = (1u64 << zeros) - 1 + rest;
        u32::try_from(v).map_err(|_| BitsError::GolombTooLong)
    }

    /// `se(v)`.
    pub(crate) fn se(&mut self) -> Result<i32, BitsError> {
        let k = i64::from(self.ue()?);
        let v = if k & 1 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).map_err(|_| BitsError::GolombTooLong)
    }

    /// Bits of RBSP consumed so far (emulation-prevention bytes not counted).
    pub(crate) fn rbsp_bit_pos(&self) -> u64 {
        self.rbsp_bits
    }

    /// Whether the reader sits on a byte boundary.
    pub(crate) fn byte_aligned(&self) -> bool {
        self.cur_left == 0
    }

    /// Raw bytes consumed so far, counting emulation-prevention bytes, once byte aligned (the
    /// offset of the next unread byte in the raw unit).
    pub(crate) fn raw_byte_pos(&self) -> usize {
        // An emulation-prevention byte right here belongs before the next data byte.
        if self.epb && self.zeros >= 2 && self.data.get(self.raw_pos) == Some(&0x03) {
            self.raw_pos + 1
        } else {
            self.raw_pos
        }
    }
}

/// `Ceil(Log2(n))` as the H.264/HEVC specs use it for fixed-length fields (0 for n <= 1).
pub(crate) fn ceil_log2(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        32 - (n - 1).leading_zeros()
    }
}

/// The NAL units of an Annex-B byte stream: ranges of the bytes after each `00 00 01` start
/// code up to the next start code, with the trailing zero bytes (`trailing_zero_8bits`, the
/// leading zero of a 4-byte start code) removed. Bytes before the first start code are ignored.
pub(crate) fn annexb_units(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut units = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        // The next start code begins 3 bytes before the next unit.
        let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
        while end > s && data[end - 1] == 0 {
            end -= 1;
        }
        if end > s {
            units.push(s..end);
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golomb_and_bits() {
        // 1 | 010 | 011 | 00100 | 00101 -> ue 0, 1, 2, 3; se(00101 = 4) = -2
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&data, false);
        assert_eq!(r.ue().unwrap(), 0);
        assert_eq!(r.ue().unwrap(), 1);
        assert_eq!(r.ue().unwrap(), 2);
        assert_eq!(r.ue().unwrap(), 3);
        assert_eq!(r.se().unwrap(), -2);
        assert_eq!(r.rbsp_bit_pos(), 17);
    }

    #[test]
    fn emulation_prevention_is_skipped_and_counted_apart() {
        let data = [0x00, 0x00, 0x03, 0x01, 0xff];
        let mut r = BitReader::new(&data, true);
        assert_eq!(r.u(24).unwrap(), 1);
        assert_eq!(r.rbsp_bit_pos(), 24);
        assert_eq!(r.raw_byte_pos(), 4);
        assert_eq!(r.u(8).unwrap(), 0xff);
        assert_eq!(r.u(1), Err(BitsError::End));
    }

    #[test]
    fn hostile_golomb_does_not_overflow() {
        let data = [0u8; 16];
        assert_eq!(
            BitReader::new(&data, false).ue(),
            Err(BitsError::GolombTooLong)
        );
        let data = [0u8, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        let mut r = BitReader::new(&data, false);
        assert!(r.ue().is_ok());
    }

    #[test]
    fn annexb_split() {
        let data = [9, 0, 0, 1, 0x65, 1, 2, 0, 0, 0, 1, 0x41, 3, 0, 0, 1];
        let units = annexb_units(&data);
        assert_eq!(units, vec![4..7, 11..13]);
        assert!(annexb_units(&[1, 2, 3]).is_empty());
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(5), 3);
    }
}
