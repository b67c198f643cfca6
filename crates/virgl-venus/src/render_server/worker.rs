//! A context worker: serves one Venus context's socket (the context ops) by driving an
//! in-process [`VenusContext`] (through the `Context` trait), in a forked process or a thread.
//!
//! As upstream's `render_context`, the worker exits on the first request it cannot serve (a
//! malformed packet, a failed command stream, a fence on a ring it has no timeline for): the
//! proxy sees the connection close and marks the context broken. Requests with replies that
//! fail for a reason the proxy may expect (an unknown blob id, an unknown resource in
//! `GET_RESOURCE`) are answered with `fd_type = INVALID` instead and the worker carries on.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use virgl_protocol::render_server::{
    ContextRequest, CreateResourceReply, CreateResourceRequest, FdType as WireFdType,
    GetResourceReply, ImportResourceRequest, SubmitFenceRequest, VulkanInfo as WireVulkanInfo,
    SUBMIT_CMD_INLINE_SIZE,
};
use virgl_resource::{
    Backend, BlobFlags, BlobInfo, BlobMem, Context, ContextBlob, FdType, Resource, ResourceTable,
    SharedMemory, VulkanInfo,
};

use super::transport::Channel;
use crate::{VenusBackend, VenusError, CAPSET_VENUS};

/// Most ring timelines a context may ask for (upstream's proxy uses 64).
pub const MAX_TIMELINES: u64 = 1024;

/// What a worker is started with (upstream `render_context_args`).
#[derive(Debug)]
pub struct WorkerArgs {
    pub ctx_id: u32,
    pub name: String,
    /// The client's `RENDER_CLIENT_OP_INIT` flags.
    pub init_flags: u32,
    pub channel: Channel,
}

/// The ring seqno array the proxy polls, and the eventfd that wakes it.
struct Timelines {
    shmem: SharedMemory,
    count: u32,
    eventfd: Option<OwnedFd>,
}

impl Timelines {
    fn store(&self, ring_idx: u32, seqno: u32) {
        debug_assert!(ring_idx < self.count);
        let offset = ring_idx as usize * 4;
        // SAFETY: `ring_idx < count` and `count * 4 <= len` (checked at INIT), the mapping is
        // page-aligned so `offset` is 4-aligned, and it lives as long as `self`. AtomicU32 has
        // the layout of u32; the proxy reads the word atomically too (the C11 atomic_uint of
        // upstream), so the shared access is race-free.
        let word = unsafe { &*(self.shmem.mapping().as_ptr().add(offset) as *const AtomicU32) };
        word.store(seqno, Ordering::Release);
        if let Some(efd) = &self.eventfd {
            // A full counter (EAGAIN) still wakes the reader; nothing else can fail here.
            let _ = nix::unistd::write(efd, &1u64.to_ne_bytes());
        }
    }
}

struct Worker {
    ctx_id: u32,
    name: String,
    channel: Channel,
    context: Option<Box<dyn Context>>,
    table: ResourceTable,
    timelines: Option<Timelines>,
    /// The backend's late image descriptions (binds after the blob, on ring threads).
    bound: Option<std::sync::Arc<crate::BoundImages>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Shut the socket down rather than only closing our fd: in thread mode the server
        // holds a duplicate, and the proxy must see the end of the connection however the
        // worker ends (an error, or a panic unwinding through here).
        self.channel.shutdown();
    }
}

/// Serves the context until the proxy closes the connection (`Ok`) or a request fails.
pub fn run_worker(args: WorkerArgs) -> Result<(), VenusError> {
    let mut worker = Worker {
        ctx_id: args.ctx_id,
        name: args.name,
        channel: args.channel,
        context: None,
        table: ResourceTable::new(),
        timelines: None,
        bound: None,
    };
    // The client's init flags change nothing for a Venus context yet (guest VRAM, the one
    // that would, is not served).
    let _ = args.init_flags;
    let result = worker.run();
    if let Err(e) = &result {
        tracing::error!(ctx_id = worker.ctx_id, error = %e, "render worker stops");
    }
    // Resources before the context: their memory may be the context's.
    for id in worker.table.ids() {
        if let Some(ctx) = worker.context.as_mut() {
            ctx.detach_resource(&mut worker.table, id);
        }
        worker.table.remove(id);
    }
    result
}

/// The context, once INIT created it (a free function so the table stays borrowable).
fn live(context: &mut Option<Box<dyn Context>>) -> Result<&mut Box<dyn Context>, VenusError> {
    context
        .as_mut()
        .ok_or_else(|| invalid("context op before INIT"))
}

fn invalid(msg: impl Into<String>) -> VenusError {
    VenusError::RenderServer(msg.into())
}

impl Worker {
    fn run(&mut self) -> Result<(), VenusError> {
        // One spare byte past the largest request, so oversize packets are caught by size.
        let mut buf = vec![0u8; 8 + SUBMIT_CMD_INLINE_SIZE + 1];
        loop {
            let (len, fds) = self.channel.recv(&mut buf, 2)?;
            if len == 0 {
                return Ok(());
            }
            let request =
                ContextRequest::decode(&buf[..len]).map_err(|e| invalid(e.to_string()))?;
            if fds.len() > request.op().max_fds() {
                return Err(invalid(format!(
                    "{} fds with context op {:?}",
                    fds.len(),
                    request.op()
                )));
            }
            self.dispatch(request, fds)?;
        }
    }

    fn dispatch(&mut self, request: ContextRequest, fds: Vec<OwnedFd>) -> Result<(), VenusError> {
        match request {
            ContextRequest::Nop => Ok(()),
            ContextRequest::Init(req) => self.init(req.flags, req.shmem_size, fds),
            ContextRequest::CreateResource(req) => self.create_resource(&req),
            ContextRequest::ImportResource(req) => self.import_resource(&req, fds),
            ContextRequest::DestroyResource { res_id } => {
                let ctx = live(&mut self.context)?;
                if self.table.get(res_id).is_some() {
                    ctx.detach_resource(&mut self.table, res_id);
                    self.table.remove(res_id);
                }
                Ok(())
            }
            ContextRequest::SubmitCmd(head) => {
                let remaining = head.remaining();
                let mut bytes = head.inline;
                if remaining > 0 {
                    let (rest, _) = self.channel.recv_exact(remaining, 0)?;
                    bytes.extend_from_slice(&rest);
                }
                if !bytes.len().is_multiple_of(4) {
                    return Err(invalid(format!(
                        "command stream of {} bytes is not dword-aligned",
                        bytes.len()
                    )));
                }
                let dwords: Vec<u32> = bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().expect("4-byte chunk")))
                    .collect();
                let ctx = self
                    .context
                    .as_mut()
                    .ok_or_else(|| invalid("SUBMIT_CMD before INIT"))?;
                ctx.submit_cmd(&mut self.table, &dwords)
                    .map_err(|e| invalid(format!("command stream failed: {e}")))
            }
            ContextRequest::SubmitFence(req) => self.submit_fence(&req),
            ContextRequest::GetResource { res_id } => self.get_resource(res_id),
        }
    }

    fn init(&mut self, flags: u32, shmem_size: u64, fds: Vec<OwnedFd>) -> Result<(), VenusError> {
        if self.context.is_some() {
            return Err(invalid("second INIT"));
        }
        if flags & 0xff != CAPSET_VENUS {
            return Err(invalid(format!("context flags {flags:#x} are not Venus")));
        }
        if shmem_size == 0 || !shmem_size.is_multiple_of(4) || shmem_size / 4 > MAX_TIMELINES {
            return Err(invalid(format!("bad timeline shmem size {shmem_size}")));
        }
        let mut fds = fds.into_iter();
        let shmem_fd = fds
            .next()
            .ok_or_else(|| invalid("INIT without a shmem fd"))?;
        let eventfd = fds.next();
        let mut shmem = SharedMemory::from_fd(shmem_fd, shmem_size)
            .map_err(|e| invalid(format!("timeline shmem: {e}")))?;
        shmem.as_mut_slice().fill(0);
        let mut backend = VenusBackend::new()?;
        self.bound = Some(backend.bound_images());
        let context = backend
            .create_context(self.ctx_id, CAPSET_VENUS, &self.name)
            .map_err(|e| VenusError::Host(e.to_string()))?;
        self.context = Some(context);
        self.timelines = Some(Timelines {
            shmem,
            count: (shmem_size / 4) as u32,
            eventfd,
        });
        tracing::debug!(ctx_id = self.ctx_id, name = %self.name, "render context initialised");
        Ok(())
    }

    fn create_resource(&mut self, req: &CreateResourceRequest) -> Result<(), VenusError> {
        let ctx_id = self.ctx_id;
        let info = BlobInfo {
            blob_mem: BlobMem::Host3d,
            blob_flags: BlobFlags::from_bits_truncate(req.blob_flags),
            blob_id: req.blob_id,
            size: req.blob_size,
        };
        let ctx = self
            .context
            .as_mut()
            .ok_or_else(|| invalid("CREATE_RESOURCE before INIT"))?;
        let blob = ctx.get_blob(
            &mut self.table,
            req.res_id,
            req.blob_id,
            req.blob_size,
            info.blob_flags,
        );
        let exported = blob.map_err(|e| e.to_string()).and_then(|blob| {
            let ContextBlob::Memory { memory, .. } = &blob else {
                return Err("the context returned storage, not memory".to_string());
            };
            let (fd_type, fd) = memory.export(req.res_id).map_err(|e| e.to_string())?;
            let reply = CreateResourceReply {
                fd_type: fd_type.raw() as i32,
                map_info: memory.map_info(),
                vulkan_info: memory.vulkan_info().map(wire_vk).unwrap_or_default(),
            };
            let resource = Resource::from_context_blob(req.res_id, info, blob, None)
                .map_err(|e| e.to_string())?
                .with_owner(ctx_id);
            Ok((reply, fd, resource))
        });
        match exported {
            Ok((reply, fd, resource)) => {
                if let Err(e) = self.table.insert(resource) {
                    tracing::warn!(res_id = req.res_id, error = %e, "create_resource");
                    return self.channel.send(&invalid_create_reply(), &[]);
                }
                let _ = self.table.attach(ctx_id, req.res_id);
                let ctx = live(&mut self.context)?;
                ctx.attach_resource(&mut self.table, req.res_id);
                self.channel.send(&reply.to_bytes(), &[fd.as_fd()])
            }
            Err(e) => {
                tracing::warn!(res_id = req.res_id, blob_id = req.blob_id, error = %e, "create_resource failed");
                self.channel.send(&invalid_create_reply(), &[])
            }
        }
    }

    fn import_resource(
        &mut self,
        req: &ImportResourceRequest,
        fds: Vec<OwnedFd>,
    ) -> Result<(), VenusError> {
        let fd = match <[OwnedFd; 1]>::try_from(fds) {
            Ok([fd]) => fd,
            Err(fds) => return Err(invalid(format!("IMPORT_RESOURCE with {} fds", fds.len()))),
        };
        let fd_type = u32::try_from(req.fd_type)
            .ok()
            .and_then(|t| FdType::from_raw(t).ok())
            .filter(|t| *t != FdType::OpaqueHandle)
            .ok_or_else(|| invalid(format!("IMPORT_RESOURCE of fd type {}", req.fd_type)))?;
        // Upstream only logs a failed import; so do we (the guest's later use of the id fails).
        let resource = match Resource::import(req.res_id, BlobMem::Host3d, fd_type, fd, req.size) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(res_id = req.res_id, error = %e, "import_resource failed");
                return Ok(());
            }
        };
        if let Err(e) = self.table.insert(resource) {
            tracing::warn!(res_id = req.res_id, error = %e, "import_resource failed");
            return Ok(());
        }
        let ctx_id = self.ctx_id;
        let _ = self.table.attach(ctx_id, req.res_id);
        let ctx = live(&mut self.context)?;
        ctx.attach_resource(&mut self.table, req.res_id);
        Ok(())
    }

    fn submit_fence(&mut self, req: &SubmitFenceRequest) -> Result<(), VenusError> {
        let count = self.timelines.as_ref().map_or(0, |t| t.count);
        if req.ring_index >= count {
            return Err(invalid(format!(
                "fence on ring {} of {count} timelines",
                req.ring_index
            )));
        }
        let ctx = live(&mut self.context)?;
        ctx.submit_fence(req.flags, req.ring_index, u64::from(req.seqno))
            .map_err(|e| invalid(format!("submit_fence: {e}")))?;
        let signals = ctx.retire_fences();
        let timelines = self.timelines.as_ref().expect("count > 0 means INIT ran");
        for s in signals {
            if s.ring_idx < timelines.count {
                timelines.store(s.ring_idx, s.fence_id as u32);
            }
        }
        Ok(())
    }

    /// GET_RESOURCE: the resource's fd and what is known of the image in it (the image the
    /// guest bound to the memory, see [`crate::images`]; zeros when none is known).
    fn get_resource(&mut self, res_id: u32) -> Result<(), VenusError> {
        live(&mut self.context)?;
        if let Some(bound) = &self.bound {
            bound.apply(&mut self.table);
        }
        let found = self.table.get(res_id).and_then(|res| {
            let (fd_type, fd) = match res.export() {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(res_id, error = %e, "get_resource: not exportable");
                    return None;
                }
            };
            let memory = res.backing().and_then(|b| b.fd_memory());
            let image = res.image;
            Some((
                GetResourceReply {
                    fd_type: fd_type.raw() as i32,
                    width: image.map_or(0, |i| i.width),
                    height: image.map_or(0, |i| i.height),
                    format: image.map_or(0, |i| i.format),
                    stride: image.map_or(0, |i| i.stride),
                    map_info: memory.map_or(0, |m| m.map_info()),
                    vulkan_info: memory
                        .and_then(|m| m.vulkan_info())
                        .map(wire_vk)
                        .unwrap_or_default(),
                },
                fd,
            ))
        });
        match found {
            Some((reply, fd)) => self.channel.send(&reply.to_bytes(), &[fd.as_fd()]),
            None => {
                let reply = GetResourceReply {
                    fd_type: WireFdType::Invalid as i32,
                    ..Default::default()
                };
                self.channel.send(&reply.to_bytes(), &[])
            }
        }
    }
}

fn invalid_create_reply() -> Vec<u8> {
    CreateResourceReply {
        fd_type: WireFdType::Invalid as i32,
        ..Default::default()
    }
    .to_bytes()
}

fn wire_vk(v: &VulkanInfo) -> WireVulkanInfo {
    WireVulkanInfo {
        device_uuid: v.device_uuid,
        driver_uuid: v.driver_uuid,
        allocation_size: v.allocation_size,
        memory_type_index: v.memory_type_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render_server::transport::channel_pair;
    use proptest::prelude::*;

    /// Runs a worker on a thread, sends `packets`, closes; returns what the worker returned.
    fn serve(packets: &[Vec<u8>]) -> Result<(), VenusError> {
        let (ours, theirs) = channel_pair().unwrap();
        let worker = std::thread::spawn(move || {
            run_worker(WorkerArgs {
                ctx_id: 1,
                name: "fuzz".into(),
                init_flags: 0,
                channel: theirs,
            })
        });
        for p in packets {
            // The worker may already have hung up on an earlier packet.
            if ours.send(p, &[]).is_err() {
                break;
            }
        }
        drop(ours);
        worker.join().expect("the worker never panics")
    }

    #[test]
    fn requests_before_init_end_the_worker_cleanly() {
        let get = ContextRequest::GetResource { res_id: 1 }.encode();
        assert!(serve(&[get]).is_err());
        assert!(serve(&[ContextRequest::Nop.encode()]).is_ok());
        // INIT without its shmem fd.
        let init = ContextRequest::Init(virgl_protocol::render_server::ContextInitRequest {
            header: virgl_protocol::render_server::OpHeader,
            flags: CAPSET_VENUS,
            shmem_size: 256,
        })
        .encode();
        assert!(serve(&[init]).is_err());
        assert!(serve(&[vec![0; 300]]).is_err(), "oversized packet");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn hostile_packets_never_panic(
            packets in proptest::collection::vec(
                (0u32..9, proptest::collection::vec(any::<u8>(), 0..300)),
                1..6,
            )
        ) {
            let packets: Vec<Vec<u8>> = packets
                .into_iter()
                .map(|(op, mut body)| {
                    // A valid op number in front most of the time, so decoding goes deeper.
                    let mut p = op.to_le_bytes().to_vec();
                    p.append(&mut body);
                    p
                })
                .collect();
            let _ = serve(&packets);
        }
    }
}
