//! [`Records`]: a borrowed, typed view of fixed-size records inside a command payload.

use core::marker::PhantomData;

/// A fixed-size record of a variable-length command (a vertex buffer, a viewport...).
pub trait Record: Sized + Copy {
    /// Dwords per record.
    const DWORDS: usize;
    /// Reads one record from exactly `DWORDS` dwords.
    fn from_dwords(d: &[u32]) -> Self;
    /// Appends the record's dwords.
    fn write(&self, out: &mut Vec<u32>);
}

/// A run of records borrowed from the command buffer; decoding happens on access, so holding one
/// costs nothing and allocates nothing.
pub struct Records<'a, T> {
    raw: &'a [u32],
    _t: PhantomData<T>,
}

impl<T> Clone for Records<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Records<'_, T> {}

impl<T> PartialEq for Records<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<T> Eq for Records<'_, T> {}

impl<'a, T: Record + core::fmt::Debug + 'a> core::fmt::Debug for Records<'a, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Record + 'a> Records<'a, T> {
    /// Views `raw` as records; trailing dwords that do not fill a record are ignored (the
    /// decoders reject such lengths before building a view).
    pub fn new(raw: &'a [u32]) -> Self {
        let whole = raw.len() / T::DWORDS * T::DWORDS;
        Records {
            raw: &raw[..whole],
            _t: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.raw.len() / T::DWORDS
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<T> {
        let start = i.checked_mul(T::DWORDS)?;
        self.raw.get(start..start + T::DWORDS).map(T::from_dwords)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + 'a {
        self.raw.chunks_exact(T::DWORDS).map(T::from_dwords)
    }

    /// The raw dwords.
    pub fn as_dwords(&self) -> &'a [u32] {
        self.raw
    }

    /// Packs records into the dwords [`Records::new`] views (to build commands for encoding).
    pub fn dwords_of(items: &[T]) -> Vec<u32> {
        let mut out = Vec::with_capacity(items.len() * T::DWORDS);
        for item in items {
            item.write(&mut out);
        }
        out
    }
}
