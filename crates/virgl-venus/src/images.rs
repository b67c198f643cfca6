//! Images the guest bound to exportable device memory, on their way to the resource table.
//!
//! Importers of a Venus blob (the GL backend's wide lookup, a render server's `GET_RESOURCE`)
//! need the image inside the memory: size, format, stride. The guest tells the Venus side
//! (vkCreateImage + vkBindImageMemory) but never the GL side unless it sends
//! PIPE_RESOURCE_SET_TYPE. The backend records the image at the bind; a blob created after
//! the bind gets it in [`virgl_resource::ContextBlob::Memory`] directly. Mesa's venus creates
//! the blob of exportable memory right after vkAllocateMemory, though, *before* the bind, and
//! binds usually run on a ring thread that has no access to the resource table. Such late
//! descriptions are queued here and written into the table by whoever holds it next: the
//! Venus context on its next command or blob, the renderer before a GL import, a render
//! worker before answering `GET_RESOURCE`.
//!
//! Not done: images whose layout the driver cannot tell (OPTIMAL tiling) are not described;
//! importers then still need the guest's PIPE_RESOURCE_SET_TYPE. Only 2D images with one
//! plane are described.

use std::collections::HashMap;
use std::sync::Mutex;

use virgl_resource::{ImageDesc, ResourceTable};

/// Image descriptions waiting for their resources (keyed by context and resource id, so a
/// guest rebinding memory replaces its entry instead of growing the queue).
#[derive(Debug, Default)]
pub struct BoundImages {
    pending: Mutex<HashMap<(u32, u32), (u64, ImageDesc)>>,
}

impl BoundImages {
    /// Queues `image` for resource `res_id` of context `ctx_id`, a blob of device memory
    /// `memory_id`.
    pub(crate) fn publish(&self, ctx_id: u32, res_id: u32, memory_id: u64, image: ImageDesc) {
        self.lock().insert((ctx_id, res_id), (memory_id, image));
    }

    /// Forgets what is queued for a context (it is going away).
    pub(crate) fn forget_context(&self, ctx_id: u32) {
        self.lock().retain(|&(ctx, _), _| ctx != ctx_id);
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Writes every queued description into `table`; returns how many resources got one. An
    /// entry applies only to the resource it was made for: the blob of that memory created by
    /// that context (a resource id reused since is left alone). Entries whose resource is gone
    /// are dropped.
    pub fn apply(&self, table: &mut ResourceTable) -> usize {
        let pending = std::mem::take(&mut *self.lock());
        let mut applied = 0;
        for ((ctx_id, res_id), (memory_id, image)) in pending {
            let Some(res) = table.get_mut(res_id) else {
                continue;
            };
            let same =
                res.owner_ctx() == ctx_id && res.blob.is_some_and(|b| b.blob_id == memory_id);
            if same {
                res.image = Some(image);
                applied += 1;
            }
        }
        applied
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u32, u32), (u64, ImageDesc)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The virgl format of the `VkFormat`s a window image or a scanout buffer uses (`None`: not
/// described). Gallium names packed formats by bit order from the least significant bit, Vulkan
/// from the most significant one, hence A2R10G10B10 -> B10G10R10A2.
pub(crate) fn virgl_format(vk_format: i32) -> Option<u32> {
    use virgl_protocol::format::VirglFormat as F;
    let f = match vk_format {
        37 => F::R8G8B8A8_UNORM,
        43 => F::R8G8B8A8_SRGB,
        44 => F::B8G8R8A8_UNORM,
        50 => F::B8G8R8A8_SRGB,
        58 => F::B10G10R10A2_UNORM,
        64 => F::R10G10B10A2_UNORM,
        4 => F::B5G6R5_UNORM,
        _ => return None,
    };
    Some(f as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use virgl_resource::{Backing, BlobFlags, BlobInfo, BlobMem, FdMemory, FdType, Resource};

    fn blob(table: &mut ResourceTable, res_id: u32, owner: u32, memory_id: u64) {
        let mem = virgl_resource::SharedMemory::new("t", 4096).unwrap();
        let fd = mem.try_clone_fd().unwrap();
        let memory = FdMemory::from_fd(FdType::Shm, fd, 4096).unwrap();
        let info = BlobInfo {
            blob_mem: BlobMem::Host3d,
            blob_flags: BlobFlags::MAPPABLE,
            blob_id: memory_id,
            size: 4096,
        };
        let res = Resource::from_context_blob(
            res_id,
            info,
            virgl_resource::ContextBlob::Memory {
                memory,
                image: None,
            },
            None,
        )
        .unwrap()
        .with_owner(owner);
        table.insert(res).unwrap();
        let _: Option<&Backing> = table.get(res_id).unwrap().backing();
    }

    #[test]
    fn descriptions_reach_only_their_blob() {
        let mut table = ResourceTable::new();
        blob(&mut table, 1, 7, 0x10);
        blob(&mut table, 2, 7, 0x20);
        let images = BoundImages::default();
        let desc = ImageDesc {
            width: 4,
            height: 2,
            format: 1,
            stride: 16,
            ..ImageDesc::default()
        };
        images.publish(7, 1, 0x10, desc);
        // Wrong memory for resource 2, wrong context, gone resource: not applied.
        images.publish(7, 2, 0x99, desc);
        images.publish(8, 1, 0x10, desc);
        images.publish(7, 3, 0x30, desc);
        assert_eq!(images.apply(&mut table), 1);
        assert_eq!(table.get(1).unwrap().image, Some(desc));
        assert_eq!(table.get(2).unwrap().image, None);
        assert!(images.is_empty());
        images.publish(7, 2, 0x20, desc);
        images.forget_context(7);
        assert_eq!(images.apply(&mut table), 0);
    }

    #[test]
    fn window_formats_map() {
        assert_eq!(virgl_format(44), Some(1));
        assert_eq!(virgl_format(37), Some(67));
        assert_eq!(virgl_format(58), Some(131));
        assert_eq!(virgl_format(4), Some(7));
        assert_eq!(virgl_format(130), None);
    }
}
