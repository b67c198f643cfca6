//! Queries, debug strings and other small commands with a payload struct of their own.

use super::reader::{Reader, Result};
use super::shader::dword_bytes;

/// `GET_QUERY_RESULT_QBO` (6 dwords): write a query result into a buffer object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetQueryResultQbo {
    pub handle: u32,
    pub qbo_handle: u32,
    pub wait: bool,
    /// `pipe_query_value_type`.
    pub result_type: u32,
    pub offset: u32,
    /// Result index; -1 asks for availability.
    pub index: i32,
}

impl GetQueryResultQbo {
    pub const SIZE: usize = 6;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_QUERY_RESULT_QBO_SIZE")?;
        Ok(GetQueryResultQbo {
            handle: r.dw(1),
            qbo_handle: r.dw(2),
            wait: r.dw(3) != 0,
            result_type: r.dw(4),
            offset: r.dw(5),
            index: r.dw(6) as i32,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.qbo_handle,
            self.wait as u32,
            self.result_type,
            self.offset,
            self.index as u32,
        ]);
    }
}

/// `SEND_STRING_MARKER`: a byte length, then the string padded to dwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringMarker<'a> {
    /// String length in bytes (`<= 4 * data.len()`).
    pub len: u32,
    pub data: &'a [u32],
}

impl<'a> StringMarker<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(2, "VIRGL_SEND_STRING_MARKER_MIN_SIZE")?;
        let len = r.dw(1);
        let data = r.tail(2);
        r.check(len as usize <= data.len() * 4, "string_size", len)?;
        Ok(StringMarker { len, data })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.len);
        out.extend_from_slice(self.data);
    }

    /// The marker's bytes (exactly `len` of them).
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        dword_bytes(self.data).take(self.len as usize)
    }
}

/// `SET_DEBUG_FLAGS`: a NUL-padded flag string filling the payload.
///
/// Upstream requires two dwords; Mesa sends one for strings under four bytes, so we accept one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugFlags<'a> {
    pub data: &'a [u32],
}

impl<'a> DebugFlags<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(1, "flag string of at least one dword")?;
        Ok(DebugFlags { data: r.tail(1) })
    }

    /// The string's bytes up to the first NUL.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        dword_bytes(self.data).take_while(|&b| b != 0)
    }
}

/// Packs bytes into little-endian dwords, zero-padding the last one (how guests lay out strings
/// and inline data).
pub fn bytes_to_dwords(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect()
}
