//! `SUBMIT_CMD2`: batch descriptors, their bounds checks, and the syncobj/fd trailer.

use super::{
    check_room, count_u32, malformed, size_of, ExecbufSyncobj, Header, PayloadSize, Reader,
    Request, SubmitBatch, SubmitCmd2, SyncPoint, VcmdId, Writer, SUBMIT_CMD2_BATCH_DWORDS,
    SUBMIT_CMD2_FLAG_IN_FENCE_FD, SYNCOBJ_BYTES,
};
use crate::ProtocolError;

/// Validated layout of one `SUBMIT_CMD2` batch descriptor.
struct BatchDesc {
    flags: u32,
    cmd_offset: usize,
    cmd_size: usize,
    sync_offset: usize,
    sync_count: usize,
    ring_idx: u32,
    num_in_syncobj: u32,
    num_out_syncobj: u32,
}

/// Parses and bounds-checks the batch descriptors of a `SUBMIT_CMD2` body of `len_dw` dwords.
fn submit_cmd2_batches(body: &[u8], len_dw: usize) -> Result<Vec<BatchDesc>, ProtocolError> {
    let id = VcmdId::SubmitCmd2;
    let mut r = Reader::new(body);
    let count = r.u32()? as usize;
    // Every batch needs its 8-dword descriptor inside the body, which also bounds the Vec.
    let needed = count
        .checked_mul(SUBMIT_CMD2_BATCH_DWORDS)
        .and_then(|d| d.checked_add(1))
        .ok_or(malformed(id, "batch count overflows"))?;
    if needed > len_dw {
        return Err(malformed(id, "batch descriptors exceed the payload"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let d = BatchDesc {
            flags: r.u32()?,
            cmd_offset: r.u32()? as usize,
            cmd_size: r.u32()? as usize,
            sync_offset: r.u32()? as usize,
            sync_count: r.u32()? as usize,
            ring_idx: r.u32()?,
            num_in_syncobj: r.u32()?,
            num_out_syncobj: r.u32()?,
        };
        let cmd_end = d.cmd_offset.checked_add(d.cmd_size);
        let sync_end = d
            .sync_count
            .checked_mul(3)
            .and_then(|s| s.checked_add(d.sync_offset));
        if cmd_end.is_none_or(|e| e > len_dw) || sync_end.is_none_or(|e| e > len_dw) {
            return Err(malformed(id, "batch range outside the payload"));
        }
        out.push(d);
    }
    Ok(out)
}

pub(super) fn submit_cmd2_size(
    header: Header,
    prefix: &[u8],
    protocol_version: u32,
    max: usize,
) -> Result<PayloadSize, ProtocolError> {
    let id = VcmdId::SubmitCmd2;
    let body = size_of(id, &[(u64::from(header.len), 4)], max)?;
    if prefix.len() < body {
        return Ok(PayloadSize::AtLeast(body));
    }
    let batches = submit_cmd2_batches(&prefix[..body], header.len as usize)?;
    let mut parts = vec![(1u64, body as u64)];
    for b in &batches {
        if protocol_version >= 4 {
            let syncobjs = u64::from(b.num_in_syncobj) + u64::from(b.num_out_syncobj);
            parts.push((syncobjs, SYNCOBJ_BYTES as u64));
        }
        if b.flags & SUBMIT_CMD2_FLAG_IN_FENCE_FD != 0 {
            parts.push((1, 1));
        }
    }
    size_of(id, &parts, max).map(PayloadSize::Exact)
}

pub(super) fn encode_submit_cmd2(s: &SubmitCmd2, protocol_version: u32) -> Writer {
    // Layout as Mesa's venus client: count, descriptors, all command dwords, all sync points.
    let header_dw = 1 + SUBMIT_CMD2_BATCH_DWORDS * s.batches.len();
    let cmd_dw: usize = s.batches.iter().map(|b| b.cmds.len()).sum();
    let sync_dw: usize = s.batches.iter().map(|b| b.syncs.len() * 3).sum();
    let total = header_dw + cmd_dw + sync_dw;
    let mut w = Writer::header(VcmdId::SubmitCmd2, count_u32(total));
    w.u32(count_u32(s.batches.len()));
    let mut cmd_off = header_dw;
    let mut sync_off = header_dw + cmd_dw;
    for b in &s.batches {
        w.u32(b.flags)
            .u32(count_u32(cmd_off))
            .u32(count_u32(b.cmds.len()))
            .u32(count_u32(sync_off))
            .u32(count_u32(b.syncs.len()))
            .u32(b.ring_idx)
            .u32(count_u32(b.in_syncobjs.len()))
            .u32(count_u32(b.out_syncobjs.len()));
        cmd_off += b.cmds.len();
        sync_off += b.syncs.len() * 3;
    }
    for b in &s.batches {
        b.cmds.iter().for_each(|&c| {
            w.u32(c);
        });
    }
    for b in &s.batches {
        b.syncs.iter().for_each(|p| p.write(&mut w));
    }
    for b in &s.batches {
        if protocol_version >= 4 {
            for o in b.in_syncobjs.iter().chain(&b.out_syncobjs) {
                w.u32(o.handle).u32(o.flags).u64(o.point);
            }
        }
        if b.flags & SUBMIT_CMD2_FLAG_IN_FENCE_FD != 0 {
            w.bytes(&[0]);
        }
    }
    w
}

fn dwords_at(body: &[u8], offset: usize, count: usize) -> Vec<u32> {
    body[offset * 4..(offset + count) * 4]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub(super) fn decode_submit_cmd2(
    header: Header,
    payload: &[u8],
    protocol_version: u32,
) -> Result<Request, ProtocolError> {
    let len_dw = header.len as usize;
    let body_len = len_dw
        .checked_mul(4)
        .filter(|&b| b <= payload.len())
        .ok_or(ProtocolError::Truncated {
            offset: 0,
            needed: len_dw.saturating_mul(4).saturating_sub(payload.len()),
        })?;
    let body = &payload[..body_len];
    let descs = submit_cmd2_batches(body, len_dw)?;
    let mut trailer = Reader::new(&payload[body_len..]);
    let mut batches = Vec::with_capacity(descs.len());
    for d in descs {
        // Ranges were checked against len_dw by submit_cmd2_batches.
        let cmds = dwords_at(body, d.cmd_offset, d.cmd_size);
        let mut sr = Reader::new(&body[d.sync_offset * 4..(d.sync_offset + d.sync_count * 3) * 4]);
        let syncs = (0..d.sync_count)
            .map(|_| SyncPoint::read(&mut sr))
            .collect::<Result<_, _>>()?;
        let (mut in_syncobjs, mut out_syncobjs) = (Vec::new(), Vec::new());
        if protocol_version >= 4 {
            for (n, list) in [
                (d.num_in_syncobj, &mut in_syncobjs),
                (d.num_out_syncobj, &mut out_syncobjs),
            ] {
                check_room(&trailer, n as usize, SYNCOBJ_BYTES)?;
                for _ in 0..n {
                    list.push(ExecbufSyncobj {
                        handle: trailer.u32()?,
                        flags: trailer.u32()?,
                        point: trailer.u64()?,
                    });
                }
            }
        }
        if d.flags & SUBMIT_CMD2_FLAG_IN_FENCE_FD != 0 {
            trailer.take(1)?;
        }
        batches.push(SubmitBatch {
            flags: d.flags,
            cmds,
            syncs,
            ring_idx: d.ring_idx,
            in_syncobjs,
            out_syncobjs,
        });
    }
    Ok(Request::SubmitCmd2(SubmitCmd2 { batches }))
}
